#!/usr/bin/env python3
"""Load (issue 17): a mixed read workload plus ~5 % Micropub creates under wrk,
on loopback, against the real binary; errors, lost creates, memory and
descriptors over the run. Driven by load.sh (which documents the variables).

Steps: a mock token endpoint and `starpunk serve` (DEV_MODE, fresh data dir,
TOKEN_ENDPOINT + ALLOW_HTTP_ENDPOINTS) on free loopback ports; SEED notes
created through Micropub, with tags; wrk for WARMUP + DURATION s with a generated Lua
script choosing each request (home pages, permalinks, tag pages, the three
feeds — half of them conditional with the ETag seen before the run — search,
and CREATE_SHARE of form-encoded Micropub creates with unique content);
VmRSS and the descriptor count of the server sampled every second meanwhile;
then the server is stopped and the database and `starpunk check` are read.
"""
import http.client
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlencode

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from common import Sampler, Server, TokenEndpoint, git_commit  # noqa: E402
from record import record  # noqa: E402

env = os.environ.get
DURATION = int(env("DURATION", "60"))
WARMUP = int(env("WARMUP", "30"))  # seconds of the same load before the measured DURATION
CONNS = int(env("CONNS", "16"))
THREADS = int(env("WRK_THREADS", "1"))
SEED = int(env("SEED", "200"))
TAGS = int(env("TAGS", "10"))
CREATE_SHARE = float(env("CREATE_SHARE", "0.05"))
RSS_MARGIN_PCT = float(env("RSS_MARGIN_PCT", "10"))
FD_MARGIN = int(env("FD_MARGIN", "4"))
BIN = env("STARPUNK_BIN", os.path.join(ROOT, "build", "release", "starpunk"))
RECORD = env("RECORD", "1") == "1"
KEEP_TMP = env("KEEP_TMP", "0") == "1"
SERVER_ENV = env("SERVER_ENV", "")  # extra settings for the server: "PAGE_CACHE_SIZE=1M WORKERS=4"
WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed eiusmod tempor incididunt labore "
         "dolore magna aliqua minim veniam quis nostrud exercitation ullamco laboris").split()


def log(msg):
    print(f"load: {msg}", file=sys.stderr, flush=True)


def lua_str(s):
    return json.dumps(s)  # a JSON string of ASCII text is a valid Lua string literal


STARTED = (None, None)


def main():
    global STARTED
    STARTED = (git_commit(ROOT), time.strftime("%Y-%m-%d %H:%M", time.gmtime()))
    if not os.access(BIN, os.X_OK):
        sys.exit(f"load: no executable {BIN}: build it first, or set STARPUNK_BIN")
    if not shutil.which("wrk"):
        sys.exit("load: wrk is not installed")
    work = tempfile.mkdtemp(prefix="starpunk-load.", dir=env("TMPDIR", "/var/tmp"))
    mock = TokenEndpoint()
    token = "load-" + os.urandom(12).hex()
    mock.tokens.add(token)
    server = None
    try:
        extra = {"ADMIN_ME": mock.profile, "TOKEN_ENDPOINT": mock.endpoint,
                 "ALLOW_HTTP_ENDPOINTS": "true", "SESSION_SECRET": "load-" + "s" * 40}
        extra.update(kv.split("=", 1) for kv in SERVER_ENV.split())
        server = Server(BIN, work, extra)
        return run(work, server, mock, token)
    finally:
        if server:
            server.stop()
        mock.close()
        if KEEP_TMP:
            log(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def run(work, server, mock, token):
    base = ("127.0.0.1", server.port)
    conn = http.client.HTTPConnection(*base, timeout=10)
    rnd = random.Random(17)
    paths = []
    log(f"seeding {SEED} notes through Micropub (server pid {server.pid}, port {server.port})")
    for i in range(SEED):
        body = urlencode({"h": "entry", "content": f"Seed note {i}: " + " ".join(rnd.choice(WORDS) for _ in range(40)),
                          "category[]": [f"topic{1 + i % TAGS}", f"topic{1 + (i * 7 + 3) % TAGS}"]}, doseq=True)
        conn.request("POST", "/micropub", body=body, headers={
            "Authorization": "Bearer " + token, "Content-Type": "application/x-www-form-urlencoded"})
        r = conn.getresponse()
        r.read()
        if r.status != 201:
            raise SystemExit(f"load: seeding create {i} answered {r.status}:\n{server.output()[-2000:]}")
        loc = r.getheader("Location")
        paths.append(re.sub(r"^https?://[^/]+", "", loc))
    etags = {}
    for feed in ("/feed.xml", "/feed.atom", "/feed.json"):
        conn.request("GET", feed)
        r = conn.getresponse()
        r.read()
        if r.status != 200:
            raise SystemExit(f"load: {feed} answered {r.status}")
        etags[feed] = r.getheader("ETag") or '"none"'
    conn.request("GET", "/")
    r = conn.getresponse()
    r.read()
    conn.close()
    pages = max(1, (SEED + 19) // 20)
    before = count_notes(server.data)
    if before != SEED:
        raise SystemExit(f"load: {before} notes in the database after {SEED} creates")

    run_id = os.urandom(4).hex()
    lua = os.path.join(work, "mixed.lua")
    with open(lua, "w") as f:
        f.write(LUA.replace("@PATHS@", ", ".join(lua_str(p) for p in paths))
                .replace("@ETAGS@", ", ".join(f"[{lua_str(k)}] = {lua_str(v)}" for k, v in etags.items()))
                .replace("@WORDS@", ", ".join(lua_str(w) for w in WORDS))
                .replace("@TOKEN@", lua_str(token)).replace("@TAGS@", str(TAGS)).replace("@PAGES@", str(pages))
                .replace("@CREATE_SHARE@", repr(CREATE_SHARE)).replace("@RUN@", lua_str(run_id)))
        with open(os.path.join(ROOT, "bench", "wrk_summary.lua")) as s:
            f.write(s.read())
        f.write(LUA_DONE)

    log(f"wrk: {CONNS} connections, {THREADS} thread(s), {WARMUP} s warm-up + {DURATION} s, "
        f"{CREATE_SHARE:.0%} creates")
    load_start = open("/proc/loadavg").read().split()[:3]
    sampler = Sampler(server.pid)
    time.sleep(1.0)  # the first sample is taken before any load
    t_load = time.monotonic() - sampler.t0
    wrk = subprocess.run(["wrk", f"-t{THREADS}", f"-c{CONNS}", f"-d{WARMUP + DURATION}s", "--timeout", "5s", "--latency",
                          "-s", lua, f"http://127.0.0.1:{server.port}"], capture_output=True, text=True)
    time.sleep(1.0)  # one sample after the load
    samples = sampler.stop()
    alive = server.alive()
    with open(os.path.join(work, "wrk.out"), "w") as f:
        f.write(wrk.stdout + wrk.stderr)
    if wrk.returncode != 0 or "BENCH " not in wrk.stdout:
        raise SystemExit(f"load: wrk failed ({wrk.returncode}):\n{wrk.stdout}{wrk.stderr}")
    bench = dict(kv.split("=", 1) for kv in re.search(r"^BENCH (.*)$", wrk.stdout, re.M).group(1).split())
    statuses = dict(kv.split("=") for kv in re.search(r"^STATUS (.*)$", wrk.stdout, re.M).group(1).split())
    statuses = {int(k): int(v) for k, v in statuses.items()}
    kinds = dict(kv.split("=") for kv in re.search(r"^KINDS (.*)$", wrk.stdout, re.M).group(1).split())
    created = statuses.get(201, 0)
    requests = int(bench["requests"])
    rps = float(bench["rps"])
    bad_status = sum(n for s, n in statuses.items() if not 200 <= s < 400)
    sock_err = sum(int(bench[k]) for k in ("err_connect", "err_read", "err_write", "err_timeout"))
    wrk_non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", wrk.stdout)
    wrk_non2xx = int(wrk_non2xx.group(1)) if wrk_non2xx else 0

    exit_code = server.stop()
    after = count_notes(server.data)
    check = subprocess.run([os.path.abspath(BIN), "check"], cwd=work, capture_output=True, text=True,
                           env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": work,
                                "DATA_PATH": server.data, "LOG_LEVEL": "WARNING"})
    files, load_ids = 0, []
    for d, _, fs in os.walk(os.path.join(server.data, "notes")):
        for n in fs:
            if n.endswith(".md"):
                files += 1
                with open(os.path.join(d, n), errors="replace") as f:
                    load_ids += re.findall(r"Load note (%s-\d+-\d+)" % run_id, f.read())
    sent = int(kinds.get("create", 0))

    # Flat: the largest value in the last third of the measured DURATION within
    # a margin of the largest in its first third. The WARMUP before it fills
    # what fills with traffic (page and feed caches, SQLite's page caches, the
    # allocator's per-thread arenas); growth that goes on after it is a leak
    # or memory that grows with the corpus.
    during = [s for s in samples if t_load + max(1.0, WARMUP) <= s[0] <= t_load + WARMUP + DURATION]
    third = max(1, len(during) // 3)
    first, last = during[:third], during[-third:]
    rss_first, rss_last = max(s[1] for s in first), max(s[1] for s in last)
    fd_first, fd_last = max(s[2] for s in first), max(s[2] for s in last)
    rss_limit = rss_first * (1 + RSS_MARGIN_PCT / 100)
    fd_limit = fd_first + FD_MARGIN
    mid = during[len(during) // 2]

    checks = {
        "server up": alive,
        "non-2xx/3xx = 0": bad_status == 0 and wrk_non2xx == 0,
        "socket errors = 0": sock_err == 0,
        # wrk stops with up to CONNS requests in flight: their creates may be
        # committed without wrk counting the 201, so rows added lie between the
        # 201s counted and the creates sent — and each is one distinct create.
        "creates kept (201s <= rows added <= sent)": 0 < created <= after - before <= sent,
        "each added row one distinct create": len(load_ids) == len(set(load_ids)) == after - before,
        "files = rows": files == after,
        "starpunk check": check.returncode == 0,
        "RSS flat": rss_last <= rss_limit,
        "fds flat": fd_last <= fd_limit,
        "clean exit": exit_code == 0,
    }
    mb = lambda kib: f"{kib / 1024:.1f}"
    pct = lambda q: f"{int(bench[q]) / 1000:.2f}"
    out = [
        f"# Load — {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, commit {STARTED[0]}",
        "",
        f"{WARMUP} s warm-up + {DURATION} s measured (requests, errors and creates count both), wrk -t{THREADS} -c{CONNS}, {SEED} seeded notes ({TAGS} tags), {CREATE_SHARE:.0%} creates"
        f"{'; server settings ' + SERVER_ENV if SERVER_ENV else ''}; "
        f"{os.cpu_count()} CPUs, load average at start {' '.join(load_start)}",
        "",
        f"requests {requests}, {rps:.0f} req/s, p50 {pct('p50_us')} ms, p99 {pct('p99_us')} ms, max {pct('max_us')} ms",
        "by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())),
        "by status: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())),
        f"non-2xx/3xx: {bad_status} (wrk's own count {wrk_non2xx}); socket errors: {sock_err} "
        f"(connect {bench['err_connect']}, read {bench['err_read']}, write {bench['err_write']}, "
        f"timeout {bench['err_timeout']})",
        f"creates: {sent} sent, {created} answered 201 before wrk stopped; notes {before} before, {after} after "
        f"(+{after - before}; {len(set(load_ids))} distinct load notes on disk), note files {files}; "
        f"`starpunk check` exit {check.returncode}: {(check.stdout + check.stderr).strip().splitlines()[-1:] or ''}",
        "",
        "| | start | middle | end | max | first-third max | last-third max | limit | flat |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| RSS (MiB) | {mb(during[0][1])} | {mb(mid[1])} | {mb(during[-1][1])} | {mb(max(s[1] for s in during))} | "
        f"{mb(rss_first)} | {mb(rss_last)} | {mb(rss_limit)} (+{RSS_MARGIN_PCT:g} %) | {checks['RSS flat']} |",
        f"| open fds | {during[0][2]} | {mid[2]} | {during[-1][2]} | {max(s[2] for s in during)} | {fd_first} | "
        f"{fd_last} | {fd_limit} (+{FD_MARGIN}) | {checks['fds flat']} |",
        "",
        f"RSS parts (MiB), anon / file / shmem: start {' / '.join(mb(x) for x in during[0][3:6])}, end "
        f"{' / '.join(mb(x) for x in during[-1][3:6])}",
        "",
        f"before the load: RSS {mb(samples[0][1])} MiB, {samples[0][2]} fds; one second after: "
        f"RSS {mb(samples[-1][1])} MiB, {samples[-1][2]} fds; server exit code {exit_code}",
        "",
    ]
    out += [f"- {name}: {'PASS' if ok else 'FAIL'}" for name, ok in checks.items()]
    overall = all(checks.values())
    out += ["", f"OVERALL: {'PASS' if overall else 'FAIL'}"]
    report = "\n".join(out) + "\n"
    print(report)
    with open(os.path.join(work, "samples.tsv"), "w") as f:
        f.write("seconds\trss_kib\tfds\tanon_kib\tfile_kib\tshmem_kib\n")
        f.writelines("\t".join(str(round(x, 1)) for x in s) + "\n" for s in samples)
    if not overall:
        print("server log (tail):\n" + server.output()[-3000:], file=sys.stderr)
    results = env("RESULTS")
    if results:
        with open(results, "w") as f:
            f.write(report)

    if RECORD:
        long_run = DURATION >= 600
        kind = "long run" if long_run else "CI"
        suffix = "long" if long_run else "ci"
        cmd = "bench/reliability/load.sh" if DURATION == 60 else f"DURATION={DURATION} bench/reliability/load.sh"
        verdict = lambda ok: "PASS" if ok else "**FAIL**"
        record([
            {"id": f"load-errors-{suffix}", "kind": kind, "command": cmd,
             "figure": f"Load: non-2xx/3xx responses and socket errors, {WARMUP} + {DURATION} s mixed reads + "
                       f"{CREATE_SHARE:.0%} Micropub creates, {CONNS} connections, {SEED} notes at the start",
             "result": f"{verdict(checks['non-2xx/3xx = 0'] and checks['socket errors = 0'] and alive)}: "
                       f"{bad_status} non-2xx/3xx, {sock_err} socket errors of {requests:,} requests "
                       f"({rps:,.0f} req/s, p50 {pct('p50_us')} ms, p99 {pct('p99_us')} ms)"},
            {"id": f"load-creates-{suffix}", "kind": kind, "command": cmd,
             "figure": "Load: Micropub creates kept (201s ≤ rows added ≤ creates sent, each row a distinct create; files = rows; `starpunk check` clean)",
             "result": f"{verdict(checks['creates kept (201s <= rows added <= sent)'] and checks['each added row one distinct create'] and checks['files = rows'] and checks['starpunk check'])}: "
                       f"{sent} sent, {created} answered 201, rows {before} → {after} (+{after - before}, all "
                       f"distinct), {files} files, `starpunk check` exit {check.returncode}"},
            {"id": f"load-memory-{suffix}", "kind": kind, "command": cmd,
             "figure": f"Load: server RSS flat over the {DURATION} s after the {WARMUP} s warm-up (last third's max ≤ "
                       f"first third's max + {RSS_MARGIN_PCT:g} %)",
             "result": f"{verdict(checks['RSS flat'])}: start {mb(during[0][1])}, middle {mb(mid[1])}, end "
                       f"{mb(during[-1][1])}, max {mb(max(s[1] for s in during))} MiB; thirds {mb(rss_first)} → "
                       f"{mb(rss_last)} MiB (limit {mb(rss_limit)}); anonymous part {mb(during[0][3])} → "
                       f"{mb(during[-1][3])} MiB; notes {before} → {after}"},
            {"id": f"load-fds-{suffix}", "kind": kind, "command": cmd,
             "figure": f"Load: server open descriptors flat over the {DURATION} s after the warm-up (last third's max "
                       f"≤ first third's max + {FD_MARGIN})",
             "result": f"{verdict(checks['fds flat'])}: start {during[0][2]}, middle {mid[2]}, end {during[-1][2]}, "
                       f"max {max(s[2] for s in during)}"},
        ], *STARTED)
    return 0 if overall else 1


def count_notes(data):
    db = sqlite3.connect(f"file:{os.path.join(data, 'starpunk.db')}?mode=ro", uri=True, timeout=10)
    try:
        return db.execute("SELECT count(*) FROM notes WHERE deleted_at IS NULL").fetchone()[0]
    finally:
        db.close()


LUA = r"""
-- Generated by bench/reliability/load.py: one request kind chosen per request.
local paths = { @PATHS@ }
local etags = { @ETAGS@ }
local words = { @WORDS@ }
local token = @TOKEN@
local run = @RUN@
local feeds = { "/feed.xml", "/feed.atom", "/feed.json" }
local threads = {}
local next_id = 0

setup = function(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
  table.insert(threads, thread)
end

init = function(args)
  math.randomseed(tid * 7919 + os.time())
  seq = 0
  status = {}
  kinds = {}
end

local function count(t, k) t[k] = (t[k] or 0) + 1 end

request = function()
  local r = math.random()
  local kind, req
  if r < @CREATE_SHARE@ then
    seq = seq + 1
    kind = "create"
    local body = "h=entry&content=Load+note+" .. run .. "-" .. tid .. "-" .. seq .. "+" ..
      words[math.random(#words)] .. "+" .. words[math.random(#words)] ..
      "&category%5B%5D=topic" .. math.random(1, @TAGS@)
    req = wrk.format("POST", "/micropub", { ["Authorization"] = "Bearer " .. token,
      ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
  elseif r < 0.25 then
    kind = "home"
    req = wrk.format("GET", "/?page=" .. math.random(1, @PAGES@))
  elseif r < 0.55 then
    kind = "permalink"
    req = wrk.format("GET", paths[math.random(#paths)])
  elseif r < 0.67 then
    kind = "tag"
    req = wrk.format("GET", "/tag/topic" .. math.random(1, @TAGS@) .. "?page=" .. math.random(1, 2))
  elseif r < 0.85 then
    local f = feeds[math.random(3)]
    if math.random() < 0.5 then
      kind = "feed_conditional"
      req = wrk.format("GET", f, { ["If-None-Match"] = etags[f] })
    else
      kind = "feed"
      req = wrk.format("GET", f)
    end
  else
    kind = "search"
    req = wrk.format("GET", "/search?q=" .. words[math.random(#words)])
  end
  count(kinds, kind)
  return req
end

local feed_of = { ["application/rss+xml"] = "/feed.xml", ["application/atom+xml"] = "/feed.atom",
                  ["application/feed+json"] = "/feed.json" }

response = function(s, headers, body)
  count(status, s)
  -- Keep the conditional requests' ETags current (creates change the feeds):
  -- a feed answer is known by its Content-Type.
  if s == 200 then
    local ctype, etag
    for k, v in pairs(headers) do
      local lk = string.lower(k)
      if lk == "content-type" then ctype = string.match(v, "^[^;]+") elseif lk == "etag" then etag = v end
    end
    if ctype and etag and feed_of[ctype] then etags[feed_of[ctype]] = etag end
  end
end

local function flatten(t)
  local parts = {}
  for k, v in pairs(t) do table.insert(parts, k .. "=" .. v) end
  return table.concat(parts, " ")
end
"""

LUA_DONE = r"""
local bench_done = done
done = function(summary, latency, requests)
  bench_done(summary, latency, requests)
  local status, kinds = {}, {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("status")) do status[k] = (status[k] or 0) + v end
    for k, v in pairs(t:get("kinds")) do kinds[k] = (kinds[k] or 0) + v end
  end
  io.write("STATUS " .. flatten(status) .. "\n")
  io.write("KINDS " .. flatten(kinds) .. "\n")
end
"""

if __name__ == "__main__":
    sys.exit(main())
