"""End-to-end harness: starts the real `starpunk` binary on a free loopback port
with a fresh temporary data directory, and talks to it over real sockets.

STARPUNK_BIN points at the binary (CTest sets it); it defaults to the release build.
"""
import os
import re
import signal
import socket
import subprocess
import time
import http.client
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("STARPUNK_BIN", str(ROOT / "build" / "release" / "starpunk"))
LISTEN_RE = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")


class Server:
    """A running starpunk process. `env` overrides the defaults below."""

    def __init__(self, tmp_path, env=None, args=("serve",), preexec_fn=None):
        self.data = tmp_path / "data"
        self.cwd = tmp_path
        base = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "DATA_PATH": str(self.data),
            "HOST": "127.0.0.1",
            "PORT": "0",
            "SITE_URL": "http://127.0.0.1:8000",
            "ADMIN_ME": "http://127.0.0.1:8000/",
            "SESSION_SECRET": "e2e-" + "s" * 40,
            "WORKERS": "2",
            "LOG_LEVEL": "INFO",
        }
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                base[k] = os.environ[k]
        base.update(env or {})
        self.env = base
        self.log_path = tmp_path / "server.log"
        self.log = open(self.log_path, "w+b")
        self.proc = subprocess.Popen([BIN, *args], cwd=self.cwd, env=base,
                                     stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=preexec_fn)
        self.port = self._wait_for_port()

    def _wait_for_port(self, timeout=20.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = LISTEN_RE.search(self.output())
            if m:
                return int(m.group(1))
            if self.proc.poll() is not None:
                raise RuntimeError("starpunk exited early:\n" + self.output())
            time.sleep(0.02)
        raise RuntimeError("starpunk did not start listening:\n" + self.output())

    def output(self):
        return self.log_path.read_bytes().decode("utf-8", "replace")

    def conn(self, timeout=10):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None):
        c = self.conn()
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            return r, data
        finally:
            c.close()

    def raw(self, payload: bytes, timeout=10, read_until_close=True):
        """Sends raw bytes; returns everything the server answers before closing."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        try:
            s.sendall(payload)
            chunks = []
            while True:
                try:
                    b = s.recv(65536)
                except (ConnectionResetError, socket.timeout):
                    break
                if not b:
                    break
                chunks.append(b)
                if not read_until_close:
                    break
            return b"".join(chunks)
        finally:
            s.close()

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


def wait_until(condition, timeout=10.0, interval=0.02, what="the condition"):
    """Polls `condition` until it returns something truthy and returns that; fails
    the test after `timeout` seconds. For things that happen asynchronously (the
    log's once-a-second flush, a write by another process reaching the server):
    the test waits exactly as long as needed, not a guessed sleep."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def log_text(server):
    """What the server logged so far: its stderr/stdout and its log file."""
    path = server.data / "logs" / "starpunk.log"
    return server.output() + (path.read_text(errors="replace") if path.exists() else "")


@pytest.fixture
def make_server(tmp_path):
    started = []

    def start(env=None, args=("serve",), dotenv=None, preexec_fn=None):
        sub = tmp_path / f"s{len(started)}"
        sub.mkdir()
        if dotenv is not None:
            (sub / ".env").write_text(dotenv)
        s = Server(sub, env, args, preexec_fn)
        started.append(s)
        return s

    yield start
    for s in started:
        code = s.stop()
        assert code == 0, f"server exited with {code}:\n{s.output()[-4000:]}"


@pytest.fixture
def server(make_server):
    return make_server()


def run_cli(tmp_path, args, env=None, timeout=30):
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DATA_PATH": str(tmp_path / "data")}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            base[k] = os.environ[k]
    base.update(env or {})
    return subprocess.run([BIN, *args], cwd=tmp_path, env=base, capture_output=True, text=True, timeout=timeout)
