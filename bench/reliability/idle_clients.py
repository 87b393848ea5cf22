#!/usr/bin/env python3
"""Slow and idle clients (issue 17), against the real binary on loopback.

    bench/reliability/idle_clients.py            # HOLD=60 s, IDLE=500, SLOW=100

1. `starpunk serve` (DEV_MODE, fresh data dir, free loopback port, the
   script's open-file limit raised to its hard limit first).
2. A holder process keeps IDLE idle keep-alive connections (each has sent one
   `GET /health` and read the answer, as bench/idle_conns.py does) and SLOW
   slow-header connections (a request line, then one header byte every
   SLOW_EVERY s, never finishing) open for HOLD s. When the server closes one
   (its header-read timeout is 10 s, its keep-alive timeout 30 s), the holder
   notes how long it lived and what it received, and opens a new one — so the
   count stays up for the whole HOLD.
3. Meanwhile, from this process, `GET /health` on a fresh connection every
   PROBE_EVERY s (200 ms): each must answer 200 within PROBE_LIMIT_MS (100 ms),
   connect to last byte.
4. Then: a 20 KB header block must get 431, a declared 11 MiB body and a
   chunked body past MAX_CONTENT_LENGTH (10M) 413, and /health still 200.
5. The connection cap (informational, CAP_TEST=1): a second server with
   MAX_CONNECTIONS=CAP, CAP connections held, one more probe: does it wait
   (listen backlog, as documented) and get its answer once one slot frees?

Exit 0 only when every target holds. Fills its rows of docs/reliability.md
unless RECORD=0. Standard library only.
"""
import json
import os
import resource
import selectors
import socket
import subprocess
import sys
import tempfile
import shutil
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "bench"))
from common import Sampler, Server, git_commit, percentile  # noqa: E402
from idle_conns import read_response  # noqa: E402  (bench/idle_conns.py)

env = os.environ.get
HOLD = float(env("HOLD", "60"))
IDLE = int(env("IDLE", "500"))
SLOW = int(env("SLOW", "100"))
SLOW_EVERY = float(env("SLOW_EVERY", "3"))
PROBE_EVERY = float(env("PROBE_EVERY", "0.2"))
PROBE_LIMIT_MS = float(env("PROBE_LIMIT_MS", "100"))
CAP_TEST = env("CAP_TEST", "1") == "1"
CAP = int(env("CAP", "64"))
BIN = env("STARPUNK_BIN", os.path.join(ROOT, "build", "release", "starpunk"))
RECORD = env("RECORD", "1") == "1"


def log(msg):
    print(f"idle_clients: {msg}", file=sys.stderr, flush=True)


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)


# --------------------------------------------------------------- the holder
def hold(port, idle, slow, seconds, slow_every):
    """Runs in its own process (`idle_clients.py hold ...`); prints one JSON line."""
    raise_nofile()
    sel = selectors.DefaultSelector()
    addr = ("127.0.0.1", port)
    t0 = time.monotonic()
    lives = {"idle": [], "slow": []}         # seconds each lived before the server closed it
    got = {"idle": {}, "slow": {}}            # first bytes received before the close -> count
    opened = {"idle": 0, "slow": 0}
    failed_open = {"idle": 0, "slow": 0}
    slow_header = b"X-Slow-Header-Never-Ends: " + b"a" * 100000

    def open_one(kind):
        try:
            s = socket.create_connection(addr, timeout=5)
            if kind == "idle":
                s.sendall(f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
                read_response(s)
            else:
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            s.setblocking(False)
        except OSError:
            failed_open[kind] += 1
            return
        opened[kind] += 1
        sel.register(s, selectors.EVENT_READ, {"kind": kind, "born": time.monotonic(), "sent": 0, "buf": b""})

    for _ in range(idle):
        open_one("idle")
    for _ in range(slow):
        open_one("slow")
    print(json.dumps({"ready": time.monotonic() - t0}), flush=True)
    next_drip = time.monotonic() + slow_every
    end = t0 + seconds
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=0.1):
            s, d = key.fileobj, key.data
            try:
                chunk = s.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            if chunk:
                d["buf"] = (d["buf"] + chunk)[:64]
                continue
            sel.unregister(s)
            s.close()
            lives[d["kind"]].append(time.monotonic() - d["born"])
            first = d["buf"].split(b"\r\n", 1)[0].decode("latin-1") or "(closed, nothing sent)"
            got[d["kind"]][first] = got[d["kind"]].get(first, 0) + 1
            if time.monotonic() < end - 0.5:
                open_one(d["kind"])
        if time.monotonic() >= next_drip:
            next_drip += slow_every
            for key in list(sel.get_map().values()):
                d = key.data
                if d["kind"] == "slow":
                    try:
                        key.fileobj.send(slow_header[d["sent"]:d["sent"] + 1])
                        d["sent"] += 1
                    except OSError:
                        pass
    still = {"idle": 0, "slow": 0}
    for key in list(sel.get_map().values()):
        still[key.data["kind"]] += 1
        key.fileobj.close()
    print(json.dumps({"lives": lives, "got": got, "opened": opened, "failed_open": failed_open,
                      "open_at_end": still}), flush=True)


# --------------------------------------------------------------- probes
def probe(port, timeout=2.0):
    """GET /health on a fresh connection: (status or None, ms connect-to-last-byte)."""
    t = time.perf_counter()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
            buf = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        status = int(buf.split(b" ", 2)[1]) if buf.startswith(b"HTTP/1.1 ") else None
    except (OSError, ValueError, IndexError):
        status = None
    return status, (time.perf_counter() - t) * 1000


def raw(port, data, timeout=10.0):
    """Send data, read until the server closes or timeout: the status (or None)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            try:
                s.sendall(data)
            except OSError:
                pass  # the server may answer and close before reading all of it
            buf = b""
            while b"\r\n" not in buf:
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        return int(buf.split(b" ", 2)[1]) if buf.startswith(b"HTTP/1.1 ") else None
    except (OSError, ValueError, IndexError):
        return None


STARTED = (None, None)


def main():
    global STARTED
    STARTED = (git_commit(ROOT), time.strftime("%Y-%m-%d %H:%M", time.gmtime()))
    if not os.access(BIN, os.X_OK):
        sys.exit(f"idle_clients: no executable {BIN}: build it first, or set STARPUNK_BIN")
    soft, hard = raise_nofile()
    need = IDLE + SLOW + 64
    if soft < need:
        sys.exit(f"idle_clients: open-file limit {soft} (hard {hard}) is below the {need} this needs")
    work = tempfile.mkdtemp(prefix="starpunk-idle.", dir=env("TMPDIR", "/var/tmp"))
    servers = []
    try:
        return run(work, servers)
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(work, ignore_errors=True)


def run(work, servers):
    os.makedirs(os.path.join(work, "a"))
    server = Server(BIN, os.path.join(work, "a"))
    servers.append(server)
    with open(f"/proc/{server.pid}/limits") as f:
        nofile = next(line.split()[3] for line in f if line.startswith("Max open files"))
    log(f"server pid {server.pid} port {server.port}, its open-file limit {nofile}; "
        f"holding {IDLE} idle + {SLOW} slow-header connections for {HOLD:g} s")
    base_probes = [probe(server.port)[1] for _ in range(20)]
    sampler = Sampler(server.pid)
    holder = subprocess.Popen([sys.executable, os.path.abspath(__file__), "hold", str(server.port), str(IDLE),
                               str(SLOW), str(HOLD), str(SLOW_EVERY)], stdout=subprocess.PIPE, text=True)
    ready = json.loads(holder.stdout.readline() or '{"ready": null}')["ready"]
    if ready is None:
        holder.wait()
        raise SystemExit("idle_clients: the holder could not open its connections")
    log(f"holder ready after {ready:.1f} s; probing /health every {PROBE_EVERY * 1000:.0f} ms")
    probes = []  # (status, ms)
    nxt = time.monotonic()
    while holder.poll() is None:
        probes.append(probe(server.port))
        nxt += PROBE_EVERY
        time.sleep(max(0.0, nxt - time.monotonic()))
    held = json.loads(holder.stdout.read().strip().splitlines()[-1])
    samples = sampler.stop()

    lat = [ms for _, ms in probes]
    failures = sum(1 for st, ms in probes if st != 200 or ms > PROBE_LIMIT_MS)
    p99, pmax = percentile(lat, 99), max(lat)

    big_header = raw(server.port, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
    big_declared = raw(server.port, b"POST /micropub HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                                    b"Content-Length: 11534336\r\n\r\n")
    chunk = b"100000\r\n" + b"a" * 0x100000 + b"\r\n"  # 1 MiB chunks, 11 of them: past 10M
    big_chunked = raw(server.port, b"POST /micropub HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                                   b"Transfer-Encoding: chunked\r\n\r\n" + chunk * 11 + b"0\r\n\r\n")
    after_status, after_ms = probe(server.port)
    alive = server.alive()
    exit_code = server.stop()

    cap = cap_test(work, servers) if CAP_TEST else None

    def lives(kind):
        v = held["lives"][kind]
        return (f"{len(v)} closed by the server, lived {min(v):.1f}–{max(v):.1f} s (median "
                f"{percentile(v, 50):.1f})" if v else "none closed by the server")

    checks = {
        f"/health: every probe 200 within {PROBE_LIMIT_MS:g} ms": failures == 0 and len(probes) > 0,
        "idle and slow connections held (holder opened all)": held["failed_open"]["idle"] == 0
        and held["failed_open"]["slow"] == 0,
        "slow-header clients closed by the header timeout (none lived > 15 s)":
            SLOW == 0 or HOLD < 12 or bool(held["lives"]["slow"] and max(held["lives"]["slow"]) <= 15),
        "oversized header block: 431": big_header == 431,
        "oversized declared body: 413": big_declared == 413,
        "oversized chunked body: 413": big_chunked == 413,
        "/health 200 afterwards, server up, clean exit": after_status == 200 and alive and exit_code == 0,
    }
    if cap is not None:
        checks[f"cap: connection {CAP + 1} answered once a slot frees"] = cap["answered_after_free"]
    mb = lambda kib: f"{kib / 1024:.1f}"
    out = [
        f"# Slow and idle clients — {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, commit {STARTED[0]}",
        "",
        f"{IDLE} idle keep-alive + {SLOW} slow-header connections (one header byte every {SLOW_EVERY:g} s) kept "
        f"open for {HOLD:g} s (re-opened when the server closes one); server open-file limit {nofile}; "
        f"load average {' '.join(open('/proc/loadavg').read().split()[:3])}",
        "",
        f"/health probes on a fresh connection every {PROBE_EVERY * 1000:.0f} ms: {len(probes)}, p50 "
        f"{percentile(lat, 50):.2f} ms, p99 {p99:.2f} ms, max {pmax:.2f} ms, failures (not 200 or > "
        f"{PROBE_LIMIT_MS:g} ms) {failures}; before the holder: p50 {percentile(base_probes, 50):.2f} ms",
        f"idle: opened {held['opened']['idle']}, {lives('idle')}; answers seen at the close: {held['got']['idle']}",
        f"slow: opened {held['opened']['slow']}, {lives('slow')}; answers seen at the close: {held['got']['slow']}",
        f"open at the end of the hold: {held['open_at_end']}; failed opens: {held['failed_open']}",
        f"server during the hold: RSS max {mb(max(s[1] for s in samples))} MiB, open fds max "
        f"{max(s[2] for s in samples)}, at the end {samples[-1][2]}",
        f"oversized: header block 20 KB → {big_header}, declared 11 MiB body → {big_declared}, chunked 11 MiB "
        f"body → {big_chunked}; /health afterwards → {after_status} in {after_ms:.2f} ms",
    ]
    if cap is not None:
        out.append(f"cap (MAX_CONNECTIONS={CAP}, {CAP} connections held): {cap['text']}")
    out.append("")
    out += [f"- {name}: {'PASS' if ok else 'FAIL'}" for name, ok in checks.items()]
    overall = all(checks.values())
    out += ["", f"OVERALL: {'PASS' if overall else 'FAIL'}"]
    report = "\n".join(out) + "\n"
    print(report)
    if env("RESULTS"):
        with open(env("RESULTS"), "w") as f:
            f.write(report)

    if RECORD:
        kind = "CI" if HOLD <= 60 else "long run"
        cmd = "bench/reliability/idle_clients.sh" if HOLD == 60 else f"HOLD={HOLD:g} bench/reliability/idle_clients.sh"
        suffix = "ci" if HOLD <= 60 else "long"
        v = lambda ok: "PASS" if ok else "**FAIL**"
        rows = [
            {"id": f"idle-health-{suffix}", "kind": kind, "command": cmd,
             "figure": f"Slow and idle clients: `/health` on a fresh connection every {PROBE_EVERY * 1000:.0f} ms "
                       f"while {IDLE} idle keep-alive + {SLOW} slow-header connections are held {HOLD:g} s; "
                       f"target 200 within {PROBE_LIMIT_MS:g} ms",
             "result": f"{v(checks[f'/health: every probe 200 within {PROBE_LIMIT_MS:g} ms'])}: {len(probes)} probes, "
                       f"{failures} failures, p99 {p99:.2f} ms, max {pmax:.2f} ms; idle: {lives('idle')}; "
                       f"slow: {lives('slow')}"},
            {"id": "idle-431-413", "kind": kind, "command": cmd,
             "figure": "Oversized header block (20 KB) → 431; oversized body (declared 11 MiB, chunked 11 MiB, "
                       "MAX_CONTENT_LENGTH 10M) → 413",
             "result": f"{v(big_header == 431 and big_declared == 413 and big_chunked == 413)}: {big_header}, "
                       f"{big_declared}, {big_chunked}"},
        ]
        if cap is not None:
            rows.append({"id": "idle-cap", "kind": kind, "command": cmd,
                         "figure": f"Connections beyond MAX_CONNECTIONS ({CAP}): wait, then answered when a slot "
                                   "frees (informational)",
                         "result": f"{v(cap['answered_after_free'])}: {cap['text']}"})
        from record import record
        record(rows, *STARTED)
    return 0 if overall else 1


def cap_test(work, servers):
    """MAX_CONNECTIONS=CAP, CAP idle connections held: what happens to one more."""
    os.makedirs(os.path.join(work, "b"))
    server = Server(BIN, os.path.join(work, "b"), {"MAX_CONNECTIONS": str(CAP)})
    servers.append(server)
    held = []
    for _ in range(CAP):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        read_response(s)
        held.append(s)
    extra = socket.create_connection(("127.0.0.1", server.port), timeout=5)  # the kernel completes it
    extra.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    extra.settimeout(2.0)
    t = time.perf_counter()
    try:
        early = extra.recv(65536)
    except socket.timeout:
        early = None
    waited = time.perf_counter() - t
    held.pop().close()  # free one slot
    extra.settimeout(5.0)
    t = time.perf_counter()
    try:
        late = early if early else extra.recv(65536)
    except socket.timeout:
        late = b""
    after_free_ms = (time.perf_counter() - t) * 1000
    for s in held + [extra]:
        s.close()
    answered = bool(late) and late.startswith(b"HTTP/1.1 200")
    if early:
        text = f"connection {CAP + 1} was answered at once ({early[:12]!r}) — the cap did not hold it back"
    else:
        text = (f"connection {CAP + 1} connected (kernel backlog) but got no answer in {waited:.1f} s; after one "
                f"held connection closed: {'200 in %.1f ms' % after_free_ms if answered else 'no answer in 5 s'}")
    server.stop()
    return {"answered_after_free": answered and not early, "text": text}


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "hold":
        hold(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]))
        sys.exit(0)
    sys.exit(main())
