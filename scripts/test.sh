#!/usr/bin/env bash
# Sets up and runs the whole test suite: unit tests, end-to-end tests against the
# real binary, and the fuzz seed corpora — first in a release build with
# warnings as errors, then again under AddressSanitizer + UBSan, then every
# fuzz target for FUZZ_SECONDS (60) under libFuzzer (clang) on top of its corpus.
#   scripts/test.sh             # everything
#   scripts/test.sh --quick     # release build only (no sanitizer or fuzz pass)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --deps

JOBS=$(nproc)
# Each step's wall time, printed at the end (docs/reliability.md's ci-duration row).
TIMES=()
trap 'printf "%s\n" "${TIMES[@]}" "$(printf "%-28s %5d s" "total (with set-up)" $SECONDS)"' EXIT
timed() {  # <label> <command...>
  local start=$SECONDS
  "${@:2}"
  TIMES+=("$(printf '%-28s %5d s' "$1" $((SECONDS - start)))")
}
# Unity builds (CMake batches of 8 source files per translation unit): most of
# a file's compile time is the code generated for the templates its headers
# instantiate (nlohmann::json, fmt, spdlog, Result<T>...), once per batch
# instead of once per file — about half the CPU time (docs/architecture.md).
# Names in a .cpp's anonymous namespace must therefore differ from those of
# the files beside it (docs/architecture.md, "Building").
UNITY=(-DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=8)
run_suite() {  # <label> <build dir> <cmake args...>
  local label=$1 dir=$2; shift 2
  cmake -S . -B "$dir" -G Ninja -DSTARPUNK_WERROR=ON "${UNITY[@]}" "$@" >/dev/null
  timed "$label build" ninja -C "$dir"
  timed "$label tests" bash -c "cd '$dir' && ctest --output-on-failure -j $JOBS"
}

echo "== release build =="
run_suite release build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo
if [ "${1:-}" != "--quick" ]; then
  echo "== sanitizer build (ASan + UBSan) =="
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite asan build/asan -DCMAKE_BUILD_TYPE=Debug -DSTARPUNK_SANITIZE=ON
  echo "== fuzzing (clang, libFuzzer + ASan + UBSan), ${FUZZ_SECONDS:-60} s per target =="
  CC=clang-14 CXX=clang++-14 cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${UNITY[@]}" \
    -DSTARPUNK_FUZZ=ON -DSTARPUNK_FUZZ_SECONDS="${FUZZ_SECONDS:-60}" >/dev/null
  timed "fuzz build" ninja -C build/fuzz fuzz_targets
  timed "fuzz runs" bash -c "cd build/fuzz && ctest --output-on-failure -j $JOBS -L fuzz_run"
fi
echo "all test suites passed"
