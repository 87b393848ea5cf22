#!/usr/bin/env bash
# Micropub create benchmark (SPEC §5, §14): durable create latency through HTTP
# against `starpunk serve`, with a mock token endpoint on loopback.
#   CREATES=500 bench/micropub/run.sh
# Figures: p50/p99/max and rate for sequential form-encoded and JSON creates on
# one keep-alive connection with one (cached) token, and — for information —
# with a fresh token per create (each also asks the token endpoint); baselines
# from the same run: GET /health, GET /micropub?q=config, and the durable create
# in process (storage_bench, when built next to the binary).
# Target: durable create p50 < 10 ms. The report goes to stdout and to $RESULTS
# (default bench/results/<date>-micropub.md). Data lives under $TMPDIR (default
# /var/tmp: a real disk, so the fsyncs cost what they cost).
set -euo pipefail
cd "$(dirname "$0")/../.."
CREATES=${CREATES:-500}
BIN=${STARPUNK_BIN:-build/release/starpunk}
RESULTS=${RESULTS:-bench/results/$(date -u +%F)-micropub.md}
[ -x "$BIN" ] || { echo "no $BIN: build it first (cmake --build build/release)" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/starpunk-micropub-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

{
echo "# Micropub create benchmark, $(date -u '+%F %H:%M') UTC"
echo
echo "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench || echo ' (dirty tree)'),"\
     "$(nproc) CPU(s): $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs),"\
     "load $(cut -d' ' -f1-3 /proc/loadavg) at start, data on $(df -T "$tmp" | awk 'NR==2 {print $2}')"
echo
echo '```'
/usr/bin/python3 bench/micropub/micropub_bench.py "$BIN" "$tmp" "$CREATES"
SB=$(dirname "$BIN")/bench/storage_bench
if [ -x "$SB" ]; then  # the same durable create in process, same disk, same run
  "$SB" create "$tmp/inproc" "$CREATES" | sed -n 's/^create_\(p50\|p99\|max\) /inprocess_create_\1 /p'
fi
echo '```'
} | tee "$tmp/report.md"
/usr/bin/python3 - "$tmp/report.md" >>"$tmp/report.md" <<'PY'
import re, sys
f = {k: float(v) for k, v in re.findall(r"^(\S+) ([\d.]+) ms$", open(sys.argv[1]).read(), re.M)}
print()
print("| | p50 (ms) | p99 (ms) | max (ms) |")
print("|---|---|---|---|")
for k in ("form_create", "json_create", "fresh_token_create", "baseline_health", "baseline_q_config",
          "inprocess_create"):
    if k + "_p50" in f:
        print(f"| {k} | {f[k + '_p50']:.2f} | {f[k + '_p99']:.2f} | {f[k + '_max']:.2f} |")
worst = max(f["form_create_p50"], f["json_create_p50"])
print()
print(f"Target p50 < 10 ms (durable create, cached token): worst {worst:.2f} ms -> {'PASS' if worst < 10 else 'FAIL'}")
PY
sed -n '/^| |/,$p' "$tmp/report.md"
cp "$tmp/report.md" "$RESULTS"
echo "report written to $RESULTS" >&2
