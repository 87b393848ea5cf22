#!/usr/bin/env python3
"""Micropub create latency through HTTP (SPEC §14: durable create p50 < 10 ms).

Starts a mock token endpoint on loopback and `starpunk serve` on a fresh
DATA_PATH, then sends sequential creates over one keep-alive connection:
  * form-encoded and JSON creates with one token (verified once, then cached:
    this is the durable create path — file fsync'd, directory fsync'd, row
    committed — plus parsing and the HTTP round trip);
  * creates with a fresh token each time (every request also asks the token
    endpoint; informational: the real endpoint's latency dominates in production);
  * baselines: GET /health (inline, memory only) and GET /micropub?q=config
    (worker pool + cached token, no disk), to separate HTTP and scheduling
    cost from the write itself.
Prints `name_p50 X ms` style lines plus a verdict. Standard library only.
Usage: micropub_bench.py <starpunk binary> <work dir> <creates>
"""
import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

binary, work, creates = os.path.abspath(sys.argv[1]), sys.argv[2], int(sys.argv[3])
tokens = set()


class Token(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        auth = self.headers.get("Authorization", "")
        ok = auth.startswith("Bearer ") and auth[7:] in tokens
        body = json.dumps({"me": profile, "client_id": "https://bench.example/", "scope": "create"} if ok
                          else {"error": "invalid_token"}).encode()
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


mock = ThreadingHTTPServer(("127.0.0.1", 0), Token)
profile = f"http://127.0.0.1:{mock.server_address[1]}/"
threading.Thread(target=mock.serve_forever, daemon=True).start()

env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DATA_PATH": os.path.join(work, "data"),
       "HOST": "127.0.0.1", "PORT": "0", "SITE_URL": "http://127.0.0.1:8000", "ADMIN_ME": profile,
       "TOKEN_ENDPOINT": profile + "token", "ALLOW_HTTP_ENDPOINTS": "true",
       "SESSION_SECRET": "bench-" + "s" * 40, "LOG_LEVEL": "WARNING", "WORKERS": "2"}
log = open(os.path.join(work, "serve.log"), "w+")
proc = subprocess.Popen([binary, "serve"], cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
try:
    port = None
    for _ in range(400):
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", open(log.name).read())
        if m:
            port = int(m.group(1))
            break
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    if port is None:
        sys.exit("starpunk did not start:\n" + open(log.name).read())
    conn = http.client.HTTPConnection("127.0.0.1", port)

    def create(content_type, body, token):
        t = time.perf_counter()
        conn.request("POST", "/micropub", body=body,
                     headers={"Content-Type": content_type, "Authorization": "Bearer " + token})
        r = conn.getresponse()
        r.read()
        elapsed = (time.perf_counter() - t) * 1000
        assert r.status == 201, (r.status, r.getheader("Content-Type"))
        return elapsed

    def report(name, lat):
        lat = sorted(lat)
        p = lambda q: lat[min(len(lat) - 1, int(q / 100 * len(lat)))]
        print(f"{name}_n {len(lat)}\n{name}_p50 {p(50):.3f} ms\n{name}_p99 {p(99):.3f} ms\n"
              f"{name}_max {lat[-1]:.3f} ms\n{name}_rate {1000 * len(lat) / sum(lat):.0f} req/s (sequential)", flush=True)

    def get(path, token=None):
        t = time.perf_counter()
        conn.request("GET", path, headers={"Authorization": "Bearer " + token} if token else {})
        r = conn.getresponse()
        r.read()
        elapsed = (time.perf_counter() - t) * 1000
        assert r.status == 200, (path, r.status)
        return elapsed

    token = "bench-" + uuid.uuid4().hex
    tokens.add(token)
    # Baselines in the same run: an inline memory-only answer, and a worker-pool
    # round trip through the token cache without touching the disk.
    for _ in range(20):
        get("/health")
    report("baseline_health", [get("/health") for _ in range(creates)])
    get("/micropub?q=config", token)
    report("baseline_q_config", [get("/micropub?q=config", token) for _ in range(creates)])
    first = create("application/x-www-form-urlencoded", urlencode({"content": "warm-up note"}), token)
    print(f"first_create_token_miss {first:.3f} ms")
    for i in range(20):  # warm-up, unreported
        create("application/x-www-form-urlencoded", urlencode({"content": f"warm-up {i}"}), token)

    report("form_create", [create("application/x-www-form-urlencoded",
                                  urlencode({"h": "entry", "content": f"Benchmark note number {i} with a few words",
                                             "category[]": ["bench", "micropub"]}, doseq=True), token)
                           for i in range(creates)])
    report("json_create", [create("application/json",
                                  json.dumps({"type": ["h-entry"], "properties": {
                                      "content": [f"JSON benchmark note {i}"], "category": ["bench"]}}), token)
                           for i in range(creates)])
    fresh = []
    for i in range(max(50, creates // 5)):
        t = "bench-" + uuid.uuid4().hex
        tokens.add(t)
        fresh.append(create("application/x-www-form-urlencoded", urlencode({"content": f"Fresh token note {i}"}), t))
    report("fresh_token_create", fresh)
finally:
    proc.terminate()
    proc.wait(15)
    mock.shutdown()
