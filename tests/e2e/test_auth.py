"""Admin login end to end (SPEC §4): the IndieAuth client flow against a mock
authorization server on loopback, sessions and their cookie, logout, CSRF and
cross-site defences, dev login, and what an admin sees that readers don't.

The mock plays the admin's own website (ADMIN_ME, advertising its
authorization endpoint in a Link header) and the authorization server: it
checks the PKCE verifier against the challenge it was sent and answers with
whatever `me` the test tells it to.
"""
import base64
import datetime as dt
import hashlib
import json
import re
import sqlite3
import threading
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

import html_validate
from conftest import run_cli

SITE_URL = "http://127.0.0.1:8000"


class MockIndieAuth:
    """A profile page + authorization endpoint on a free loopback port."""

    def __init__(self, issuer=None):
        self.me_answer = None  # `me` returned when a code is redeemed (default: the profile URL)
        self.issuer = issuer
        self.challenges = {}   # code -> code_challenge
        self.redeemed = []     # form bodies received on redemption
        mock = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path == "/":
                    body = b"<!doctype html><title>me</title><p>Hello</p>"
                    self.send_response(200)
                    if mock.issuer:
                        self.send_header("Link", f'<{mock.base}/metadata>; rel="indieauth-metadata"')
                    else:
                        self.send_header("Link", f'<{mock.base}/auth>; rel="authorization_endpoint"')
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                elif self.path == "/metadata":
                    body = json.dumps({"issuer": mock.issuer, "authorization_endpoint": f"{mock.base}/auth",
                                       "token_endpoint": f"{mock.base}/token"}).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                mock.redeemed.append(form)
                challenge = mock.challenges.get(form.get("code"))
                verifier = form.get("code_verifier", "")
                expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                if self.path != "/auth" or challenge is None or expected != challenge:
                    body = json.dumps({"error": "invalid_grant"}).encode()
                    self.send_response(400)
                else:
                    body = json.dumps({"me": mock.me_answer or mock.profile}).encode()
                    self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.profile = self.base + "/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def approve(self, authorize_url, code="the-code-1234567890"):
        """What the authorization endpoint does when the user approves: remembers
        the challenge for `code` and returns the callback query."""
        q = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
        self.challenges[code] = q["code_challenge"]
        answer = {"code": code, "state": q["state"]}
        if self.issuer:
            answer["iss"] = self.issuer
        return answer

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def mock():
    m = MockIndieAuth()
    yield m
    m.close()


def site_env(mock, **extra):
    env = {"SITE_URL": SITE_URL, "ADMIN_ME": mock.profile, "ALLOW_HTTP_ENDPOINTS": "true"}
    env.update(extra)
    return env


def post_form(server, path, fields, headers=None):
    h = {"Content-Type": "application/x-www-form-urlencoded"}
    h.update(headers or {})
    return server.request("POST", path, body=urlencode(fields), headers=h)


def session_cookie(response):
    for name, value in response.getheaders():
        if name.lower() == "set-cookie" and value.startswith("starpunk_session="):
            return value
    return None


def log_in(server, mock):
    """The whole flow; returns (Set-Cookie value, Cookie header to send)."""
    r, _ = post_form(server, "/auth/login", {"me": mock.profile})
    assert r.status == 302, r.status
    location = r.getheader("Location")
    assert location.startswith(mock.base + "/auth?")
    r, body = server.request("GET", "/auth/callback?" + urlencode(mock.approve(location)))
    assert r.status == 302, body.decode()
    set_cookie = session_cookie(r)
    assert set_cookie
    token = set_cookie.split(";")[0].split("=", 1)[1]
    return set_cookie, {"Cookie": f"starpunk_session={token}"}


def csrf_from(html):
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def import_draft(tmp_path, data, slug, text):
    src = tmp_path / f"drafts-{slug}"
    src.mkdir()
    (src / f"{slug}.md").write_text(text)
    r = run_cli(tmp_path, ["import", str(src), "--draft"], env={"DATA_PATH": str(data)})
    assert r.returncode == 0, r.stderr


# --------------------------------------------------------------------------- the flow

def test_login_page_is_a_valid_form(make_server, mock, tmp_path):
    s = make_server(site_env(mock))
    r, body = s.request("GET", "/auth/login")
    assert r.status == 200
    html = body.decode()
    assert 'name="me"' in html and 'action="' + SITE_URL + '/auth/login"' in html
    assert r.getheader("Cache-Control") == "no-store"
    assert html_validate.validate({"/auth/login": html}, tmp_path / "hv") == {}


def test_login_redirects_to_the_discovered_endpoint_with_pkce(make_server, mock):
    s = make_server(site_env(mock))
    r, _ = post_form(s, "/auth/login", {"me": mock.profile})
    assert r.status == 302
    url = urlsplit(r.getheader("Location"))
    assert f"{url.scheme}://{url.netloc}{url.path}" == mock.base + "/auth"
    q = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert q["response_type"] == "code"
    assert q["client_id"] == SITE_URL + "/"
    assert q["redirect_uri"] == SITE_URL + "/auth/callback"
    assert q["code_challenge_method"] == "S256"
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", q["code_challenge"])
    assert len(q["state"]) >= 22  # >= 128 bits, base64url
    assert q["me"] == mock.profile


def test_successful_login_sets_a_session_cookie(make_server, mock):
    s = make_server(site_env(mock))
    set_cookie, cookie = log_in(s, mock)
    attrs = [a.strip().lower() for a in set_cookie.split(";")]
    assert "httponly" in attrs and "samesite=lax" in attrs and "path=/" in attrs
    assert "secure" not in attrs  # http SITE_URL
    assert any(a.startswith("max-age=") and int(a.split("=")[1]) == 30 * 86400 for a in attrs)
    form = mock.redeemed[-1]
    assert form["grant_type"] == "authorization_code" and form["client_id"] == SITE_URL + "/"
    assert form["redirect_uri"] == SITE_URL + "/auth/callback"
    r, body = s.request("GET", "/auth/login", headers=cookie)
    assert "You are logged in as" in body.decode()


def test_session_token_code_and_state_never_reach_the_log(make_server, mock):
    s = make_server(site_env(mock, LOG_LEVEL="DEBUG"))
    r, _ = post_form(s, "/auth/login", {"me": mock.profile})
    callback = mock.approve(r.getheader("Location"), code="secret-code-abcdefghijklmnop")
    r, _ = s.request("GET", "/auth/callback?" + urlencode(callback))
    token = session_cookie(r).split(";")[0].split("=", 1)[1]
    s.request("GET", "/", headers={"Cookie": f"starpunk_session={token}"})
    logs = s.output() + "".join(p.read_text() for p in (s.data / "logs").glob("*.log"))
    assert token not in logs
    assert "secret-code-abcdefghijklmnop" not in logs
    assert callback["state"] not in logs


def test_a_different_me_gets_no_session(make_server, mock):
    s = make_server(site_env(mock))
    mock.me_answer = "https://someone-else.example/"
    r, _ = post_form(s, "/auth/login", {"me": mock.profile})
    r, body = s.request("GET", "/auth/callback?" + urlencode(mock.approve(r.getheader("Location"))))
    assert r.status == 403
    assert session_cookie(r) is None
    assert "alert" in body.decode()
    assert "someone-else.example" in s.output()  # logged at WARNING for the operator


def test_state_is_single_use(make_server, mock):
    s = make_server(site_env(mock))
    r, _ = post_form(s, "/auth/login", {"me": mock.profile})
    callback = urlencode(mock.approve(r.getheader("Location")))
    r1, _ = s.request("GET", "/auth/callback?" + callback)
    assert r1.status == 302
    r2, body = s.request("GET", "/auth/callback?" + callback)
    assert r2.status == 400
    assert session_cookie(r2) is None


@pytest.mark.parametrize("query", ["", "code=x", "state=unknown&code=x", "code=x&state="])
def test_bad_callbacks_show_the_login_page_with_a_message(make_server, mock, query, tmp_path):
    s = make_server(site_env(mock))
    r, body = s.request("GET", "/auth/callback?" + query)
    assert r.status == 400
    assert session_cookie(r) is None
    html = body.decode()
    assert 'role="alert"' in html and 'name="me"' in html


def test_authorization_server_refusal_is_explained(make_server, mock):
    s = make_server(site_env(mock))
    r, body = s.request("GET", "/auth/callback?error=access_denied&state=x")
    assert r.status == 403
    # A fixed message: the callback's error text is the attacker's to choose.
    assert "did not approve the login" in body.decode()
    assert "access_denied" not in body.decode()
    assert "access_denied" in s.output()


def test_issuer_must_match_when_advertised(make_server):
    m = MockIndieAuth(issuer=None)
    m.issuer = m.base + "/"
    try:
        s = make_server(site_env(m))
        r, _ = post_form(s, "/auth/login", {"me": m.profile})
        callback = m.approve(r.getheader("Location"))
        callback["iss"] = "https://impostor.example/"
        r, _ = s.request("GET", "/auth/callback?" + urlencode(callback))
        assert r.status == 400 and session_cookie(r) is None
        r, _ = post_form(s, "/auth/login", {"me": m.profile})
        r, _ = s.request("GET", "/auth/callback?" + urlencode(m.approve(r.getheader("Location"))))
        assert r.status == 302 and session_cookie(r)
    finally:
        m.close()


@pytest.mark.parametrize("me", ["", "not a url", "ftp://example.com/", "https://user:pw@example.com/"])
def test_unusable_me_is_a_400_with_the_form_kept(make_server, mock, me):
    s = make_server(site_env(mock))
    r, body = post_form(s, "/auth/login", {"me": me})
    assert r.status == 400
    assert 'role="alert"' in body.decode()


def test_unreachable_profile_falls_back_to_indielogin_and_a_dead_endpoint_is_a_502(make_server):
    dead = "http://127.0.0.1:9"  # discard port: nothing listens
    s = make_server({"SITE_URL": SITE_URL, "ADMIN_ME": dead + "/", "ALLOW_HTTP_ENDPOINTS": "true",
                     "INDIELOGIN_URL": dead})
    r, _ = post_form(s, "/auth/login", {"me": dead + "/"})
    assert r.status == 302
    location = r.getheader("Location")
    assert location.startswith(dead + "/authorize?")
    state = parse_qs(urlsplit(location).query)["state"][0]
    r, body = s.request("GET", "/auth/callback?" + urlencode({"code": "c" * 20, "state": state, "iss": dead + "/"}))
    assert r.status == 502
    assert 'role="alert"' in body.decode() and session_cookie(r) is None


def test_private_addresses_are_refused_without_allow_http(make_server, mock):
    s = make_server({"SITE_URL": SITE_URL, "ADMIN_ME": "https://127.0.0.1/"})
    r, body = post_form(s, "/auth/login", {"me": mock.profile})
    assert r.status == 400  # http profile URL refused outright


# --------------------------------------------------------------------------- sessions in use

def test_admin_sees_drafts_readers_do_not(make_server, mock, tmp_path):
    s = make_server(site_env(mock))
    import_draft(tmp_path, s.data, "secret-plan", "# Secret plan\n\nNot yet.")
    r, _ = s.request("GET", "/note/secret-plan")
    assert r.status == 404
    _, cookie = log_in(s, mock)
    r, body = s.request("GET", "/note/secret-plan", headers=cookie)
    assert r.status == 200
    assert "Secret plan" in body.decode() and "Draft" in body.decode()
    assert r.getheader("Cache-Control") == "private, no-store"
    assert html_validate.validate({"/note/secret-plan": body.decode()}, tmp_path / "hv") == {}
    r, _ = s.request("GET", "/note/secret-plan")
    assert r.status == 404, "the admin's view must not leak into the page cache"


def test_logout_needs_the_csrf_token_and_ends_the_session(make_server, mock, tmp_path):
    s = make_server(site_env(mock))
    import_draft(tmp_path, s.data, "draft-one", "Draft one")
    _, cookie = log_in(s, mock)
    r, body = s.request("GET", "/note/draft-one", headers=cookie)
    token = csrf_from(body.decode())

    r, _ = post_form(s, "/auth/logout", {}, headers=cookie)
    assert r.status == 403
    r, _ = post_form(s, "/auth/logout", {"csrf_token": "x" * len(token)}, headers=cookie)
    assert r.status == 403
    r, _ = s.request("GET", "/note/draft-one", headers=cookie)
    assert r.status == 200, "a refused logout leaves the session alone"

    r, _ = post_form(s, "/auth/logout", {"csrf_token": token}, headers=cookie)
    assert r.status == 302 and r.getheader("Location") == "/"
    assert "max-age=0" in session_cookie(r).lower()
    r, _ = s.request("GET", "/note/draft-one", headers=cookie)
    assert r.status == 404, "the old cookie is worthless after logout"


def test_cross_site_posts_are_refused(make_server, mock):
    s = make_server(site_env(mock))
    r, _ = post_form(s, "/auth/login", {"me": mock.profile}, headers={"Origin": "https://evil.example"})
    assert r.status == 403
    r, _ = post_form(s, "/auth/login", {"me": mock.profile}, headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status == 403
    r, _ = post_form(s, "/auth/login", {"me": mock.profile}, headers={"Origin": SITE_URL})
    assert r.status == 302


def test_forged_cookies_are_anonymous(make_server, mock, tmp_path):
    s = make_server(site_env(mock))
    import_draft(tmp_path, s.data, "hidden", "Hidden")
    for value in ["A" * 43, "garbage", "", "x" * 5000]:
        r, _ = s.request("GET", "/note/hidden", headers={"Cookie": f"starpunk_session={value}"})
        assert r.status == 404


def db_time(t):
    """The server's timestamp format (util/clock.hpp format_db_time), UTC."""
    return t.strftime("%Y-%m-%d %H:%M:%S.%f")


@pytest.mark.parametrize("limit", ["lifetime", "absolute"])
def test_an_expired_session_cookie_is_anonymous_and_refused(make_server, mock, tmp_path, limit):
    """A real session cookie, sent after its session ran out. The binary has no
    fake clock, and the server keeps expiry only in its database, so time is
    moved there: expires_at in the past (SESSION_LIFETIME days without use), or
    created_at more than three lifetimes ago (the absolute cap) with expires_at
    still ahead."""
    s = make_server(site_env(mock))
    import_draft(tmp_path, s.data, "hidden", "Hidden")
    _, cookie = log_in(s, mock)
    r, body = s.request("GET", "/note/hidden", headers=cookie)
    assert r.status == 200, "the cookie works while its session lives"
    token = csrf_from(body.decode())

    now = dt.datetime.now(dt.timezone.utc)
    with closing(sqlite3.connect(s.data / "starpunk.db")) as con:
        if limit == "lifetime":
            changed = con.execute("UPDATE sessions SET expires_at = ?", (db_time(now - dt.timedelta(minutes=1)),))
        else:
            changed = con.execute("UPDATE sessions SET created_at = ?, expires_at = ?",
                                  (db_time(now - dt.timedelta(days=91)), db_time(now + dt.timedelta(days=1))))
        assert changed.rowcount == 1
        con.commit()

    r, _ = s.request("GET", "/note/hidden", headers=cookie)
    assert r.status == 404, "an expired session must not see drafts"
    r, _ = s.request("GET", "/admin/", headers=cookie)
    assert r.status == 302 and r.getheader("Location") == "/auth/login"
    r, _ = s.request("GET", "/admin/health", headers=cookie)
    assert r.status == 401
    r, _ = post_form(s, "/admin/new", {"content": "Posted with an expired session", "published": "1",
                                       "csrf_token": token}, headers={**cookie, "Origin": SITE_URL})
    assert r.status == 302 and r.getheader("Location") == "/auth/login"
    r, _ = post_form(s, "/auth/logout", {"csrf_token": token}, headers=cookie)
    assert r.status == 302 and r.getheader("Location") == "/auth/login"
    with closing(sqlite3.connect(s.data / "starpunk.db")) as con:
        assert con.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0, "deleted when presented"
        assert con.execute("SELECT COUNT(*) FROM notes WHERE slug LIKE 'posted%'").fetchone()[0] == 0


# --------------------------------------------------------------------------- dev login

def test_dev_login_only_in_dev_mode(make_server, mock, tmp_path):
    s = make_server(site_env(mock))
    r, _ = s.request("GET", "/dev/login")
    assert r.status == 404

    d = make_server({"SITE_URL": SITE_URL, "DEV_MODE": "true", "DEV_ADMIN_ME": "http://dev.example/",
                     "ADMIN_ME": "", "SESSION_SECRET": ""})
    import_draft(tmp_path, d.data, "dev-draft", "Dev draft")
    r, _ = d.request("GET", "/dev/login")
    assert r.status == 302
    cookie = session_cookie(r)
    assert cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    r, _ = d.request("GET", "/note/dev-draft", headers={"Cookie": f"starpunk_session={token}"})
    assert r.status == 200
    assert "DEV LOGIN" in d.output()


def test_session_cookie_is_secure_on_an_https_site(make_server):
    d = make_server({"SITE_URL": "https://localhost:8443", "DEV_MODE": "true", "ADMIN_ME": "",
                     "SESSION_SECRET": ""})
    r, _ = d.request("GET", "/dev/login")
    assert r.status == 302
    assert "secure" in [a.strip().lower() for a in session_cookie(r).split(";")]


def pending_authorization(mock):
    from authlib.common.security import generate_token
    from authlib.oauth2.rfc7636 import create_s256_code_challenge
    return "/auth/authorize?" + urlencode({
        "response_type": "code", "client_id": mock.base + "/app/", "redirect_uri": mock.base + "/app/callback",
        "state": "st-1", "code_challenge": create_s256_code_challenge(generate_token(48)),
        "code_challenge_method": "S256", "scope": "create"})


def test_outside_login_returns_to_the_pending_authorization_request(make_server, mock):
    # ADMIN_ME is elsewhere (the mock), yet this site runs its own server.
    server = make_server(site_env(mock, INDIEAUTH_SERVER="true"))
    pending = pending_authorization(mock)
    r, _ = server.request("GET", pending)
    assert r.status == 302
    login_url = r.getheader("Location")
    nxt = parse_qs(urlsplit(login_url).query)["next"][0]
    assert nxt == pending
    r, body = server.request("GET", login_url)
    assert r.status == 200 and body.decode().count('name="next"') == 2  # password form and website form
    r, _ = post_form(server, "/auth/login", {"me": mock.profile, "next": nxt})
    assert r.status == 302 and r.getheader("Location").startswith(mock.base + "/auth?")
    assert "authorize" not in r.getheader("Location")  # the outside server never sees it
    r, body = server.request("GET", "/auth/callback?" + urlencode(mock.approve(r.getheader("Location"))))
    assert r.status == 302, body.decode()
    assert r.getheader("Location") == SITE_URL + pending
    cookie = session_cookie(r).split(";")[0]
    r, body = server.request("GET", pending, headers={"Cookie": cookie})
    assert r.status == 200 and b"Sign in to" in body


@pytest.mark.parametrize("bad_next", [
    "https://evil.example/auth/authorize?x=1",
    "//evil.example/auth/authorize?x=1",
    "/\\evil.example/auth/authorize?x=1",
    "/auth/authorize?x=1\r\nLocation: https://evil.example/",
    "/auth/authorizeX?x=1",
    "/admin/../auth/authorize?x=1",
    "javascript:alert(1)//auth/authorize?",
])
def test_outside_login_never_continues_to_an_unsafe_next(make_server, mock, bad_next):
    server = make_server(site_env(mock, INDIEAUTH_SERVER="true"))
    r, _ = post_form(server, "/auth/login", {"me": mock.profile, "next": bad_next})
    assert r.status == 302
    r, body = server.request("GET", "/auth/callback?" + urlencode(mock.approve(r.getheader("Location"))))
    assert r.status == 302, body.decode()
    assert r.getheader("Location") == "/admin/"
