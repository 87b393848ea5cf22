#!/usr/bin/env bash
# Fuzzing (issue 17): every libFuzzer target for SECONDS_PER_TARGET (60; 3600 =
# the long run) on top of its seed corpus, JOBS (nproc) at a time, in a clang
# build (build/fuzz). Exit 0 only with 0 crashes, leaks and timeouts. Fills its
# row of docs/reliability.md (RECORD=0 to skip). See bench/README.md.
#   bench/reliability/fuzz.sh
#   SECONDS_PER_TARGET=3600 bench/reliability/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
exec /usr/bin/python3 bench/reliability/fuzz.py "$@"
