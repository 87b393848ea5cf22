"""deploy/Caddyfile, exercised: Debian's caddy runs it (the site address
adapted to a loopback port and a throwaway certificate) in front of the real
server; pages, a conditional GET, feeds and a Micropub post with a bearer
token go through it over TLS. Its body cap is read from `caddy adapt`."""
import http.client
import os
import re
import socket
import ssl
import subprocess
from urllib.parse import urlencode

import pytest

from conftest import wait_until
from test_deploy_nginx import DEPLOY, HOST, TokenEndpoint, adapt, free_port


class Caddy:
    def __init__(self, tmp, upstream_port):
        self.port = free_port()
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-keyout", str(tmp / "key.pem"), "-out", str(tmp / "cert.pem"), "-subj", f"/CN={HOST}",
                        "-addext", f"subjectAltName=DNS:{HOST}"], check=True, capture_output=True)
        site = adapt((DEPLOY / "Caddyfile").read_text(), [
            (f"{HOST} {{\n", f"https://{HOST}:{self.port} {{\n\tbind 127.0.0.1\n\ttls {tmp}/cert.pem {tmp}/key.pem\n"),
            ("reverse_proxy 127.0.0.1:8000", f"reverse_proxy 127.0.0.1:{upstream_port}"),
        ])
        (tmp / "Caddyfile").write_text("{\n\tadmin off\n\tauto_https disable_redirects\n\tdefault_sni " + HOST + "\n\tstorage file_system "
                                       f"{tmp}/data\n}}\n\n" + site)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp),
               "XDG_DATA_HOME": str(tmp / "xdg-data"), "XDG_CONFIG_HOME": str(tmp / "xdg-config")}
        self.log = open(tmp / "caddy.log", "w+b")
        self.proc = subprocess.Popen(["caddy", "run", "--config", str(tmp / "Caddyfile"), "--adapter", "caddyfile"],
                                     cwd=tmp, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.logpath = tmp / "caddy.log"
        wait_until(self._listening, what="caddy to listen")
        self.ctx = ssl.create_default_context(cafile=str(tmp / "cert.pem"))
        self.ctx.check_hostname = False

    def _listening(self):
        assert self.proc.poll() is None, self.logpath.read_text()
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def request(self, method, path, body=None, headers=None):
        c = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=10)
        try:
            c.request(method, path, body=body, headers={"Host": f"{HOST}:{self.port}", **(headers or {})})
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
        self.log.close()


@pytest.fixture
def behind_caddy(make_server, tmp_path):
    tokens = TokenEndpoint()
    s = make_server({"SITE_URL": f"https://{HOST}", "ADMIN_ME": tokens.me, "TOKEN_ENDPOINT": tokens.endpoint,
                     "ALLOW_HTTP_ENDPOINTS": "true", "INDIEAUTH_SERVER": "false"})
    d = tmp_path / "caddy"
    d.mkdir()
    caddy = Caddy(d, s.port)
    yield s, caddy, tokens
    caddy.stop()
    tokens.close()


def test_the_site_through_the_shipped_caddyfile(behind_caddy):
    s, caddy, tokens = behind_caddy
    form = urlencode({"h": "entry", "content": "Posted through Caddy", "mp-slug": "through-caddy"})
    ctype = {"Content-Type": "application/x-www-form-urlencoded"}
    r, body = caddy.request("POST", "/micropub", form, ctype)
    assert r.status == 401, body
    r, body = caddy.request("POST", "/micropub", form, {**ctype, "Authorization": f"Bearer {tokens.token}"})
    assert r.status == 201, body
    assert r.getheader("Location") == f"https://{HOST}/note/through-caddy"

    r, body = caddy.request("GET", "/")
    assert r.status == 200 and "Posted through Caddy" in body.decode()
    assert r.getheader("Content-Security-Policy")
    assert r.getheader("X-Request-ID")

    r, _ = caddy.request("GET", "/note/through-caddy")
    etag = r.getheader("ETag")
    assert r.status == 200 and etag
    r, body = caddy.request("GET", "/note/through-caddy", headers={"If-None-Match": etag})
    assert r.status == 304 and body == b""

    for path in ("/feed.xml", "/feed.atom", "/feed.json"):
        r, body = caddy.request("GET", path)
        assert r.status == 200 and f"https://{HOST}/note/through-caddy" in body.decode(), path
        r2, body2 = caddy.request("GET", path, headers={"If-None-Match": r.getheader("ETag")})
        assert r2.status == 304 and body2 == b"", path


def test_the_caddyfile_body_cap_is_max_content_length():
    adapted = subprocess.run(["caddy", "adapt", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
                             capture_output=True, text=True, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                                                                  "HOME": "/nonexistent"})
    assert adapted.returncode == 0, adapted.stderr
    sizes = re.findall(r'"handler":"request_body","max_size":(\d+)', adapted.stdout)
    assert sizes == [str(10 * 1024 * 1024)]  # MAX_CONTENT_LENGTH's default, 10M
