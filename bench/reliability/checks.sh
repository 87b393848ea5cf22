#!/usr/bin/env bash
# The figures behind CI's pass/fail checks (issue 17): the fault-injecting
# filesystem's unit tests, the fuzz corpus replay, the hostile-input browser
# test and the route crawl, each run as CI runs it, with its counts recorded.
# Needs build/release (scripts/test.sh) and node_modules (npm ci). Fills its
# rows of docs/reliability.md (RECORD=0 to skip); about 2 minutes.
#   bench/reliability/checks.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
exec /usr/bin/python3 bench/reliability/checks.py "$@"
