"""Shared pieces of the reliability scripts (issue 17): a mock Micropub token
endpoint, starting `starpunk serve` on loopback, /proc sampling, percentiles.
Standard library only. Servers listen on 127.0.0.1 only.
"""
import json
import os
import re
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class TokenEndpoint:
    """GET /token with `Authorization: Bearer <t>` answers 200 {me, scope} when
    t is in self.tokens, else 401 — what StarPunk's TOKEN_ENDPOINT check asks."""

    def __init__(self):
        self.tokens = set()
        self.calls = 0
        mock = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                mock.calls += 1
                auth = self.headers.get("Authorization", "")
                ok = self.path == "/token" and auth.startswith("Bearer ") and auth[7:] in mock.tokens
                body = json.dumps({"me": mock.profile, "client_id": "https://reliability.example/",
                                   "scope": "create update delete"} if ok else {"error": "invalid_token"}).encode()
                self.send_response(200 if ok else 401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.profile = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.endpoint = self.profile + "token"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """`starpunk serve` from an empty environment (env -i style: nothing but
    PATH and the given variables), DEV_MODE, on a free loopback port."""

    def __init__(self, binary, work, extra_env=None, preexec=None):
        self.binary, self.work = os.path.abspath(binary), work
        self.port = free_port()
        self.data = os.path.join(work, "data")
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": work, "DATA_PATH": self.data,
                    "HOST": "127.0.0.1", "PORT": str(self.port), "DEV_MODE": "true", "LOG_LEVEL": "WARNING"}
        self.env.update(extra_env or {})
        self.log_path = os.path.join(work, "serve.log")
        self.log = open(self.log_path, "w+")
        self.proc = subprocess.Popen([self.binary, "serve"], cwd=work, env=self.env, stdout=self.log,
                                     stderr=subprocess.STDOUT, preexec_fn=preexec)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("starpunk exited at start:\n" + self.output())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("starpunk did not listen within 30 s:\n" + self.output())

    @property
    def pid(self):
        return self.proc.pid

    def output(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        """SIGTERM, wait up to 20 s (the shutdown grace is 10 s); returns the exit code."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def rss_kib(pid):
    return rss_parts(pid)["VmRSS"]


def rss_parts(pid):
    """VmRSS and its parts RssAnon (heap, stacks), RssFile (the executable,
    libraries, mapped files) and RssShmem (shared memory such as SQLite's
    -shm), in KiB."""
    with open(f"/proc/{pid}/status") as f:
        text = f.read()
    out = {}
    for k in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
        m = re.search(r"^%s:\s+(\d+) kB" % k, text, re.M)
        out[k] = int(m.group(1)) if m else 0
    return out


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class Sampler:
    """Samples VmRSS (KiB) and the open descriptor count of pid every `period` s."""

    def __init__(self, pid, period=1.0):
        self.pid, self.period = pid, period
        self.samples = []  # (seconds since start, rss KiB, fds, anon KiB, file KiB, shmem KiB)
        self._stop = threading.Event()
        self.t0 = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                parts = rss_parts(self.pid)
                self.samples.append((time.monotonic() - self.t0, parts["VmRSS"], fd_count(self.pid),
                                     parts["RssAnon"], parts["RssFile"], parts["RssShmem"]))
            except OSError:
                pass
            self._stop.wait(self.period)

    def stop(self):
        self._stop.set()
        self._thread.join()
        return self.samples


def percentile(values, q):
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    v = sorted(values)
    return v[max(0, min(len(v) - 1, -(-len(v) * q // 100) - 1))]


def git_commit(root):
    """`git rev-parse --short HEAD`, plus " dirty" when tracked files other than
    docs/reliability.md differ from it."""
    try:
        rev = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, check=True).stdout.strip()
        # The figures table itself is what the scripts write: it does not count.
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no", "--",
                                ".", ":(exclude)docs/reliability.md"],
                               capture_output=True, text=True).stdout.strip()
        return rev + (" dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
