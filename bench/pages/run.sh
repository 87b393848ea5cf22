#!/usr/bin/env bash
# Pages off the page cache (issue 11): random permalinks, random /?page=N and
# random /tag/<tag>?page=N over NOTES (10,000) notes, StarPunk against nginx
# serving exactly the same bytes, in the same run, on loopback.
#
#   bench/pages/run.sh                         # ~5 minutes after the first set-up
#   NOTES=2000 DURATION=3 bench/pages/run.sh   # quicker
#
# For each scenario and connection count: StarPunk right after a restart
# ("cold": empty memory caches), StarPunk again ("warm"), then nginx. Servers on
# SERVER_CPU, wrk on WRK_CPU (taskset). The verdict is warm req/s ÷ nginx req/s
# (target ≥ 0.5) and p99 (target ≤ 2 ms). Resident memory of the server after
# each scenario is reported (the largest), right after the last request and 3 s
# later. The notes are generated once per NOTES and kept in
# $CACHE (import fsyncs every note: ~2 minutes for 10,000); tags are added with
# SQL into migration 006's tables (import has no tag syntax): each note gets
# 2 of 20 tags.
#
# Settings: NOTES=10000 CONNS="16 64" DURATION=5 SCENARIOS="note page tag"
#   PAGE_CACHE_SIZE (the server's setting; default its own 16M)
#   SERVER_CPU=0 WRK_CPU=1 STARPUNK_BIN=build/release/starpunk
#   CACHE=/tmp/starpunk-bench-pages RESULTS=bench/results/<date>-pages.md
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
NOTES=${NOTES:-10000}
CONNS=${CONNS:-"16 64"}
DURATION=${DURATION:-5}
SCENARIOS=${SCENARIOS:-"note page tag"}
SERVER_CPU=${SERVER_CPU:-0}
WRK_CPU=${WRK_CPU:-1}
STARPUNK_BIN=${STARPUNK_BIN:-$ROOT/build/release/starpunk}
CACHE=${CACHE:-/tmp/starpunk-bench-pages}
RESULTS=${RESULTS:-$ROOT/bench/results/$(date -u +%Y-%m-%d)-pages.md}
PER_PAGE=20
TAGS=20
WORK=$(mktemp -d)
PIDS=()
log() { echo "pages: $*" >&2; }
die() { log "error: $*"; exit 1; }
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_http() {
  for _ in $(seq 150); do
    kill -0 "$2" 2>/dev/null || return 1
    curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# ------------------------------------------------------------ the notes (cached)
DATA="$CACHE/$NOTES/data"
if [ ! -f "$CACHE/$NOTES/ready" ]; then
  log "generating and importing $NOTES notes into $DATA (once)"
  rm -rf "$CACHE/$NOTES" && mkdir -p "$CACHE/$NOTES/import"
  python3 - "$CACHE/$NOTES/import" "$NOTES" <<'PY'
import os, random, sys
out, n = sys.argv[1], int(sys.argv[2])
random.seed(11)
words = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut "
         "labore et dolore magna aliqua enim minim veniam quis nostrud exercitation").split()
for i in range(1, n + 1):
    body = " ".join(random.choice(words) for _ in range(random.randint(30, 150)))
    with open(f"{out}/note-{i}.md", "w") as f:
        f.write(f"# Note {i}\n\nSome *text* with a [link](https://example.com/{i}) and `code`.\n\n{body}\n")
    t = 1600000000 + i * 3600
    os.utime(f"{out}/note-{i}.md", (t, t))
PY
  (cd "$CACHE/$NOTES" && env -i PATH="$PATH" HOME="$CACHE" DATA_PATH="$DATA" "$STARPUNK_BIN" import "$CACHE/$NOTES/import" >/dev/null 2>&1) ||
    die "import failed"
  sqlite3 "$DATA/starpunk.db" <<SQL
BEGIN;
WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < $TAGS)
INSERT OR IGNORE INTO tags (name, display_name) SELECT 'topic' || i, 'Topic ' || i FROM k;
INSERT OR IGNORE INTO note_tags (note_id, tag_id, position)
  SELECT n.id, t.id, 0 FROM notes n JOIN tags t ON t.name = 'topic' || (1 + n.id % $TAGS);
INSERT OR IGNORE INTO note_tags (note_id, tag_id, position)
  SELECT n.id, t.id, 1 FROM notes n JOIN tags t ON t.name = 'topic' || (1 + (n.id * 7 + 3) % $TAGS);
COMMIT;
SQL
  touch "$CACHE/$NOTES/ready"
fi
PAGES=$(( (NOTES + PER_PAGE - 1) / PER_PAGE ))

# ------------------------------------------------------------ servers
SP_PORT=$(free_port)
# A site that has run once has every note's rendering stored (the import
# wrote none; the server's start-up pass renders them): do that once on the
# cached data, so "cold" below is a restart, not a first start after import.
stored=$(sqlite3 "$DATA/starpunk.db" "SELECT count(*) FROM note_html")
if [ "$stored" -lt "$NOTES" ]; then
  log "rendering the imported notes once ($stored of $NOTES stored), as on a site that has run"
  (cd "$CACHE/$NOTES" && exec env -i PATH="$PATH" HOME="$CACHE" DEV_MODE=true HOST=127.0.0.1 PORT="$SP_PORT" \
      DATA_PATH="$DATA" LOG_LEVEL=WARNING "$STARPUNK_BIN" serve >"$WORK/first.log" 2>&1) &
  FIRST_PID=$!
  PIDS+=("$FIRST_PID")
  for _ in $(seq 1200); do
    [ "$(sqlite3 "$DATA/starpunk.db" "SELECT count(*) FROM note_html")" -ge "$NOTES" ] && break
    kill -0 "$FIRST_PID" 2>/dev/null || { cat "$WORK/first.log" >&2; die "starpunk stopped while rendering"; }
    sleep 1
  done
  kill "$FIRST_PID"; wait "$FIRST_PID" 2>/dev/null || true
fi
start_starpunk() {  # a fresh process on a copy of the data: memory caches empty
  rm -rf "$WORK/sp" && mkdir -p "$WORK/sp" && cp -a "$DATA" "$WORK/sp/data"
  (cd "$WORK/sp" && exec env -i PATH="$PATH" HOME="$WORK/sp" DEV_MODE=true HOST=127.0.0.1 PORT="$SP_PORT" \
      DATA_PATH="$WORK/sp/data" LOG_LEVEL=WARNING ${PAGE_CACHE_SIZE:+PAGE_CACHE_SIZE=$PAGE_CACHE_SIZE} taskset -c "$SERVER_CPU" "$STARPUNK_BIN" serve >"$WORK/sp.log" 2>&1) &
  SP_PID=$!
  PIDS+=("$SP_PID")
  wait_http "http://127.0.0.1:$SP_PORT/health" "$SP_PID" || { cat "$WORK/sp.log" >&2; die "starpunk did not start"; }
}
stop_starpunk() { kill "$SP_PID" 2>/dev/null || true; wait "$SP_PID" 2>/dev/null || true; }

start_starpunk
log "crawling every page into nginx's root"
NG="$WORK/nginx"
mkdir -p "$NG/root/note" "$NG/root/pages" "$NG/root/tag" "$NG/tmp" "$NG/logs"
python3 - "$SP_PORT" "$NG/root" "$NOTES" "$PAGES" "$TAGS" "$PER_PAGE" <<'PY'
import http.client, os, sys
port, root, notes, pages, tags, per = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
c = http.client.HTTPConnection("127.0.0.1", int(port))
def get(path, dest):
    c.request("GET", path)
    r = c.getresponse(); body = r.read()
    if r.status != 200: sys.exit(f"{path}: {r.status}")
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(dest, "wb") as f: f.write(body)
for i in range(1, notes + 1): get(f"/note/note-{i}", f"{root}/note/note-{i}")
for p in range(1, pages + 1): get(f"/?page={p}", f"{root}/pages/{p}.html")
for t in range(1, tags + 1):
    tag_pages = ((notes * 2 // tags) + per - 1) // per
    for p in range(1, tag_pages + 1):
        get(f"/tag/topic{t}?page={p}", f"{root}/tag/topic{t}/{p}.html")
PY
stop_starpunk
chmod a+rx "$WORK" && chmod -R a+rX "$NG/root"  # nginx's workers run as nobody when started by root
NG_PORT=$(free_port)
# open_file_cache keeps a descriptor per cached file: stay well inside the
# open-file limit (at 100,000 notes a larger cache made nginx fail with EMFILE).
NG_FILE_CACHE=$(( $(ulimit -n) / 2 < 20000 ? $(ulimit -n) / 2 : 20000 ))
cat >"$NG/nginx.conf" <<NGX
worker_processes 1;
pid $NG/nginx.pid;
error_log $NG/logs/error.log warn;
events { worker_connections 4096; }
http {
    default_type "text/html; charset=utf-8";
    access_log off; sendfile on; tcp_nopush on; tcp_nodelay on;
    open_file_cache max=$NG_FILE_CACHE inactive=60s; open_file_cache_valid 60s;
    keepalive_requests 1000000; server_tokens off;
    client_body_temp_path $NG/tmp/body; proxy_temp_path $NG/tmp/proxy; fastcgi_temp_path $NG/tmp/fastcgi;
    uwsgi_temp_path $NG/tmp/uwsgi; scgi_temp_path $NG/tmp/scgi;
    server {
        listen 127.0.0.1:$NG_PORT;
        root $NG/root;
        location = / { try_files /pages/\$arg_page.html =404; }
        location /note/ { }
        location ~ ^/tag/([a-z0-9]+)\$ { try_files /tag/\$1/\$arg_page.html =404; }
        location = /health { return 200 "ok"; }
    }
}
NGX
taskset -c "$SERVER_CPU" nginx -p "$NG/" -c "$NG/nginx.conf" -g 'daemon off;' >"$NG/logs/out.log" 2>&1 &
NG_PID=$!
PIDS+=("$NG_PID")
wait_http "http://127.0.0.1:$NG_PORT/health" "$NG_PID" || { cat "$NG/logs/error.log" >&2; die "nginx did not start"; }
# nginx's routing gives back exactly what starpunk served for each kind of path.
for pair in "/note/note-7 note/note-7" "/?page=3 pages/3.html" "/tag/topic5?page=2 tag/topic5/2.html"; do
  read -r path file <<<"$pair"
  curl -fsS "http://127.0.0.1:$NG_PORT$path" -o "$WORK/check" || die "nginx does not serve $path"
  cmp -s "$WORK/check" "$NG/root/$file" || die "nginx serves other bytes for $path than starpunk did"
done

# ------------------------------------------------------------ wrk
cat >"$WORK/random.lua" <<LUA
math.randomseed(42)
local kind = os.getenv("KIND")
request = function()
  local path
  if kind == "note" then path = "/note/note-" .. math.random(1, $NOTES)
  elseif kind == "page" then path = "/?page=" .. math.random(1, $PAGES)
  else
    path = "/tag/topic" .. math.random(1, $TAGS) .. "?page=" .. math.random(1, math.floor(($NOTES * 2 / $TAGS + $PER_PAGE - 1) / $PER_PAGE))
  end
  return wrk.format("GET", path)
end
LUA
cat "$HERE/../wrk_summary.lua" >>"$WORK/random.lua"
run_wrk() {  # kind port conns -> "rps p50_us p99_us non2xx"
  local out line
  out=$(KIND=$1 taskset -c "$WRK_CPU" wrk -t1 -c"$3" -d"${DURATION}s" --timeout 5s -s "$WORK/random.lua" "http://127.0.0.1:$2" 2>&1) ||
    { echo "$out" >&2; die "wrk failed"; }
  line=$(grep '^BENCH ' <<<"$out")
  local non2xx
  non2xx=$(grep -o 'Non-2xx or 3xx responses: [0-9]*' <<<"$out" | grep -o '[0-9]*$' || echo 0)
  awk -v n="$non2xx" '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
       END { printf "%.0f %d %d %d\n", v["rps"], v["p50_us"], v["p99_us"], n }' <<<"$line"
}

{
  echo "# Pages off the page cache — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "$NOTES notes ($PAGES home pages, $TAGS tags × $(( (NOTES * 2 / TAGS + PER_PAGE - 1) / PER_PAGE )) pages), random paths, ${DURATION} s per run,"
  echo "server on CPU $SERVER_CPU, wrk on CPU $WRK_CPU; commit $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD || echo ' (dirty)');"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg). Cold = first run after a restart (empty memory caches;"
  echo "renderings stored, as on any site that has run once). Page cache: PAGE_CACHE_SIZE=${PAGE_CACHE_SIZE:-default (16M)}."
  echo
  echo "| scenario | conns | starpunk cold req/s | cold p99 ms | starpunk warm req/s | warm p50 ms | warm p99 ms | nginx req/s | nginx p99 ms | warm ÷ nginx | non-2xx starpunk / nginx |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
} >"$WORK/report.md"
RSS_MAX=0
RSS_FILE=0
RSS_BUSY=0
for kind in $SCENARIOS; do
  for c in $CONNS; do
    log "$kind c=$c"
    start_starpunk
    read -r crps _ cp99 cbad < <(run_wrk "$kind" "$SP_PORT" "$c")
    read -r wrps wp50 wp99 wbad < <(run_wrk "$kind" "$SP_PORT" "$c")
    rss=$(awk '/VmRSS/ { print $2 }' "/proc/$SP_PID/status")
    [ "$rss" -gt "$RSS_BUSY" ] && RSS_BUSY=$rss
    sleep 3  # quiet: the server hands freed heap pages back every 2 s (util/memory_trim.hpp)
    rss=$(awk '/VmRSS/ { print $2 }' "/proc/$SP_PID/status")
    [ "$rss" -gt "$RSS_MAX" ] && RSS_MAX=$rss && RSS_FILE=$(awk '/RssFile/ { print $2 }' "/proc/$SP_PID/status")
    log "$kind c=$c: resident memory 3 s after the last request ${rss} kB"
    stop_starpunk
    read -r nrps _ np99 nbad < <(run_wrk "$kind" "$NG_PORT" "$c")
    awk -v k="$kind" -v c="$c" -v crps="$crps" -v cp99="$cp99" -v wrps="$wrps" -v wp50="$wp50" -v wp99="$wp99" \
        -v nrps="$nrps" -v np99="$np99" -v bad="$((cbad + wbad))" -v nbad="$nbad" 'BEGIN {
      printf "| %s | %s | %d | %.2f | %d | %.2f | %.2f | %d | %.2f | **%.2f** | %d / %d |\n",
             k, c, crps, cp99 / 1000, wrps, wp50 / 1000, wp99 / 1000, nrps, np99 / 1000, wrps / nrps, bad, nbad }' >>"$WORK/report.md"
  done
done
echo >>"$WORK/report.md"
echo "Largest resident memory of StarPunk after a scenario's two runs, 3 s after its last request: $((RSS_MAX / 1024)) MB (of which file-backed — the executable and shared libraries: $((RSS_FILE / 1024)) MB); right after the last request: $((RSS_BUSY / 1024)) MB." >>"$WORK/report.md"
if [ -s "$NG/logs/error.log" ]; then
  echo >>"$WORK/report.md"
  echo "nginx's error log (distinct messages):" >>"$WORK/report.md"
  sed -E 's/^[0-9\/: ]+\[[a-z]+\] [0-9#]+: \*?[0-9]* ?//; s/, client:.*//' "$NG/logs/error.log" | sort | uniq -c | sort -rn |
    sed -n 's/^/    /; 1,5p' >>"$WORK/report.md" || true
fi
cat "$WORK/report.md"
cp "$WORK/report.md" "$RESULTS"
log "report written to $RESULTS"
