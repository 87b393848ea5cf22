#!/usr/bin/env bash
# Media benchmark (issue 14): memory while a 20 MB upload streams in, time to
# process a 12-megapixel JPEG, /media/ serving against nginx — each with a
# baseline measured in the same run (bench/media/media_bench.py says which).
#   bench/media/run.sh                 ROUNDS=3 DURATION=5 CONNS=16 UPLOADS=5
# Report on stdout and in $RESULTS (default bench/results/<date>-media.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${STARPUNK_BIN:-build/release/starpunk}
RESULTS=${RESULTS:-bench/results/$(date -u +%F)-media.md}
[ -x "$BIN" ] || { echo "no $BIN: build it first" >&2; exit 1; }
for tool in vips wrk nginx taskset; do command -v "$tool" >/dev/null || { echo "$tool missing: scripts/setup.sh --deps" >&2; exit 1; }; done
tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/starpunk-media-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"  # nginx workers (another user) must read the files it serves
{
echo "# Media benchmark, $(date -u '+%F %H:%M') UTC"
echo
echo "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench || echo ' (dirty tree)'),"\
     "$(nproc) CPU(s), load $(cut -d' ' -f1-3 /proc/loadavg) at start"
echo
echo '```'
/usr/bin/python3 bench/media/media_bench.py "$(realpath "$BIN")" "$tmp"
echo '```'
} | tee "$RESULTS"
echo "report written to $RESULTS" >&2
