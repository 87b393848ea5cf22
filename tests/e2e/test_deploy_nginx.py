"""The shipped deployment files, exercised: Debian's real nginx runs
deploy/nginx/starpunk.conf (adapted only to loopback ports, a temporary
directory and a throwaway certificate) in front of the real server, and pages,
a conditional GET, the feeds, the proxy cache and a Micropub post with a bearer
token go through it over TLS. The systemd unit is checked for the directives
the deployment guide relies on, and by `systemd-analyze verify` when present.
"""
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
import uuid
import http.client
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

import pytest

from conftest import BIN, ROOT, log_text, wait_until

DEPLOY = ROOT / "deploy"
HOST = "example.com"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TokenEndpoint:
    """ADMIN_ME's token endpoint on loopback: vouches for one token."""

    def __init__(self):
        self.token = "tok-" + uuid.uuid4().hex
        self.seen = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                auth = self.headers.get("Authorization", "")
                outer.seen.append(auth)
                ok = auth == f"Bearer {outer.token}"
                body = json.dumps({"me": outer.me, "client_id": "https://app.example/", "scope": "create"}
                                  if ok else {"error": "invalid_token"}).encode()
                self.send_response(200 if ok else 401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.me, self.endpoint = base + "/", base + "/token"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def adapt(conf, replacements):
    """The shipped text with each (old, new) replaced; every `old` must be
    there, so a change to the shipped file cannot silently bypass the test."""
    for old, new in replacements:
        assert old in conf, f"deploy/nginx/starpunk.conf no longer contains {old!r}"
        conf = conf.replace(old, new)
    return conf


class Nginx:
    def __init__(self, tmp, upstream_port):
        self.dir = tmp
        self.https_port, self.http_port = free_port(), free_port()
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-keyout", str(tmp / "key.pem"), "-out", str(tmp / "cert.pem"), "-subj", f"/CN={HOST}",
                        "-addext", f"subjectAltName=DNS:{HOST}"], check=True, capture_output=True)
        site = adapt((DEPLOY / "nginx" / "starpunk.conf").read_text(), [
            ("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream_port};"),
            ("/var/cache/nginx/starpunk", str(tmp / "cache")),
            ("listen 80;\n    listen [::]:80;", f"listen 127.0.0.1:{self.http_port};"),
            ("listen 443 ssl http2;\n    listen [::]:443 ssl http2;", f"listen 127.0.0.1:{self.https_port} ssl http2;"),
            (f"/etc/letsencrypt/live/{HOST}/fullchain.pem", str(tmp / "cert.pem")),
            (f"/etc/letsencrypt/live/{HOST}/privkey.pem", str(tmp / "key.pem")),
        ])
        (tmp / "starpunk.conf").write_text(site)
        temp = "\n".join(f"  {k}_temp_path {tmp}/{k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (tmp / "nginx.conf").write_text(f"""
{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log info;
events {{ worker_connections 64; }}
http {{
  access_log {tmp}/access.log;
{temp}
  include {tmp}/starpunk.conf;
}}
""")
        args = ["nginx", "-p", str(tmp), "-e", str(tmp / "error.log"), "-c", str(tmp / "nginx.conf")]
        t = subprocess.run([*args, "-t"], capture_output=True, text=True)
        assert t.returncode == 0, t.stderr
        self.proc = subprocess.Popen([*args, "-g", "daemon off;"], stderr=subprocess.PIPE)
        wait_until(self._listening, what="nginx to listen")
        self.ctx = ssl.create_default_context(cafile=str(tmp / "cert.pem"))
        self.ctx.check_hostname = False  # the certificate names example.com; we connect to 127.0.0.1

    def _listening(self):
        assert self.proc.poll() is None, self.proc.stderr.read().decode()
        try:
            socket.create_connection(("127.0.0.1", self.https_port), timeout=1).close()
            return True
        except OSError:
            return False

    def request(self, method, path, body=None, headers=None):
        c = http.client.HTTPSConnection("127.0.0.1", self.https_port, context=self.ctx, timeout=10)
        try:
            c.request(method, path, body=body, headers={"Host": HOST, **(headers or {})})
            r = c.getresponse()
            return r, r.read()
        finally:
            c.close()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def behind_nginx(make_server, tmp_path):
    tokens = TokenEndpoint()
    s = make_server({"SITE_URL": f"https://{HOST}", "ADMIN_ME": tokens.me, "TOKEN_ENDPOINT": tokens.endpoint,
                     "ALLOW_HTTP_ENDPOINTS": "true", "INDIEAUTH_SERVER": "false"})
    ngx_dir = tmp_path / "nginx"
    ngx_dir.mkdir()
    nginx = Nginx(ngx_dir, s.port)
    yield s, nginx, tokens
    nginx.stop()
    tokens.close()


def test_the_site_through_the_shipped_nginx_config(behind_nginx):
    s, nginx, tokens = behind_nginx

    # Plain http is redirected to https.
    c = http.client.HTTPConnection("127.0.0.1", nginx.http_port, timeout=10)
    c.request("GET", "/feed.xml", headers={"Host": HOST})
    r = c.getresponse()
    assert r.status == 301 and r.getheader("Location") == f"https://{HOST}/feed.xml"
    c.close()

    # Micropub: the bearer token reaches StarPunk (and its token endpoint).
    form = urlencode({"h": "entry", "content": "Posted through nginx", "mp-slug": "through-nginx"})
    ctype = {"Content-Type": "application/x-www-form-urlencoded"}
    r, body = nginx.request("POST", "/micropub", form, ctype)
    assert r.status == 401, body  # no token: refused
    r, body = nginx.request("POST", "/micropub", form, {**ctype, "Authorization": f"Bearer {tokens.token}"})
    assert r.status == 201, body
    assert r.getheader("Location") == f"https://{HOST}/note/through-nginx"
    assert f"Bearer {tokens.token}" in tokens.seen

    # Pages, with StarPunk's own headers and a request id shared by both logs.
    r, body = nginx.request("GET", "/")
    assert r.status == 200 and "Posted through nginx" in body.decode()
    assert r.getheader("Content-Security-Policy") and r.getheader("Strict-Transport-Security")
    request_id = r.getheader("X-Request-ID")
    assert request_id and re.fullmatch(r"[0-9a-f]{32}", request_id), request_id  # nginx's $request_id
    wait_until(lambda: request_id in log_text(s), what="nginx's request id in StarPunk's log")

    # A conditional GET of a permalink: 304 with the ETag StarPunk gave.
    r, body = nginx.request("GET", "/note/through-nginx")
    assert r.status == 200 and "Posted through nginx" in body.decode()
    etag = r.getheader("ETag")
    assert etag
    r, body = nginx.request("GET", "/note/through-nginx", headers={"If-None-Match": etag})
    assert r.status == 304 and body == b""

    # Feeds: every format, absolute https links, cached by nginx within max-age.
    for path, ctype_prefix in (("/feed.xml", "application/rss+xml"), ("/feed.atom", "application/atom+xml"),
                               ("/feed.json", "application/feed+json")):
        r, body = nginx.request("GET", path)
        assert r.status == 200, path
        assert r.getheader("Content-Type").startswith(ctype_prefix), r.getheader("Content-Type")
        assert f"https://{HOST}/note/through-nginx" in body.decode()
        assert r.getheader("Cache-Control").startswith("public, max-age=")
    r, _ = nginx.request("GET", "/feed.json")
    assert r.getheader("X-Cache-Status") == "HIT"
    feed_etag = r.getheader("ETag")
    r, body = nginx.request("GET", "/feed.json", headers={"If-None-Match": feed_etag})
    assert r.status == 304 and body == b""
    # /feed negotiates: the Accept header is part of the cache key.
    r, _ = nginx.request("GET", "/feed", headers={"Accept": "application/atom+xml"})
    assert r.getheader("Content-Type").startswith("application/atom+xml")
    r, _ = nginx.request("GET", "/feed", headers={"Accept": "application/feed+json"})
    assert r.getheader("Content-Type").startswith("application/feed+json")

    # A request with the session cookie never gets or leaves a cached copy.
    r, _ = nginx.request("GET", "/feed.json", headers={"Cookie": "starpunk_session=whatever"})
    assert r.getheader("X-Cache-Status") == "BYPASS"

    # Bodies over client_max_body_size are refused by nginx before StarPunk.
    raw = nginx.ctx.wrap_socket(socket.create_connection(("127.0.0.1", nginx.https_port), timeout=10))
    raw.sendall(f"POST /micropub HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: {10 * 1024 * 1024 + 1}\r\n"
                f"Authorization: Bearer {tokens.token}\r\n\r\n".encode())
    assert raw.recv(64).startswith(b"HTTP/1.1 413")
    raw.close()


def test_the_systemd_unit(tmp_path):
    unit = (DEPLOY / "starpunk.service").read_text()
    directives = dict(re.findall(r"^(\w+)=(.*)$", unit, re.M))
    assert directives["Type"] == "notify"  # the server sends READY=1 (test_service_manager.py)
    assert directives["DynamicUser"] == "yes"
    assert directives["StateDirectory"] == "starpunk"
    assert directives["ProtectSystem"] == "strict"
    assert directives["NoNewPrivileges"] == "yes"
    assert directives["RestartPreventExitStatus"] == "2"  # a configuration error does not loop
    assert "DATA_PATH=/var/lib/starpunk" in unit
    # The render workers set their own limits: setrlimit must stay allowed.
    assert "@resources" not in re.findall(r"^SystemCallFilter=~(.*)$", unit, re.M)[0]
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed; directives checked above")
    local = tmp_path / "starpunk.service"
    local.write_text(unit.replace("/usr/local/bin/starpunk", BIN))
    r = subprocess.run(["systemd-analyze", "verify", str(local)], capture_output=True, text=True)
    complaints = [line for line in (r.stdout + r.stderr).splitlines() if str(local) in line]
    assert r.returncode == 0 and complaints == [], r.stdout + r.stderr
