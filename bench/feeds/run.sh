#!/usr/bin/env bash
# Feeds benchmark (SPEC §14): "constant memory per request whatever the corpus;
# 10,000 notes generate a 50-item feed as fast as 100 notes do".
#
# Two corpora of equally large notes (SMALL=100 and LARGE=10,000 notes of
# NOTE_BYTES=16 KiB Markdown each; 50-item feeds), then:
#   1. in process (bench/feeds/feeds_bench.cpp): FeedService::prepare + every
#      chunk pulled, as the server does, per format: ITERATIONS times with the
#      renderer cache warm (a live site) and COLD_ITERATIONS (10) times cold
#      (every item read from disk and rendered from Markdown each time). Time p50/mean; heap per request (peak live bytes
#      above the level at the start of the request, and bytes allocated),
#      counted by interposing malloc — SQLite, cmark-gfm and gumbo included;
#   2. over HTTP: `starpunk serve` on each corpus (server on SERVER_CPU, wrk on
#      WRK_CPU), /feed.xml and /feed.json with wrk (CONNS connections,
#      DURATION s, ROUNDS rounds alternating which corpus goes first); the
#      server's VmRSS/VmHWM after a warm-up and after all load.
# Verdicts: LARGE/SMALL time ratio (in process p50, HTTP req/s) within
# TOLERANCE (default 0.9..1.1 → "as fast"), and the peak heap per request and
# the server's VmHWM growth under load equal within MEM_TOLERANCE bytes.
#   bench/feeds/run.sh
#   SMALL=100 LARGE=10000 NOTE_BYTES=16384 ITERATIONS=200 ROUNDS=3 DURATION=5 bench/feeds/run.sh
# The report goes to stdout and to $RESULTS (default bench/results/<date>-feeds.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SMALL=${SMALL:-100}
LARGE=${LARGE:-10000}
NOTE_BYTES=${NOTE_BYTES:-16384}
ITERATIONS=${ITERATIONS:-200}
COLD_ITERATIONS=${COLD_ITERATIONS:-10}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
CONNS=${CONNS:-4}
SERVER_CPU=${SERVER_CPU:-0}
WRK_CPU=${WRK_CPU:-1}
TOLERANCE=${TOLERANCE:-0.10}
MEM_TOLERANCE=${MEM_TOLERANCE:-65536}
RESULTS=${RESULTS:-bench/results/$(date -u +%F)-feeds.md}
[ -x build/release/starpunk ] || scripts/setup.sh
ninja -C build/release starpunk feeds_bench >/dev/null
B=build/release/bench/feeds_bench
tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/starpunk-feeds-bench.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
log() { echo "feeds-bench: $*" >&2; }

log "generating corpora ($SMALL and $LARGE notes of ~$NOTE_BYTES bytes)"
$B populate "$tmp/small" "$SMALL" "$NOTE_BYTES" >&2
$B populate "$tmp/large" "$LARGE" "$NOTE_BYTES" >&2
sync

log "in-process measurements"
$B measure "$tmp/small" "$ITERATIONS" "$COLD_ITERATIONS" >"$tmp/inproc-small.txt"
$B measure "$tmp/large" "$ITERATIONS" "$COLD_ITERATIONS" >"$tmp/inproc-large.txt"

status() { awk -v k="$2:" '$1 == k {print $2 * 1024}' "/proc/$1/status"; }  # bytes

declare -A port pid
for corpus in small large; do
  # from $tmp and an empty environment: no ./.env or stray settings apply
  (cd "$tmp" && exec env -i PATH="$PATH" DATA_PATH="$tmp/$corpus" HOST=127.0.0.1 PORT=0 \
     LOG_LEVEL=WARNING SITE_URL=https://bench.example ADMIN_ME=https://bench.example/ \
     SESSION_SECRET=feeds-bench-secret-0123456789abcdef0123456789 taskset -c "$SERVER_CPU" "$ROOT/build/release/starpunk" serve \
     >"$tmp/$corpus.log" 2>&1) &
  pid[$corpus]=$!
  pids+=("${pid[$corpus]}")
done
for corpus in small large; do
  for _ in $(seq 400); do grep -q "listening on" "$tmp/$corpus.log" 2>/dev/null && break; sleep 0.05; done
  port[$corpus]=$(sed -nE 's/.*listening on http:\/\/127\.0\.0\.1:([0-9]+).*/\1/p' "$tmp/$corpus.log" | head -1)
  [ -n "${port[$corpus]}" ] || { cat "$tmp/$corpus.log" >&2; exit 1; }
  echo "$corpus rss_start $(status "${pid[$corpus]}" VmRSS) hwm_start $(status "${pid[$corpus]}" VmHWM)" >>"$tmp/mem.txt"
  # warm-up: the renderer cache fills, SQLite pages are read
  for _ in $(seq 20); do
    for path in /feed.xml /feed.atom /feed.json; do
      curl -sf -o /dev/null "http://127.0.0.1:${port[$corpus]}$path"
    done
  done
  echo "$corpus rss_warm $(status "${pid[$corpus]}" VmRSS) hwm_warm $(status "${pid[$corpus]}" VmHWM)" >>"$tmp/mem.txt"
  curl -sf "http://127.0.0.1:${port[$corpus]}/feed.xml" -o "$tmp/$corpus-feed.xml"
done
[ "$(grep -c '<item>' "$tmp/small-feed.xml")" = 50 ] && [ "$(grep -c '<item>' "$tmp/large-feed.xml")" = 50 ] ||
  { log "a feed does not have 50 items"; exit 1; }

log "HTTP: $ROUNDS rounds x {small, large} x {/feed.xml, /feed.json}, ${DURATION}s each"
for round in $(seq "$ROUNDS"); do
  order="small large"
  [ $((round % 2)) = 0 ] && order="large small"
  for path in /feed.xml /feed.json; do
    for corpus in $order; do
      line=$(taskset -c "$WRK_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -s bench/wrk_summary.lua \
        "http://127.0.0.1:${port[$corpus]}$path" | grep '^BENCH')
      echo "$round $corpus $path $line" >>"$tmp/http.txt"
    done
  done
done
for corpus in small large; do
  echo "$corpus rss_after $(status "${pid[$corpus]}" VmRSS) hwm_after $(status "${pid[$corpus]}" VmHWM)" >>"$tmp/mem.txt"
done

{
echo "# Feeds benchmark, $(date -u '+%F %H:%M') UTC"
echo
echo "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench || echo ' (dirty tree)'),"\
     "$(nproc) CPU(s): $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs),"\
     "load $(cut -d' ' -f1-3 /proc/loadavg) at the end. Corpora: $SMALL and $LARGE published notes of"\
     "~$NOTE_BYTES bytes of Markdown each; FEED_MAX_ITEMS=50. Server on CPU $SERVER_CPU, wrk on CPU $WRK_CPU"\
     "($CONNS connections, ${DURATION}s x $ROUNDS rounds per figure)."
echo
python3 - "$tmp" "$SMALL" "$LARGE" "$TOLERANCE" "$MEM_TOLERANCE" <<'PY'
import re, statistics, sys
tmp, small_n, large_n, tol, mem_tol = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])

def figures(path):
    out = {}
    for line in open(path):
        parts = line.split()
        if len(parts) >= 2:
            try:
                out[parts[0]] = float(parts[1])
            except ValueError:
                pass
    return out

small, large = figures(f"{tmp}/inproc-small.txt"), figures(f"{tmp}/inproc-large.txt")
verdicts = []
print("## In process (prepare + all chunks; median over runs)\n")
print(f"| case | {small_n} notes p50 (ms) | {large_n} notes p50 (ms) | ratio | "
      f"peak heap/request {small_n} | peak heap/request {large_n} | allocated/request {small_n} | allocated/request {large_n} | body bytes |")
print("|---|---|---|---|---|---|---|---|---|")
for state in ("warm", "cold"):
    for fmt in ("rss", "atom", "json"):
        k = f"{state}_{fmt}"
        ratio = large[k + "_p50"] / small[k + "_p50"]
        print(f"| {k} | {small[k + '_p50']:.3f} | {large[k + '_p50']:.3f} | {ratio:.2f} | "
              f"{int(small[k + '_peak_heap']):,} | {int(large[k + '_peak_heap']):,} | "
              f"{int(small[k + '_allocated']):,} | {int(large[k + '_allocated']):,} | {int(large[k + '_body']):,} |")
        verdicts.append((f"in-process {k} time ratio {ratio:.2f}", abs(ratio - 1) <= tol))
        d = abs(large[k + "_peak_heap"] - small[k + "_peak_heap"])
        verdicts.append((f"in-process {k} peak heap differs by {int(d):,} B", d <= mem_tol))

print("\n## HTTP (wrk; req/s median over rounds)\n")
rows = {}
for line in open(f"{tmp}/http.txt"):
    rnd, corpus, path, _, *kv = line.split()
    f = dict(x.split("=") for x in kv)
    rows.setdefault((path, corpus), []).append(f)
print(f"| path | corpus | req/s (median) | req/s per round | p50 ms | p99 ms | errors |")
print("|---|---|---|---|---|---|---|")
med = {}
for (path, corpus), fs in sorted(rows.items()):
    rps = [float(f["rps"]) for f in fs]
    med[(path, corpus)] = statistics.median(rps)
    errs = sum(int(f[k]) for f in fs for k in f if k.startswith("err_"))
    p50 = statistics.median(int(f["p50_us"]) for f in fs) / 1000
    p99 = statistics.median(int(f["p99_us"]) for f in fs) / 1000
    label = small_n if corpus == "small" else large_n
    print(f"| {path} | {label} notes | {med[(path, corpus)]:.0f} | {', '.join(f'{r:.0f}' for r in rps)} | "
          f"{p50:.2f} | {p99:.2f} | {errs} |")
    verdicts.append((f"HTTP {path} {label} notes: {errs} errors", errs == 0))
for path in sorted({p for p, _ in rows}):
    ratio = med[(path, "large")] / med[(path, "small")]
    print(f"\n{path}: {large_n}/{small_n} req/s ratio **{ratio:.2f}**")
    verdicts.append((f"HTTP {path} req/s ratio {ratio:.2f}", abs(ratio - 1) <= tol))

print("\n## Server memory (bytes)\n")
mem = {}
for line in open(f"{tmp}/mem.txt"):
    p = line.split()
    mem.setdefault(p[0], {}).update({p[i]: int(p[i + 1]) for i in range(1, len(p), 2)})
print("| corpus | VmHWM at start (no feed yet) | VmHWM after warm-up (60 feeds) | VmHWM after load | VmRSS after load | growth since start |")
print("|---|---|---|---|---|---|")
growth = {}
for corpus in ("small", "large"):
    m = mem[corpus]
    growth[corpus] = m["hwm_after"] - m["hwm_start"]
    label = small_n if corpus == "small" else large_n
    print(f"| {label} notes | {m['hwm_start']:,} | {m['hwm_warm']:,} | {m['hwm_after']:,} | {m['rss_after']:,} | {growth[corpus]:,} |")
print(f"\nPeak RSS growth from serving feeds (start -> after load): {growth['small']:,} bytes with {small_n} notes, "
      f"{growth['large']:,} bytes with {large_n} notes. (A difference already present at start comes from start-up "
      f"work on the bigger database — recovery's file listing, SQLite pages — not from feeds.)")

print("\n## Verdicts\n")
for text, ok in verdicts:
    print(f"- {'PASS' if ok else 'FAIL'}: {text}")
print(f"\nOVERALL: {'PASS' if all(ok for _, ok in verdicts) else 'FAIL'} "
      f"(time ratios within ±{tol:.0%}, peak heap per request within {mem_tol:,} bytes)")
PY
} | tee "$tmp/report.md"
mkdir -p "$(dirname "$RESULTS")"
cp "$tmp/report.md" "$RESULTS"
log "report written to $RESULTS"
