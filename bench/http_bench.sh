#!/usr/bin/env bash
# HTTP benchmark: StarPunk vs nginx serving the same bytes, on loopback.
#
#   bench/http_bench.sh                       # full run (~4 minutes)
#   ROUNDS=1 DURATION=2 bench/http_bench.sh   # quick smoke run
#
# Servers (starpunk, and nginx as the reference) are pinned to SERVER_CPU and
# wrk to WRK_CPU. Every scenario (/health and /static/style.css at each
# connection count) runs ROUNDS rounds; a round measures every server once,
# back to back, alternating the order each round, so drift hits all alike. The
# verdict is the median over rounds of starpunk req/s ÷ nginx req/s (same
# round). Then /health on one fresh connection is measured with and without
# IDLE_CONNS idle keep-alive connections held open.
#
# Settings (environment):
#   ROUNDS=3  DURATION=5 (s per wrk run)  WARMUP=1 (s per server, 0 = none)
#   CONNS="16 64"  SCENARIOS="health static home note"  TARGET=0.8
#   feed scenarios (issue 11): feed_rss feed_atom feed_json (GET /feed.xml,
#   /feed.atom, /feed.json) with FEED_TARGET=0.5, and feed_304 (/feed.xml
#   with each server's own ETag in If-None-Match) with FEED_304_TARGET=1.0
#   NOTES=30  NOTE_EXTRA_BYTES=0  (imported notes; extra prose per note)
#   LOG_LEVELS="WARNING INFO"  first = the main comparison, the rest are
#                              informational (INFO logs one line per request)
#   IDLE_CONNS=500  IDLE_P99_MS=1  (IDLE_CONNS=0 skips the idle test)
#   SERVER_CPU=0  WRK_CPU=1  WRK_THREADS=1
#   STARPUNK_WORKERS  (unset: starpunk's default WORKERS)
#   NGINX_HEADERS=match  make nginx send starpunk's cache/security headers too
#                        (similar response size); "plain" = nginx defaults
#   STARPUNK_BIN=build/release/starpunk  NGINX_BIN=nginx
#   RESULTS=bench/results/http-<date>.md   KEEP_TMP=1 keeps the work dir
#
# Output: a markdown report on stdout, also written to $RESULTS. Progress goes
# to stderr. Exit status 0 whether or not targets are met (see OVERALL line);
# non-zero only when the benchmark itself could not run.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
CONNS=${CONNS:-"16 64"}
SCENARIOS=${SCENARIOS:-"health static home note"}
TARGET=${TARGET:-0.8}
FEED_TARGET=${FEED_TARGET:-0.5}
FEED_304_TARGET=${FEED_304_TARGET:-1.0}
NOTES=${NOTES:-30}
NOTE_EXTRA_BYTES=${NOTE_EXTRA_BYTES:-0}
LOG_LEVELS=${LOG_LEVELS:-"WARNING INFO"}
IDLE_CONNS=${IDLE_CONNS:-500}
IDLE_P99_MS=${IDLE_P99_MS:-1}
SERVER_CPU=${SERVER_CPU:-0}
WRK_CPU=${WRK_CPU:-1}
WRK_THREADS=${WRK_THREADS:-1}
NGINX_HEADERS=${NGINX_HEADERS:-match}
STARPUNK_BIN=${STARPUNK_BIN:-$ROOT/build/release/starpunk}
NGINX_BIN=${NGINX_BIN:-$(command -v nginx || echo /usr/sbin/nginx)}
RESULTS=${RESULTS:-$HERE/results/http-$(date +%Y-%m-%d-%H%M%S).md}
KEEP_TMP=${KEEP_TMP:-0}

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- prerequisites
if [ ! -x "$STARPUNK_BIN" ]; then
  [ "$STARPUNK_BIN" = "$ROOT/build/release/starpunk" ] || die "STARPUNK_BIN=$STARPUNK_BIN is not executable"
  log "no $STARPUNK_BIN: running scripts/setup.sh (deps + release build)"
  "$ROOT/scripts/setup.sh" >&2
fi
if ! command -v wrk >/dev/null || [ ! -x "$NGINX_BIN" ]; then
  log "wrk or nginx missing: running scripts/setup.sh --deps"
  "$ROOT/scripts/setup.sh" --deps >&2
fi
for tool in wrk taskset curl python3; do
  command -v "$tool" >/dev/null || die "$tool not found"
done
[ -x "$NGINX_BIN" ] || die "nginx not found ($NGINX_BIN)"
taskset -c "$SERVER_CPU" true 2>/dev/null || die "cannot pin to CPU $SERVER_CPU"
taskset -c "$WRK_CPU" true 2>/dev/null || die "cannot pin to CPU $WRK_CPU"
[ "$SERVER_CPU" != "$WRK_CPU" ] || log "warning: servers and wrk share CPU $SERVER_CPU"
read -r -a LEVELS <<<"$LOG_LEVELS"
[ ${#LEVELS[@]} -ge 1 ] || die "LOG_LEVELS is empty"
MAIN_SERVER="starpunk:${LEVELS[0]}"
if [ "$IDLE_CONNS" -gt 0 ] && [ "$(ulimit -n)" -lt $((IDLE_CONNS + 64)) ]; then
  ulimit -n $((IDLE_CONNS + 1024)) 2>/dev/null || die "ulimit -n $(ulimit -n) is too low for IDLE_CONNS=$IDLE_CONNS"
fi

# ---------------------------------------------------------------- work dir, cleanup
WORK=$(mktemp -d /tmp/starpunk-bench.XXXXXX)
chmod 755 "$WORK"  # nginx workers (user nobody when run as root) read the doc root
PIDS=()

cleanup() {
  local rc=$? pid i
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for i in $(seq 50); do
    local alive=0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break
    sleep 0.1
  done
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$KEEP_TMP" = 1 ]; then log "work dir kept: $WORK"; else rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_http() {  # url, pid: wait until url answers 200 (max 15 s) while pid lives
  local i
  for i in $(seq 150); do
    kill -0 "$2" 2>/dev/null || return 1
    curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# ---------------------------------------------------------------- starpunk
declare -A PORT
declare -A SPID  # server -> the pid whose CPU time serves its requests
# The same small site for every starpunk instance: NOTES (30) notes, so / lists
# 20 and /note/bench-note-7 is an ordinary permalink (issue 4's page scenarios);
# the feeds list the newest FEED_MAX_ITEMS (50). NOTE_EXTRA_BYTES adds a
# paragraph of that many bytes of prose to every note (issue 11's 58 KB feed:
# NOTES=60 NOTE_EXTRA_BYTES=900).
NOTE_SLUG=bench-note-7
IMPORT="$WORK/import"
mkdir -p "$IMPORT"
EXTRA=""
if [ "$NOTE_EXTRA_BYTES" -gt 0 ]; then
  EXTRA=$(python3 -c 'import sys; w = "lorem ipsum dolor sit amet, consectetur adipiscing elit; "; n = int(sys.argv[1]); print((w * (n // len(w) + 1))[:n].rstrip() + ".")' "$NOTE_EXTRA_BYTES")
fi
for i in $(seq 1 "$NOTES"); do
  printf '# Benchmark note %d\n\nA short note with *emphasis*, a [link](https://example.com/%d) and a list:\n\n- one\n- two\n' \
    "$i" "$i" >"$IMPORT/bench-note-$i.md"
  [ -z "$EXTRA" ] || printf '\n%s\n' "$EXTRA" >>"$IMPORT/bench-note-$i.md"
  touch -d "@$((1700000000 + i * 3600))" "$IMPORT/bench-note-$i.md"
done
start_starpunk() {  # LOG_LEVEL
  local level=$1 dir="$WORK/starpunk-$1" port pid
  mkdir -p "$dir/data"
  (cd "$dir" && env -i PATH="$PATH" HOME="$dir" DATA_PATH="$dir/data" "$STARPUNK_BIN" import "$IMPORT" >/dev/null 2>&1) ||
    die "could not import the benchmark notes"
  # A fixed free port: at LOG_LEVEL=WARNING the "listening on" line is not logged.
  port=$(free_port)
  # cwd = $dir so no ./.env is picked up; env -i so only these settings apply.
  (cd "$dir" && exec env -i PATH="$PATH" HOME="$dir" DEV_MODE=true PORT="$port" HOST=127.0.0.1 \
      DATA_PATH="$dir/data" LOG_LEVEL="$level" ${STARPUNK_WORKERS:+WORKERS=$STARPUNK_WORKERS} \
      taskset -c "$SERVER_CPU" "$STARPUNK_BIN" serve >"$dir/server.log" 2>&1) &
  pid=$!
  PIDS+=("$pid")
  wait_http "http://127.0.0.1:$port/health" "$pid" ||
    { cat "$dir/server.log" >&2; die "starpunk (LOG_LEVEL=$level) does not answer /health on port $port"; }
  PORT["starpunk:$level"]=$port
  SPID["starpunk:$level"]=$pid
  log "starpunk LOG_LEVEL=$level: pid $pid, http://127.0.0.1:$port, CPU $SERVER_CPU"
}

for level in "${LEVELS[@]}"; do start_starpunk "$level"; done
SP_PORT=${PORT[$MAIN_SERVER]}

# ---------------------------------------------------------------- nginx, same bytes
NG="$WORK/nginx"
mkdir -p "$NG/root/static" "$NG/root/note" "$NG/tmp" "$NG/logs"
curl -fsS "http://127.0.0.1:$SP_PORT/health" -o "$NG/root/health"
curl -fsS "http://127.0.0.1:$SP_PORT/" -o "$NG/root/index.html"
curl -fsS "http://127.0.0.1:$SP_PORT/note/$NOTE_SLUG" -o "$NG/root/note/$NOTE_SLUG"
curl -fsS "http://127.0.0.1:$SP_PORT/static/style.css" -o "$NG/root/static/style.css"
FEED_PATHS=(/feed.xml /feed.atom /feed.json)
for path in "${FEED_PATHS[@]}"; do curl -fsS "http://127.0.0.1:$SP_PORT$path" -o "$NG/root$path"; done
if ! cmp -s "$NG/root/static/style.css" "$ROOT/static/style.css"; then
  log "warning: served /static/style.css differs from static/style.css (stale build?); nginx serves the served bytes"
fi
chmod -R a+rX "$NG/root"

NGINX_PORT=$(free_port)
SEC_HEADERS=""
HEALTH_HEADERS=""
STATIC_HEADERS=""
PAGE_HEADERS=""
FEED_HEADERS=""
if [ "$NGINX_HEADERS" = match ]; then
  # Starpunk's per-response headers, so both send similarly sized responses.
  SEC_HEADERS=$(curl -fsS -D - -o /dev/null "http://127.0.0.1:$SP_PORT/health" | tr -d '\r' |
    awk '{ i = index($0, ": "); name = substr($0, 1, i - 1); value = substr($0, i + 2) }
      i > 0 && tolower(name) ~ /^(content-security-policy|x-content-type-options|referrer-policy|x-frame-options)$/ {
        printf "add_header %s \"%s\" always; ", name, value }')
  SEC_HEADERS="${SEC_HEADERS}add_header X-Request-ID \$request_id always;"
  HEALTH_HEADERS="add_header Cache-Control \"no-store\" always; $SEC_HEADERS"
  STATIC_HEADERS="add_header Cache-Control \"public, max-age=3600\" always; $SEC_HEADERS"
  PAGE_HEADERS="add_header Cache-Control \"public, max-age=60\" always; $SEC_HEADERS"
  FEED_HEADERS="add_header Cache-Control \"$(curl -fsS -D - -o /dev/null "http://127.0.0.1:$SP_PORT/feed.xml" | tr -d '\r' |
    sed -n 's/^[Cc]ache-[Cc]ontrol: //p')\" always; $SEC_HEADERS"
fi
cat >"$NG/nginx.conf" <<EOF
# Generated by bench/http_bench.sh — reference server for the benchmark.
worker_processes 1;
pid $NG/nginx.pid;
lock_file $NG/nginx.lock;
error_log $NG/logs/error.log warn;
events { worker_connections 4096; }
http {
    types { text/css css; application/json json; }
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    open_file_cache max=100 inactive=60s;
    open_file_cache_valid 60s;
    keepalive_requests 100000;
    keepalive_timeout 65s;
    server_tokens off;
    client_body_temp_path $NG/tmp/body;
    proxy_temp_path $NG/tmp/proxy;
    fastcgi_temp_path $NG/tmp/fastcgi;
    uwsgi_temp_path $NG/tmp/uwsgi;
    scgi_temp_path $NG/tmp/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $NG/root;
        location = /health {
            default_type "application/json; charset=utf-8";
            $HEALTH_HEADERS
        }
        location = / {
            default_type "text/html; charset=utf-8";
            try_files /index.html =404;
            $PAGE_HEADERS
        }
        location /note/ {
            default_type "text/html; charset=utf-8";
            $PAGE_HEADERS
        }
        # The feeds: starpunk's bytes and types; nginx's own ETag (mtime-size)
        # answers If-None-Match with its 304.
        location = /feed.xml { types { } default_type "application/rss+xml; charset=utf-8"; $FEED_HEADERS }
        location = /feed.atom { types { } default_type "application/atom+xml; charset=utf-8"; $FEED_HEADERS }
        location = /feed.json { types { } default_type "application/feed+json; charset=utf-8"; $FEED_HEADERS }
        location /static/ {
            charset utf-8;
            charset_types text/css;
            $STATIC_HEADERS
        }
    }
}
EOF
"$NGINX_BIN" -t -q -p "$NG/" -e "$NG/logs/error.log" -c "$NG/nginx.conf" >&2 || die "nginx config test failed ($NG/nginx.conf)"
taskset -c "$SERVER_CPU" "$NGINX_BIN" -p "$NG/" -e "$NG/logs/error.log" -c "$NG/nginx.conf" -g 'daemon off;' \
  >"$NG/logs/stdout.log" 2>&1 &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
wait_http "http://127.0.0.1:$NGINX_PORT/health" "$NGINX_PID" || { cat "$NG/logs/error.log" >&2; die "nginx did not start"; }
PORT[nginx]=$NGINX_PORT
SPID[nginx]=$(cat "/proc/$NGINX_PID/task/$NGINX_PID/children" 2>/dev/null | awk '{print $1}')  # the one worker
[ -n "${SPID[nginx]}" ] || SPID[nginx]=$NGINX_PID
log "nginx: pid $NGINX_PID, http://127.0.0.1:$NGINX_PORT, worker_processes 1, CPU $SERVER_CPU"

# Same bodies from every server.
for path in /health /static/style.css / "/note/$NOTE_SLUG" "${FEED_PATHS[@]}"; do
  ref="$NG/root${path}"
  [ "$path" = / ] && ref="$NG/root/index.html"
  for s in "${!PORT[@]}"; do
    curl -fsS "http://127.0.0.1:${PORT[$s]}$path" -o "$WORK/check.body"
    if ! cmp -s "$WORK/check.body" "$ref"; then
      # Each instance imported the notes itself, so a feed's dates of import
      # may differ by a second between instances: the same size is enough there.
      case $path in
        /feed.*) [ "$(wc -c <"$WORK/check.body")" = "$(wc -c <"$ref")" ] ||
                   die "$s serves a feed of a different size for $path" ;;
        *) die "$s serves different bytes for $path" ;;
      esac
    fi
  done
done
# Each server's validator for /feed.xml (the 304 scenario sends it back).
declare -A FEED_ETAG
for s in "${!PORT[@]}"; do
  FEED_ETAG[$s]=$(curl -fsS -D - -o /dev/null "http://127.0.0.1:${PORT[$s]}/feed.xml" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')
  [ -n "${FEED_ETAG[$s]}" ] || die "$s sends no ETag for /feed.xml"
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: ${FEED_ETAG[$s]}" "http://127.0.0.1:${PORT[$s]}/feed.xml")" = 304 ] ||
    die "$s does not answer 304 to its own ETag for /feed.xml"
done

# ---------------------------------------------------------------- meta
META="$WORK/meta.tsv"
meta() { printf '%s\t%s\n' "$1" "$2" >>"$META"; }
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
meta date "$(date '+%Y-%m-%d %H:%M:%S %Z')"
meta commit "$(git --no-optional-locks -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git --no-optional-locks -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' (dirty tree)')"
meta starpunk "$(tr -d '\n' <"$NG/root/health") — $STARPUNK_BIN"
meta nginx "$("$NGINX_BIN" -v 2>&1 | sed 's/^nginx version: //'), worker_processes 1, sendfile, open_file_cache, access_log off"
meta wrk "$(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2 || true)"
meta kernel "$(uname -sr)"
meta cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') × $(nproc --all)"
meta pinning "servers on CPU $SERVER_CPU, wrk on CPU $WRK_CPU (taskset)"
meta rounds "$ROUNDS (server order alternates each round)"
meta duration "${DURATION}s per wrk run"
meta warmup "${WARMUP}s per server and scenario (not reported)"
meta wrk_threads "$WRK_THREADS"
meta starpunk_workers "${STARPUNK_WORKERS:-default}"
meta nginx_headers "$NGINX_HEADERS"
meta target "$TARGET"
meta main_server "$MAIN_SERVER"
meta idle_conns "$IDLE_CONNS"
meta idle_p99_ms "$IDLE_P99_MS"
meta loadavg_start "$LOAD_START"
if awk -v l="${LOAD_START%% *}" 'BEGIN { exit !(l > 0.5) }'; then
  meta noisy "1-minute load average was ${LOAD_START%% *} when the run started: other work was running, so treat the numbers as noisy."
fi

# ---------------------------------------------------------------- wrk
run_wrk() {  # url conns seconds [header] -> tab-separated key=value fields of the BENCH line
  local out line hdr=()
  [ -z "${4:-}" ] || hdr=(-H "$4")
  out=$(taskset -c "$WRK_CPU" wrk -t"$WRK_THREADS" -c"$2" -d"$3"s --timeout 5s --latency \
        "${hdr[@]}" -s "$HERE/wrk_summary.lua" "$1" 2>&1) || { printf '%s\n' "$out" >&2; die "wrk failed on $1"; }
  printf '### %s c=%s d=%ss\n%s\n' "$1" "$2" "$3" "$out" >>"$WORK/wrk-raw.log"
  line=$(grep '^BENCH ' <<<"$out") || { printf '%s\n' "$out" >&2; die "no BENCH line from wrk"; }
  [[ $line != *" requests=0 "* ]] || die "wrk completed no requests on $1"
  printf '%s\n' "${line#BENCH }" | tr ' ' '\t'
}
field() { tr '\t' '\n' <<<"$1" | sed -n "s/^$2=//p"; }
# User + system CPU time of a process (all threads), in clock ticks: a load-
# independent cost per request next to req/s, which other work on the machine
# moves a lot.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))
[ "$WRK_THREADS" -le 1 ] || log "note: WRK_THREADS=$WRK_THREADS (> 1 thread on one pinned CPU only adds switching)"

SERVERS=()
for level in "${LEVELS[@]}"; do SERVERS+=("starpunk:$level"); done
SERVERS+=(nginx)
scenario_path() {
  case $1 in
    health) echo /health ;;
    static) echo /static/style.css ;;
    home) echo / ;;
    note) echo "/note/$NOTE_SLUG" ;;
    feed_rss | feed_304) echo /feed.xml ;;
    feed_atom) echo /feed.atom ;;
    feed_json) echo /feed.json ;;
    *) die "unknown scenario $1" ;;
  esac
}

: >"$WORK/runs.tsv"
: >"$WORK/targets.tsv"
for scenario in $SCENARIOS; do
  path=$(scenario_path "$scenario")
  label="GET $path"
  [ "$scenario" != feed_304 ] || label="GET $path, If-None-Match → 304"
  case $scenario in
    feed_304) printf '%s\t%s\n' "$label" "$FEED_304_TARGET" >>"$WORK/targets.tsv" ;;
    feed_*) printf '%s\t%s\n' "$label" "$FEED_TARGET" >>"$WORK/targets.tsv" ;;
  esac
  header_for() { [ "$scenario" != feed_304 ] || echo "If-None-Match: ${FEED_ETAG[$1]}"; }
  for conns in $CONNS; do
    threads=$WRK_THREADS; [ "$threads" -le "$conns" ] || threads=$conns
    if [ "$WARMUP" != 0 ]; then
      for s in "${SERVERS[@]}"; do run_wrk "http://127.0.0.1:${PORT[$s]}$path" "$conns" "$WARMUP" "$(header_for "$s")" >/dev/null; done
    fi
    for r in $(seq "$ROUNDS"); do
      order=("${SERVERS[@]}")
      if [ $((r % 2)) -eq 0 ]; then
        order=(); for ((i = ${#SERVERS[@]} - 1; i >= 0; i--)); do order+=("${SERVERS[i]}"); done
      fi
      for s in "${order[@]}"; do
        t0=$(cpu_ticks "${SPID[$s]}")
        res=$(WRK_THREADS=$threads run_wrk "http://127.0.0.1:${PORT[$s]}$path" "$conns" "$DURATION" "$(header_for "$s")")
        t1=$(cpu_ticks "${SPID[$s]}")
        res=$(printf '%s\tcpu_us=%s' "$res" $(((t1 - t0) * TICK_US)))
        printf '%s\t%s\t%s\t%s\t%s\n' "$label" "$conns" "$s" "$r" "$res" >>"$WORK/runs.tsv"
        log "$(printf '%-18s c=%-3s round %s %-18s %10.0f req/s  p50 %6.3f ms  p99 %6.3f ms' "$path" "$conns" "$r" "$s" \
          "$(field "$res" rps)" "$(awk -v u="$(field "$res" p50_us)" 'BEGIN{print u/1000}')" \
          "$(awk -v u="$(field "$res" p99_us)" 'BEGIN{print u/1000}')")"
      done
    done
  done
done

# ---------------------------------------------------------------- idle keep-alive connections
if [ "$IDLE_CONNS" -gt 0 ]; then
  url="http://127.0.0.1:$SP_PORT/health"
  : >"$WORK/idle.tsv"
  base=$(WRK_THREADS=1 run_wrk "$url" 1 "$DURATION")
  printf '%s\t%s\t%s\n' "without idle connections" "$base" "—" >>"$WORK/idle.tsv"
  log "idle test: baseline p99 $(field "$base" p99_us) us; opening $IDLE_CONNS idle keep-alive connections"
  taskset -c "$WRK_CPU" python3 "$HERE/idle_conns.py" 127.0.0.1 "$SP_PORT" "$IDLE_CONNS" /health \
    >"$WORK/idle_conns.out" 2>&1 &
  HOLDER=$!
  PIDS+=("$HOLDER")
  for i in $(seq 600); do
    grep -q '^READY' "$WORK/idle_conns.out" && break
    kill -0 "$HOLDER" 2>/dev/null || { cat "$WORK/idle_conns.out" >&2; die "idle connection holder failed"; }
    sleep 0.1
  done
  grep -q '^READY' "$WORK/idle_conns.out" || die "idle connections not established within 60 s"
  log "idle test: $(grep '^READY' "$WORK/idle_conns.out")"
  with=$(WRK_THREADS=1 run_wrk "$url" 1 "$DURATION")
  kill -TERM "$HOLDER"
  wait "$HOLDER" || true
  open_end=$(sed -n 's/^FINAL open=\([0-9]*\).*/\1/p' "$WORK/idle_conns.out")
  printf '%s\t%s\t%s\n' "with $IDLE_CONNS idle keep-alive connections" "$with" "${open_end:-?}" >>"$WORK/idle.tsv"
  log "idle test: with idle conns p99 $(field "$with" p99_us) us; $(grep '^FINAL' "$WORK/idle_conns.out" || echo 'no FINAL line')"
fi

meta loadavg_end "$(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------- report
mkdir -p "$(dirname "$RESULTS")"
python3 "$HERE/report.py" "$WORK" | tee "$RESULTS"
log "report written to $RESULTS"
