#!/usr/bin/env bash
# Storage benchmark (issue 3). Figures:
#   * durable create (file fsync'd, directory fsync'd, row committed) p50/p99/throughput;
#   * start-up recovery and `check` on a corpus of N notes (default 100,000);
#   * `starpunk serve` start-up time to "listening" on that corpus.
# Targets: create p50 < 10 ms; start-up < 1 s with 100,000 notes.
#   CREATES=500 NOTES=100000 bench/storage/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
CREATES=${CREATES:-500}
NOTES=${NOTES:-100000}
[ -x build/release/starpunk ] || scripts/setup.sh
ninja -C build/release storage_bench >/dev/null
B=build/release/bench/storage_bench
tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/starpunk-storage-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "== durable create x $CREATES (on $(df -P "$tmp" | awk 'NR==2{print $1}')) =="
$B create "$tmp/create" "$CREATES"

echo "== corpus of $NOTES notes =="
$B populate "$tmp/big" "$NOTES"
sync
$B recover "$tmp/big"
$B check "$tmp/big"

echo "== starpunk serve start-up on $NOTES notes (time to listening) =="
for i in 1 2 3; do
  start=$(date +%s.%N)
  DATA_PATH="$tmp/big" DEV_MODE=true PORT=0 LOG_LEVEL=WARNING build/release/starpunk serve 2>"$tmp/serve.log" &
  pid=$!
  until grep -q "listening on" "$tmp/serve.log" 2>/dev/null; do sleep 0.005; done
  end=$(date +%s.%N)
  kill -TERM $pid; wait $pid || true
  echo "startup_run$i $(echo "($end - $start) * 1000" | bc) ms"
done
