#!/usr/bin/env bash
# Runs libFuzzer targets (clang-14, ASan + UBSan) for a while on top of the seed
# corpus in fuzz/corpus/<name>/ (only read; new inputs go to a scratch
# directory); a crash, leak or timeout leaves its input under
# build/fuzz/fuzz/artifacts/ and fails the script. bench/reliability/fuzz.py
# does the work; this never writes docs/reliability.md unless RECORD=1.
#   scripts/fuzz.sh                 # every target, FUZZ_SECONDS (default 60) each
#   scripts/fuzz.sh form multipart  # chosen targets
# CI fuzzes every target for 60 s (scripts/test.sh's third pass) and replays
# the seed corpora in its other passes (ctest -L fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --deps
SECONDS_PER_TARGET=${FUZZ_SECONDS:-60} RECORD=${RECORD:-0} exec /usr/bin/python3 bench/reliability/fuzz.py "$@"
