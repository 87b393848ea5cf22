#!/usr/bin/env bash
# Runs every libFuzzer target (clang-14) for a while, starting from the seed
# corpus in fuzz/corpus/<name>/. New inputs go to build/fuzz/corpus/<name>/ (not
# the repository); crashes are written to build/fuzz/ and fail the script.
#   scripts/fuzz.sh                 # every target, FUZZ_SECONDS (default 60) each
#   scripts/fuzz.sh form multipart  # chosen targets
# Ordinary CI does not fuzz: it replays the seed corpora (ctest -L fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --deps
SECONDS_EACH=${FUZZ_SECONDS:-60}
CC=clang-14 CXX=clang++-14 cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSTARPUNK_FUZZ=ON >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in fuzz/fuzz_*.cpp; do n=$(basename "$f" .cpp); targets+=("${n#fuzz_}"); done
fi
ninja -C build/fuzz $(printf 'fuzz_%s ' "${targets[@]}")
for t in "${targets[@]}"; do
  mkdir -p "build/fuzz/corpus/$t"
  echo "== fuzz_$t for ${SECONDS_EACH}s =="
  (cd build/fuzz && ./fuzz/fuzz_$t -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
     "corpus/$t" "../../fuzz/corpus/$t" 2>&1 | tail -n 12)
done
