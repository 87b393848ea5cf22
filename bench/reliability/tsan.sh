#!/usr/bin/env bash
# The concurrent parts under ThreadSanitizer (issue 17): builds tsan_tests in
# build/release (tests/CMakeLists.txt: the server, connection pool, render
# workers, caches, metrics buffer and note writes compiled with
# -fsanitize=thread, their unit tests and tests/unit/test_tsan_stress.cpp),
# runs them (CTest `tsan`, one process; TSAN_OPTIONS halt_on_error=1, so any report
# fails its test) and counts the reports. Exit status 0 only with every test
# passed and 0 reports. Fills the `sanitizers-tsan` row of docs/reliability.md
# (RECORD=0 to skip). BUILD_DIR (build/release) and JOBS (2) may be set.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build/release}
JOBS=${JOBS:-2}
COMMIT=$(/usr/bin/python3 -c 'import sys; sys.path.insert(0, "bench/reliability"); from common import git_commit; print(git_commit("."))')
DATE=$(date -u '+%Y-%m-%d %H:%M')
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

cmake -S . -B "$BUILD_DIR" -G Ninja -DSTARPUNK_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
start=$(date +%s)
ninja -C "$BUILD_DIR" -j "$JOBS" tsan_tests
built=$(date +%s)

out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
# -V: GoogleTest's own summary ("[  PASSED  ] 184 tests.") and any report.
(cd "$BUILD_DIR" && ctest -L tsan -j "$JOBS" -V) >"$out" 2>&1 || status=$?
finished=$(date +%s)
grep -E '\[  (PASSED|FAILED)  \]|WARNING: ThreadSanitizer|SUMMARY: ThreadSanitizer|tests passed' "$out" || true

passed=$( (grep -Eo '\[  PASSED  \] [0-9]+ test' "$out" || true) | (grep -Eo '[0-9]+' || true) | awk '{s += $1} END {print s + 0}')
failed=$( (grep -Eo '\[  FAILED  \] [0-9]+ test' "$out" || true) | (grep -Eo '[0-9]+' || true) | awk '{s += $1} END {print s + 0}')
reports=$(grep -c 'WARNING: ThreadSanitizer' "$out" || true)

verdict=FAIL
if [ "$status" -eq 0 ] && [ "$failed" = 0 ] && [ "$reports" = 0 ] && [ "$passed" -gt 0 ]; then verdict=PASS; fi
result="$verdict: $reports ThreadSanitizer reports; $passed tests passed, $failed failed ($(( finished - built )) s; tsan_tests built in $(( built - start )) s, ccache as it was)"
[ "$status" -eq 0 ] || result="$result; ctest exit $status"
echo "$result"
if [ "${RECORD:-1}" != 0 ]; then
  /usr/bin/python3 - "$COMMIT" "$DATE" "$result" <<'EOF'
import sys
sys.path.insert(0, "bench/reliability")
from record import record
commit, date, result = sys.argv[1:4]
record([{"id": "sanitizers-tsan", "kind": "CI",
         "figure": "Sanitizers: server, pool, caches, metrics buffer and note writes under TSan, 0 reports",
         "command": "bench/reliability/tsan.sh", "result": result}], commit=commit, date=date)
EOF
fi
echo "OVERALL: $verdict"
[ "$verdict" = PASS ]
