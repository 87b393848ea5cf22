#!/usr/bin/env bash
# Markdown rendering under a budget (issue 12 item 1). Target: any note up to
# MAX_NOTE_SIZE (1 MiB) renders in < 100 ms and < 32 MB — or is refused /
# shown as text within that bound — whatever cmark-gfm does.
#
# Every case of bench/render/render_bench.cpp (ordinary notes at the size limit
# and the known pathological inputs, each ~1 MiB) runs twice in the same run:
#   unbounded  in process, as before (under `timeout $TIMEOUT`: "> N s" when cut)
#   bounded    through IsolatedMarkdown, the server's engine
# reporting time, outcome, HTML bytes and peak memory (the worker's for the
# bounded run). The report goes to stdout and $RESULTS
# (default bench/results/<date>-render-budget.md).
#   bench/render/run.sh
#   TIMEOUT=60 bench/render/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
TIMEOUT=${TIMEOUT:-30}
RESULTS=${RESULTS:-bench/results/$(date -u +%Y-%m-%d)-render-budget.md}
BUILD=build/release
[ -x "$BUILD/starpunk" ] || scripts/setup.sh
ninja -C "$BUILD" starpunk render_bench >/dev/null
BENCH=$BUILD/bench/render_bench

{
  echo "# Markdown render budget — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "$(nproc) CPUs, $(uname -r), cmark-gfm $(dpkg-query -W -f='${Version}' libcmark-gfm0.29.0.gfm.6 2>/dev/null || echo '?')."
  echo "Unbounded: in process, cut at ${TIMEOUT} s. Bounded: IsolatedMarkdown with a write's budget, render::budget_for(size) — 100 ms CPU and 32 MiB whatever the size — time excludes starting the worker. Load average at start: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "| case | input KB | unbounded ms | unbounded peak MB | unbounded HTML KB | bounded outcome | bounded ms | worker peak MB | bounded HTML KB |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for c in $("$BENCH" cases); do
    echo "case $c" >&2
    if u=$(timeout "$TIMEOUT" "$BENCH" inprocess "$c" 2>/dev/null); then
      read -r _ _ _ ums uin uout upeak <<<"$u"
      ums_s=$ums; upeak_s=$(awk "BEGIN{printf \"%.1f\", $upeak/1024}"); uout_s=$((uout / 1024))
    else
      ums_s="> ${TIMEOUT}000"; upeak_s="?"; uout_s="?"; uin=""
    fi
    b=$("$BENCH" isolated "$c" "$PWD/$BUILD/starpunk")
    read -r _ _ bout_come bms bin bout bpeak <<<"$b"
    echo "| $c | $((bin / 1024)) | $ums_s | $upeak_s | $uout_s | $bout_come | $bms | $(awk "BEGIN{printf \"%.1f\", $bpeak/1024}") | $((bout / 1024)) |"
  done
} | tee "$RESULTS"
