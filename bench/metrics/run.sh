#!/usr/bin/env bash
# Metrics benchmark (issue: metrics). Two targets:
#   1. "Recording a sampled-out operation: well under 1 µs" — Google Benchmark
#      (bench/metrics/record_bench.cpp, target metrics_bench), built in its own
#      build directory build/bench (RelWithDebInfo, Ninja; build/release is
#      never touched);
#   2. "Home page throughput with metrics on vs off in the same run: under 3 %
#      cost" — the release binary (STARPUNK_BIN, used as it is, never rebuilt)
#      started twice on identical data (NOTES imported notes): one with
#      METRICS_ENABLED=true (sampling 1.0 for every type: the default, and the
#      most expensive setting), one with METRICS_ENABLED=false. Both pinned to
#      SERVER_CPU, wrk to WRK_CPU; CONNS connections; ROUNDS interleaved rounds
#      of DURATION s, the order alternating each round; the verdict is the
#      median over rounds of (1 - on/off) × 100 for GET /. The other scenarios
#      (SCENARIOS) go through paths that are not served from the page cache, so
#      database and render instrumentation run on every request too; they are
#      informational. Beside req/s, each run records the server's CPU time
#      (/proc/<pid>/stat) per request served, which other load on the machine
#      disturbs less; the records per request on the `on` server are read from
#      /admin/metrics (DEV_MODE's /dev/login) to show what was instrumented.
#
#   bench/metrics/run.sh                                  # full run, about 3.5 minutes
#   ROUNDS=3 DURATION=2 SCENARIOS=home bench/metrics/run.sh   # quick look
#   CONTROL=1 bench/metrics/run.sh                        # plus an A/A control server
#
# Settings (environment):
#   ROUNDS=5  DURATION=5 (s per wrk run)  WARMUP=1 (s per server and scenario)
#   CONNS=16  SCENARIOS="home search feed"  (home = /, search = /search?q=note,
#             feed = /feed.xml)  NOTES=20  TARGET_PCT=3
#   SERVER_CPU=0  WRK_CPU=1
#   REPETITIONS=5  Google Benchmark repetitions (median reported); GB_FILTER=.
#   SKIP_MICRO=0 (1 skips the Google Benchmark part)  SKIP_HTTP=0
#   CONTROL=0  1 adds a second metrics-off server (off2) to every round: the
#              off2/off ratio is an A/A control showing the noise floor
#   STARPUNK_BIN=build/release/starpunk   BUILD_DIR=build/bench
#   RESULTS=bench/results/<date>-metrics.md   KEEP_TMP=1 keeps the work dir
# Output: a markdown report on stdout, also written to $RESULTS; progress on
# stderr. Exit status 0 whether or not the targets are met (see the Verdict
# lines); non-zero only if the benchmark could not run. Loopback only; every
# server started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
CONNS=${CONNS:-16}
SCENARIOS=${SCENARIOS:-"home search feed"}
NOTES=${NOTES:-20}
TARGET_PCT=${TARGET_PCT:-3}
SERVER_CPU=${SERVER_CPU:-0}
WRK_CPU=${WRK_CPU:-1}
REPETITIONS=${REPETITIONS:-5}
GB_FILTER=${GB_FILTER:-.}
SKIP_MICRO=${SKIP_MICRO:-0}
SKIP_HTTP=${SKIP_HTTP:-0}
CONTROL=${CONTROL:-0}
STARPUNK_BIN=${STARPUNK_BIN:-build/release/starpunk}
BUILD_DIR=${BUILD_DIR:-build/bench}
RESULTS=${RESULTS:-bench/results/$(date -u +%F)-metrics.md}
KEEP_TMP=${KEEP_TMP:-0}

log() { printf '[metrics-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
T0=$(date +%s)

# ---------------------------------------------------------------- prerequisites
[ "$(realpath -m "$BUILD_DIR")" != "$(realpath -m build/release)" ] || die "BUILD_DIR must not be build/release (that build belongs to the server)"
for tool in cmake ninja; do command -v "$tool" >/dev/null || die "$tool not found"; done
if [ "$SKIP_HTTP" != 1 ]; then
  for tool in wrk taskset curl python3; do command -v "$tool" >/dev/null || die "$tool not found"; done
  # A concurrent relink may remove the binary for a moment: wait up to 60 s.
  for _ in $(seq 60); do [ -x "$STARPUNK_BIN" ] && break; sleep 1; done
  [ -x "$STARPUNK_BIN" ] || die "STARPUNK_BIN=$STARPUNK_BIN is not executable (build it with scripts/setup.sh; this script never builds it)"
  taskset -c "$SERVER_CPU" true 2>/dev/null || die "cannot pin to CPU $SERVER_CPU"
  taskset -c "$WRK_CPU" true 2>/dev/null || die "cannot pin to CPU $WRK_CPU"
fi

WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/starpunk-metrics-bench.XXXXXX")
PIDS=()
cleanup() {
  local rc=$? pid i alive
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for i in $(seq 50); do
    alive=0
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

META="$WORK/meta.tsv"
meta() { printf '%s\t%s\n' "$1" "$2" >>"$META"; }
meta date "$(date -u '+%F %H:%M UTC')"
meta commit "$(git --no-optional-locks rev-parse --short HEAD 2>/dev/null || echo unknown)$(git --no-optional-locks diff --quiet HEAD -- src bench CMakeLists.txt 2>/dev/null || echo ' (dirty tree)')"
meta cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') × $(nproc --all)"
meta kernel "$(uname -sr)"
meta loadavg_start "$(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------- 1. Google Benchmark
if [ "$SKIP_MICRO" != 1 ]; then
  log "building metrics_bench in $BUILD_DIR (RelWithDebInfo)"
  if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTARPUNK_TESTS=OFF >"$WORK/cmake.log" 2>&1 ||
      { cat "$WORK/cmake.log" >&2; die "cmake failed"; }
  fi
  ninja -C "$BUILD_DIR" metrics_bench >"$WORK/ninja.log" 2>&1 || { tail -40 "$WORK/ninja.log" >&2; die "build failed"; }
  [ -x "$BUILD_DIR/bench/metrics_bench" ] ||
    die "no $BUILD_DIR/bench/metrics_bench (is libbenchmark-dev installed? cmake skips the target without it)"
  log "running metrics_bench ($REPETITIONS repetitions)"
  "$BUILD_DIR/bench/metrics_bench" --benchmark_filter="$GB_FILTER" --benchmark_repetitions="$REPETITIONS" \
    --benchmark_report_aggregates_only=true --benchmark_out="$WORK/gb.json" --benchmark_out_format=json \
    >"$WORK/gb.txt" 2>&1 || { cat "$WORK/gb.txt" >&2; die "metrics_bench failed"; }
  grep -E '_median' "$WORK/gb.txt" >&2 || true
fi

# ---------------------------------------------------------------- 2. HTTP: metrics on vs off
if [ "$SKIP_HTTP" != 1 ]; then
  # A private copy, so a concurrent rebuild of build/release cannot hand the
  # two servers different binaries.
  cp "$STARPUNK_BIN" "$WORK/starpunk"
  BIN="$WORK/starpunk"
  meta starpunk "$STARPUNK_BIN (modified $(date -u -r "$STARPUNK_BIN" '+%F %H:%M UTC'), sha256 $(sha256sum "$BIN" | cut -c1-12))"
  meta pinning "servers on CPU $SERVER_CPU, wrk on CPU $WRK_CPU (taskset)"
  meta load "wrk -t1 -c$CONNS, ${DURATION}s × $ROUNDS rounds per scenario (order alternates), ${WARMUP}s warm-up per server"
  meta wrk "$(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2 || true)"

  mkdir -p "$WORK/import"
  for i in $(seq 1 "$NOTES"); do
    printf '# Benchmark note %d\n\nA short note about metrics with *emphasis*, a [link](https://example.com/%d) and a list:\n\n- one\n- two\n' \
      "$i" "$i" >"$WORK/import/bench-note-$i.md"
    touch -d "@$((1700000000 + i * 3600))" "$WORK/import/bench-note-$i.md"
  done

  free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
  wait_http() {  # url pid
    local i
    for i in $(seq 150); do
      kill -0 "$2" 2>/dev/null || return 1
      curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0
      sleep 0.1
    done
    return 1
  }
  declare -A PORT SPID
  start_server() {  # name METRICS_ENABLED
    local name=$1 enabled=$2 dir="$WORK/$1" port pid
    mkdir -p "$dir/data"
    (cd "$dir" && env -i PATH="$PATH" HOME="$dir" DATA_PATH="$dir/data" "$BIN" import "$WORK/import" >"$dir/import.log" 2>&1) ||
      { cat "$dir/import.log" >&2; die "import failed"; }
    port=$(free_port)
    # env -i and cwd = $dir: no ./.env or stray settings. DEV_MODE only for
    # /dev/login, so the script can read /admin/metrics afterwards.
    (cd "$dir" && exec env -i PATH="$PATH" HOME="$dir" DEV_MODE=true PORT="$port" HOST=127.0.0.1 \
        DATA_PATH="$dir/data" LOG_LEVEL=WARNING METRICS_ENABLED="$enabled" \
        taskset -c "$SERVER_CPU" "$BIN" serve >"$dir/server.log" 2>&1) &
    pid=$!
    PIDS+=("$pid")
    wait_http "http://127.0.0.1:$port/health" "$pid" || { cat "$dir/server.log" >&2; die "server $name did not start"; }
    PORT[$name]=$port
    SPID[$name]=$pid  # the exec chain (env, taskset) keeps this pid for starpunk itself
    curl -fsS -o /dev/null -c "$dir/cookies" "http://127.0.0.1:$port/dev/login" || die "dev login failed on $name"
    log "server $name (METRICS_ENABLED=$enabled): pid $pid, port $port, CPU $SERVER_CPU"
  }
  SERVERS=(on off)
  [ "$CONTROL" = 1 ] && SERVERS+=(off2)
  for s in "${SERVERS[@]}"; do
    if [ "$s" = on ]; then start_server "$s" true; else start_server "$s" false; fi
  done
  admin_metrics() { curl -fsS -b "$WORK/$1/cookies" "http://127.0.0.1:${PORT[$1]}/admin/metrics"; }
  admin_metrics on | python3 -c 'import json,sys; r=json.load(sys.stdin); sys.exit(0 if r["enabled"] else 1)' ||
    die "server 'on' reports metrics disabled"
  admin_metrics off | python3 -c 'import json,sys; r=json.load(sys.stdin); sys.exit(1 if r["enabled"] else 0)' ||
    die "server 'off' reports metrics enabled"

  scenario_path() {
    case $1 in
      home) echo / ;;
      search) echo '/search?q=note' ;;
      feed) echo /feed.xml ;;
      note) echo /note/bench-note-7 ;;
      *) die "unknown scenario $1" ;;
    esac
  }
  for scenario in $SCENARIOS; do
    path=$(scenario_path "$scenario")
    for s in "${SERVERS[@]}"; do
      curl -fsS "http://127.0.0.1:${PORT[$s]}$path" -o "$WORK/body-$s" || die "GET $path failed on '$s'"
      # Same data, same binary: the same bytes are expected.
      [ "$(wc -c <"$WORK/body-$s")" = "$(wc -c <"$WORK/body-on")" ] || log "warning: $path bodies differ in size between on and $s"
    done
  done

  run_wrk() {  # url seconds -> tab-separated key=value fields
    local out line
    out=$(taskset -c "$WRK_CPU" wrk -t1 -c"$CONNS" -d"$2"s --timeout 5s --latency -s bench/wrk_summary.lua "$1" 2>&1) ||
      { printf '%s\n' "$out" >&2; die "wrk failed on $1"; }
    line=$(grep '^BENCH ' <<<"$out") || { printf '%s\n' "$out" >&2; die "no BENCH line from wrk"; }
    [[ $line != *" requests=0 "* ]] || die "wrk completed no requests on $1"
    printf '%s\n' "${line#BENCH }" | tr ' ' '\t'
  }
  field() { tr '\t' '\n' <<<"$1" | sed -n "s/^$2=//p"; }
  # utime + stime of the whole process (all threads), in clock ticks.
  cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
  HZ=$(getconf CLK_TCK)
  meta clk_tck "$HZ"

  : >"$WORK/runs.tsv"
  for scenario in $SCENARIOS; do
    path=$(scenario_path "$scenario")
    if [ "$WARMUP" != 0 ]; then
      for s in "${SERVERS[@]}"; do run_wrk "http://127.0.0.1:${PORT[$s]}$path" "$WARMUP" >/dev/null; done
    fi
    admin_metrics on >"$WORK/admin-before-$scenario.json"
    for r in $(seq "$ROUNDS"); do
      order=("${SERVERS[@]}")
      if [ $((r % 2)) -eq 0 ]; then
        order=(); for ((i = ${#SERVERS[@]} - 1; i >= 0; i--)); do order+=("${SERVERS[i]}"); done
      fi
      for s in "${order[@]}"; do
        t0=$(cpu_ticks "${SPID[$s]}")
        res=$(run_wrk "http://127.0.0.1:${PORT[$s]}$path" "$DURATION")
        t1=$(cpu_ticks "${SPID[$s]}")
        printf '%s\t%s\t%s\t%s\t%s\tcpu_ticks=%s\n' "$scenario" "$path" "$s" "$r" "$res" "$((t1 - t0))" >>"$WORK/runs.tsv"
        log "$(printf '%-16s round %s %-4s %9.0f req/s  p99 %6.3f ms  %5.1f us CPU/req' "$path" "$r" "$s" "$(field "$res" rps)" \
          "$(awk -v u="$(field "$res" p99_us)" 'BEGIN{print u/1000}')" \
          "$(awk -v t=$((t1 - t0)) -v n="$(field "$res" requests)" -v hz="$HZ" 'BEGIN{print t / hz * 1e6 / n}')")"
      done
    done
    admin_metrics on >"$WORK/admin-after-$scenario.json"
  done
  meta loadavg_end "$(cut -d' ' -f1-3 /proc/loadavg)"
fi
meta elapsed "$(( $(date +%s) - T0 )) s"

# ---------------------------------------------------------------- report
mkdir -p "$(dirname "$RESULTS")"
python3 - "$WORK" "$TARGET_PCT" "$SKIP_MICRO" "$SKIP_HTTP" "$SCENARIOS" <<'PY' | tee "$RESULTS"
import json, os, statistics, sys
work, target, skip_micro, skip_http, scenarios = sys.argv[1], float(sys.argv[2]), sys.argv[3] == "1", sys.argv[4] == "1", sys.argv[5].split()
meta = dict(l.rstrip("\n").split("\t", 1) for l in open(f"{work}/meta.tsv"))
print(f"# Metrics benchmark, {meta['date']}\n")
print("| | |\n|---|---|")
for k in ("commit", "cpu", "kernel", "starpunk", "pinning", "load", "wrk", "loadavg_start", "loadavg_end", "elapsed"):
    if k in meta:
        print(f"| {k} | {meta[k]} |")
start_load = float(meta["loadavg_start"].split()[0])
if start_load > 0.5:
    print(f"\n**Note:** the 1-minute load average was {start_load} when the run started: other work was running, so the numbers are noisy.")
verdicts = []

if not skip_micro:
    gb = json.load(open(f"{work}/gb.json"))
    ctx = gb["context"]
    print("\n## Recording cost (Google Benchmark, `metrics_bench`)\n")
    print(f"Google Benchmark library build: {ctx.get('library_build_type', '?')} (Debian's package says debug; that only "
          "concerns the library's own bookkeeping: the code measured is built RelWithDebInfo); "
          f"{ctx.get('num_cpus', '?')} CPUs at "
          f"{ctx.get('mhz_per_cpu', '?')} MHz; median of {gb['benchmarks'][0].get('repetitions', '?')} repetitions. "
          "Rate = the type's sampling rate (0 = sampled out, 0.01 = one random draw, 1 = always recorded). "
          "`threads:2`: two threads on one `Metrics`; the time is wall time ÷ all iterations of both threads.\n")
    print("| benchmark | what | ns/op (median) | CV |")
    print("|---|---|---|---|")
    what = {
        "Admit/0": "MetricsBuffer::admit, rate 0",
        "Admit/1": "MetricsBuffer::admit, rate 0.01",
        "Admit/100": "MetricsBuffer::admit, rate 1",
        "Statement/0": "**Metrics::statement, sampled out (rate 0)**",
        "Statement/1": "Metrics::statement, rate 0.01 (mostly sampled out)",
        "Statement/100": "Metrics::statement, recorded (classify + shorten + push)",
        "Statement/disabled": "Metrics::statement, METRICS_ENABLED=false",
        "Request/0": "Metrics::request, rate 0 (counters only)",
        "Request/100": "Metrics::request, recorded (counters + push)",
        "Request/disabled": "Metrics::request, METRICS_ENABLED=false",
        "Request/0/real_time/threads:2": "Metrics::request, rate 0, 2 threads",
        "Request/100/real_time/threads:2": "Metrics::request, recorded, 2 threads",
        "Render/0": "Metrics::render, rate 0",
        "Render/100": "Metrics::render, recorded",
        "SteadyClock/pair": "context: two steady_clock::now() (paid by every observed operation)",
    }
    gbmed, cv = {}, {}
    for b in gb["benchmarks"]:
        name = b.get("run_name", b["name"])
        unit = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
        t = b["real_time"] if "real_time" in name else b["cpu_time"]
        if b.get("aggregate_name") == "median":
            gbmed[name] = t * unit
        elif b.get("aggregate_name") == "cv":
            cv[name] = t
        elif "aggregate_name" not in b:  # a single repetition
            gbmed[name] = t * unit
    for name, ns in gbmed.items():
        c = f"{cv[name] * 100:.1f} %" if name in cv else "—"
        print(f"| `{name}` | {what.get(name, '')} | {ns:.1f} | {c} |")
    if "Statement/0" in gbmed:
        ns = gbmed["Statement/0"]
        verdicts.append((f"sampled-out statement {ns:.1f} ns (target: well under 1 µs; the bar used here: 100 ns)", ns < 100))
    if "Statement/1" in gbmed:
        ns = gbmed["Statement/1"]
        verdicts.append((f"statement at rate 0.01 {ns:.1f} ns (mostly sampled out; recorded 1 in 100)", ns < 1000))

if not skip_http:
    hz = float(meta.get("clk_tck", "100"))
    rows = {}
    for line in open(f"{work}/runs.tsv"):
        scenario, path, server, rnd, *kv = line.rstrip("\n").split("\t")
        f = dict(x.split("=", 1) for x in kv)
        f["cpu_us"] = int(f["cpu_ticks"]) / hz * 1e6 / max(int(f["requests"]), 1)
        rows.setdefault((scenario, path), {}).setdefault(int(rnd), {})[server] = f
    control = any("off2" in r for rs in rows.values() for r in rs.values())
    med = statistics.median
    print("\n## Throughput, metrics on vs off (same binary, same data, same run)\n")
    print("`on`: METRICS_ENABLED=true, sampling 1.0 for database, http and render (the defaults: every "
          "operation recorded). `off`: METRICS_ENABLED=false. Cost = (1 − on/off) × 100 within a round; "
          "the verdict uses the median over rounds. CPU µs/req = the server's user + system CPU time "
          f"(/proc/<pid>/stat, all threads, {hz:g} ticks/s) during the wrk run ÷ requests served: "
          "less sensitive than req/s to other work on the machine; CPU cost = (on/off − 1) × 100."
          + (" `off2`: a second METRICS_ENABLED=false server, the A/A control: off2/off shows how far two "
             "identical servers drift apart in this run." if control else "") + "\n")
    summary = []
    for (scenario, path), rounds in rows.items():
        print(f"### GET {path}\n")
        cols = ["round", "on req/s", "off req/s"] + (["off2 req/s"] if control else []) + ["on/off", "cost %"] + \
               (["off2/off"] if control else []) + ["on p99 ms", "off p99 ms", "on CPU µs/req", "off CPU µs/req", "CPU cost %"]
        print("| " + " | ".join(cols) + " |")
        print("|" + "---|" * len(cols))
        ratios, aa, ons, offs, offs2, p99on, p99off, cpuon, cpuoff, cpucost = ([] for _ in range(10))
        errs = 0
        for r in sorted(rounds):
            on, off = rounds[r]["on"], rounds[r]["off"]
            a, b = float(on["rps"]), float(off["rps"])
            ratios.append(a / b); ons.append(a); offs.append(b)
            p99on.append(int(on["p99_us"]) / 1000); p99off.append(int(off["p99_us"]) / 1000)
            cpuon.append(on["cpu_us"]); cpuoff.append(off["cpu_us"]); cpucost.append((on["cpu_us"] / off["cpu_us"] - 1) * 100)
            for f in rounds[r].values():
                errs += sum(int(f[k]) for k in ("err_connect", "err_read", "err_write", "err_status", "err_timeout"))
            cells = [str(r), f"{a:,.0f}", f"{b:,.0f}"]
            if control:
                c = float(rounds[r]["off2"]["rps"]); offs2.append(c); aa.append(c / b)
                cells.append(f"{c:,.0f}")
            cells += [f"{a / b:.3f}", f"{(1 - a / b) * 100:+.1f}"]
            if control:
                cells.append(f"{aa[-1]:.3f}")
            cells += [f"{p99on[-1]:.3f}", f"{p99off[-1]:.3f}", f"{cpuon[-1]:.1f}", f"{cpuoff[-1]:.1f}", f"{cpucost[-1]:+.1f}"]
            print("| " + " | ".join(cells) + " |")
        mr = med(ratios)
        cost = (1 - mr) * 100
        cells = ["**median**", f"**{med(ons):,.0f}**", f"**{med(offs):,.0f}**"]
        if control:
            cells.append(f"{med(offs2):,.0f}")
        cells += [f"**{mr:.3f}**", f"**{cost:+.1f}**"]
        if control:
            cells.append(f"{med(aa):.3f}")
        cells += [f"{med(p99on):.3f}", f"{med(p99off):.3f}", f"{med(cpuon):.1f}", f"{med(cpuoff):.1f}", f"**{med(cpucost):+.1f}**"]
        print("| " + " | ".join(cells) + " |")
        print(f"\non/off range over rounds: {min(ratios):.3f} … {max(ratios):.3f}"
              + (f"; off2/off (A/A) range: {min(aa):.3f} … {max(aa):.3f}" if control else "") + f". wrk errors: {errs}.")
        try:
            before = json.load(open(f"{work}/admin-before-{scenario}.json"))
            after = json.load(open(f"{work}/admin-after-{scenario}.json"))
            dreq = after["requests_total"] - before["requests_total"]
            drec = after["buffer"]["recorded_total"] - before["buffer"]["recorded_total"]
            mix = ", ".join(f"{t} {s['count']}" for t, s in after["metrics"].items())
            print(f"Instrumentation on the `on` server during the measured rounds: {drec:,} records for {dreq:,} requests "
                  f"({drec / max(dreq, 1):.2f} per request); its buffer's last {after['buffer']['size']} records by type: {mix}.")
        except (OSError, KeyError, ValueError) as e:
            print(f"(metrics snapshot unavailable: {e})")
        print()
        summary.append((path, med(ons), med(offs), mr, cost, med(aa) if control else None, med(p99on), med(p99off),
                        med(cpuon), med(cpuoff), med(cpucost)))
        if scenario == "home":
            verdicts.append((f"GET / cost {cost:+.1f} % in req/s, {med(cpucost):+.1f} % in server CPU per request "
                             f"(target < {target:g} %; the verdict uses req/s)", cost < target))
    print("### Summary\n")
    print("| path | on req/s | off req/s | on/off | cost % |" + (" A/A off2/off |" if control else "") +
          " on p99 ms | off p99 ms | on CPU µs/req | off CPU µs/req | CPU cost % |")
    print("|---|---|---|---|---|" + ("---|" if control else "") + "---|---|---|---|---|")
    for path, a, b, mr, cost, aa_m, pa, pb, ca, cb, cc in summary:
        print(f"| GET {path} | {a:,.0f} | {b:,.0f} | {mr:.3f} | {cost:+.1f} |" + (f" {aa_m:.3f} |" if control else "") +
              f" {pa:.3f} | {pb:.3f} | {ca:.1f} | {cb:.1f} | {cc:+.1f} |")

print("\n## Verdict\n")
for text, ok in verdicts:
    print(f"- {'PASS' if ok else 'FAIL'}: {text}")
PY
log "report written to $RESULTS ($(( $(date +%s) - T0 )) s)"
