#!/usr/bin/env bash
# Crashes (issue 17): SIGKILL at 100 random instants of a note writer
# (tests/crash/crash_kill9.py), 1,000 with LONG=1, and at each file-system call
# of create/update/delete/restore/purge in turn (tests/crash/crash_steps.py,
# needs strace); after each kill, start-up recovery and verify. Uses the
# release build's writer (ninja -C build/release starpunk_crash_writer).
# Fills its rows of docs/reliability.md (RECORD=0 to skip). Exit status 0 only
# when every run passed.
#   bench/reliability/crash.sh
#   LONG=1 bench/reliability/crash.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
exec /usr/bin/python3 bench/reliability/crash.py "$@"
