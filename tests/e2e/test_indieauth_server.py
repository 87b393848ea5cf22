"""The built-in IndieAuth server end to end (issue 13), driven by an
independent OAuth client — Authlib (Debian's python3-authlib) with PKCE S256 —
from metadata discovery to a Micropub post with the token, then introspection
and revocation (Micropub then 401); and the refusals, each with nothing issued.

The client is a small page on loopback (its client_id), whose /callback the
server redirects the browser to; the browser is this test, logged in with the
owner's password.
"""
import re
import sqlite3
import subprocess
import threading
from contextlib import closing
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7636 import create_s256_code_challenge

import html_validate
from conftest import BIN

SITE_URL = "http://127.0.0.1:8000"
ADMIN_ME = SITE_URL + "/"
PASSWORD = "the owner's long password"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class MockClient:
    """An IndieAuth client's home page (its client_id) on a free loopback port.
    It lists `extra_redirects` as rel="redirect_uri" links."""

    def __init__(self):
        self.extra_redirects = []
        self.page = None  # (content type, body) to serve instead of the default page
        mock = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                links = "".join(f'<link rel="redirect_uri" href="{u}">' for u in mock.extra_redirects)
                content_type = "text/html; charset=utf-8"
                body = (f"<!doctype html><title>Test app</title>{links}"
                        f'<div class="h-app"><a class="u-url p-name" href="/">Test app</a></div>').encode()
                if mock.page:
                    content_type, text = mock.page
                    body = text.encode()
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.client_id = self.base + "/"
        self.redirect_uri = self.base + "/callback"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Inputs(HTMLParser):
    """The consent form's fields: hidden inputs and the scope checkboxes."""

    def __init__(self):
        super().__init__()
        self.hidden = {}
        self.grants = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("type") == "hidden":
            self.hidden[a["name"]] = a.get("value", "")
        elif tag == "input" and a.get("type") == "checkbox" and a.get("name") == "grant":
            self.grants.append(a["value"])


@pytest.fixture
def client():
    c = MockClient()
    yield c
    c.close()


@pytest.fixture
def site(make_server):
    # ADMIN_ME is on SITE_URL's origin, so the built-in server is on by default.
    server = make_server({"ALLOW_HTTP_ENDPOINTS": "true"})
    done = subprocess.run([BIN, "set-password"], cwd=server.cwd, env=dict(server.env), input=PASSWORD + "\n",
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return server


def real(server, url):
    """SITE_URL is fixed in the configuration; the server listens elsewhere."""
    return url.replace(SITE_URL, f"http://127.0.0.1:{server.port}")


def path_of(url):
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def login(server, next_path=None):
    fields = {"password": PASSWORD}
    if next_path:
        fields["next"] = next_path
    r, _ = server.request("POST", "/auth/login", urlencode(fields), FORM)
    assert r.status == 302, r.status
    cookie = re.search(r"starpunk_session=([^;]+)", r.getheader("Set-Cookie")).group(1)
    return {"Cookie": f"starpunk_session={cookie}"}, r.getheader("Location")


def metadata(server):
    r, body = server.request("GET", "/.well-known/oauth-authorization-server")
    assert r.status == 200
    import json
    return json.loads(body)


def session_for(client, scope):
    return OAuth2Session(client.client_id, redirect_uri=client.redirect_uri, scope=scope,
                         code_challenge_method="S256", token_endpoint_auth_method="none")


def consent(server, cookie, authorize_url, grants=None, decision="approve", csrf=True, extra_headers=None):
    """Opens the consent page as the logged-in owner and answers it; returns the
    consent POST's response."""
    r, body = server.request("GET", path_of(authorize_url), headers=cookie)
    assert r.status == 200, body[:500]
    form = Inputs()
    form.feed(body.decode())
    fields = list(form.hidden.items())
    if not csrf:
        fields = [(k, v) for k, v in fields if k != "csrf_token"]
    for g in (form.grants if grants is None else grants):
        fields.append(("grant", g))
    fields.append(("decision", decision))
    headers = {**FORM, **cookie, **(extra_headers or {})}
    r, _ = server.request("POST", "/auth/authorize/consent", urlencode(fields), headers)
    return r


def rows(server, table):
    with closing(sqlite3.connect(server.data / "starpunk.db")) as db:
        return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def micropub_create(server, token, content):
    return server.request("POST", "/micropub", urlencode({"h": "entry", "content": content}),
                          {**FORM, "Authorization": f"Bearer {token}"})


def start(server, client, scope="create profile", verifier=None, **params):
    meta = metadata(server)
    session = session_for(client, scope)
    verifier = verifier or generate_token(48)
    url, state = session.create_authorization_url(real(server, meta["authorization_endpoint"]),
                                                  code_verifier=verifier, me=ADMIN_ME, **params)
    return session, verifier, url, state, meta


def approved_code(server, client, cookie, scope="create profile", grants=None):
    session, verifier, url, state, meta = start(server, client, scope)
    r = consent(server, cookie, url, grants=grants)
    assert r.status == 302
    location = r.getheader("Location")
    q = parse_qs(urlsplit(location).query)
    return session, verifier, location, q["code"][0], meta


def test_whole_flow_with_authlib_discovery_to_micropub_and_revocation(site, client):
    # Discovery: the home page advertises the metadata (Link header and <link>).
    r, body = site.request("GET", "/")
    link = r.getheader("Link")
    assert f'<{SITE_URL}/.well-known/oauth-authorization-server>; rel="indieauth-metadata"' in link
    assert f'<link rel="indieauth-metadata" href="{SITE_URL}/.well-known/oauth-authorization-server">' in body.decode()
    meta = metadata(site)
    assert meta["issuer"] == ADMIN_ME
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["authorization_endpoint"] == SITE_URL + "/auth/authorize"
    assert meta["token_endpoint"] == SITE_URL + "/auth/token"
    assert "revocation_endpoint" in meta and "introspection_endpoint" in meta

    session, verifier, url, state, _ = start(site, client, "create profile")
    # Not logged in: the authorization endpoint sends the browser to the login
    # page, which comes back here after the password.
    r, _ = site.request("GET", path_of(url))
    assert r.status == 302 and r.getheader("Location").startswith("/auth/login?next=")
    next_path = parse_qs(urlsplit(r.getheader("Location")).query)["next"][0]
    cookie, back = login(site, next_path)
    assert path_of(back) == path_of(url)

    r = consent(site, cookie, url)
    assert r.status == 302
    location = r.getheader("Location")
    assert location.startswith(client.redirect_uri + "?")
    q = parse_qs(urlsplit(location).query)
    assert q["state"] == [state] and q["iss"] == [ADMIN_ME]

    token = session.fetch_token(real(site, meta["token_endpoint"]), authorization_response=location,
                                code_verifier=verifier)
    assert token["token_type"] == "Bearer"
    assert token["me"] == ADMIN_ME
    assert set(token["scope"].split()) == {"create", "profile"}
    assert token["expires_in"] == 30 * 86400
    assert token["profile"]["url"] == ADMIN_ME
    access = token["access_token"]
    with closing(sqlite3.connect(site.data / "starpunk.db")) as db:
        stored = [h for (h,) in db.execute("SELECT token_hash FROM indieauth_tokens WHERE kind = 'access'")]
    assert len(stored) == 1 and stored[0] != access and access not in stored[0]

    r, body = micropub_create(site, access, "Posted with a token from my own site")
    assert r.status == 201, body
    note, page = site.request("GET", urlsplit(r.getheader("Location")).path)
    assert note.status == 200 and b"Posted with a token from my own site" in page

    # Legacy verification and introspection.
    r, body = site.request("GET", "/auth/token", headers={"Authorization": f"Bearer {access}"})
    assert r.status == 200 and b'"me":"' + ADMIN_ME.encode() in body.replace(b" ", b"")
    r, body = site.request("POST", "/auth/token/introspect", urlencode({"token": access}),
                           {**FORM, "Authorization": f"Bearer {access}"})
    assert r.status == 200 and b'"active":true' in body.replace(b" ", b"")

    revoked = session.revoke_token(real(site, meta["revocation_endpoint"]), token=access)
    assert revoked.status_code == 200
    r, body = micropub_create(site, access, "Must not appear")
    assert r.status == 401
    r, body = site.request("POST", "/auth/token/introspect", urlencode({"token": access}),
                           {**FORM, "Authorization": "Bearer " + "x" * 43})
    assert r.status == 401
    assert access not in (site.output())


def test_admin_lists_tokens_and_revokes_one(site, client):
    cookie, _ = login(site)
    session, verifier, location, code, meta = approved_code(site, client, cookie, scope="create media",
                                                            grants=["create", "media"])
    token = session.fetch_token(real(site, meta["token_endpoint"]), authorization_response=location,
                                code_verifier=verifier)
    r, _ = micropub_create(site, token["access_token"], "before revocation")
    assert r.status == 201
    r, body = site.request("GET", "/admin/tokens", headers=cookie)
    assert r.status == 200
    page = body.decode()
    assert client.client_id in page and "create media" in page
    assert token["access_token"] not in page
    token_id = re.search(r'action="[^"]*/admin/tokens/revoke/(\d+)"', page).group(1)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    # Without the CSRF token nothing happens.
    r, _ = site.request("POST", f"/admin/tokens/revoke/{token_id}", urlencode({}), {**FORM, **cookie})
    assert r.status == 403
    r, _ = micropub_create(site, token["access_token"], "still valid")
    assert r.status == 201
    r, _ = site.request("POST", f"/admin/tokens/revoke/{token_id}", urlencode({"csrf_token": csrf}), {**FORM, **cookie})
    assert r.status == 303
    r, _ = micropub_create(site, token["access_token"], "after revocation")
    assert r.status == 401
    r, body = site.request("GET", "/admin/tokens", headers=cookie)
    assert b"No app holds a token." in body


def test_wrong_verifier_refused_and_the_code_is_spent(site, client):
    cookie, _ = login(site)
    session, verifier, location, code, meta = approved_code(site, client, cookie)
    token_url = real(site, meta["token_endpoint"])
    form = {"grant_type": "authorization_code", "code": code, "client_id": client.client_id,
            "redirect_uri": client.redirect_uri, "code_verifier": generate_token(48)}
    r, body = site.request("POST", urlsplit(token_url).path, urlencode(form), FORM)
    assert r.status == 400 and b"invalid_grant" in body
    # Replay with the right verifier: the code went with the first attempt.
    form["code_verifier"] = verifier
    r, body = site.request("POST", "/auth/token", urlencode(form), FORM)
    assert r.status == 400 and b"invalid_grant" in body
    assert rows(site, "indieauth_tokens") == 0


def test_code_replay_after_success_is_refused(site, client):
    cookie, _ = login(site)
    session, verifier, location, code, meta = approved_code(site, client, cookie)
    form = {"grant_type": "authorization_code", "code": code, "client_id": client.client_id,
            "redirect_uri": client.redirect_uri, "code_verifier": verifier}
    r, _ = site.request("POST", "/auth/token", urlencode(form), FORM)
    assert r.status == 200
    r, body = site.request("POST", "/auth/token", urlencode(form), FORM)
    assert r.status == 400 and b"invalid_grant" in body
    assert rows(site, "indieauth_tokens") == 2  # the access and refresh token of the first redemption


def test_redirect_uri_mismatch_at_the_token_endpoint(site, client):
    cookie, _ = login(site)
    session, verifier, location, code, meta = approved_code(site, client, cookie)
    form = {"grant_type": "authorization_code", "code": code, "client_id": client.client_id,
            "redirect_uri": client.base + "/other", "code_verifier": verifier}
    r, body = site.request("POST", "/auth/token", urlencode(form), FORM)
    assert r.status == 400 and b"invalid_grant" in body and b"redirect_uri" in body
    assert rows(site, "indieauth_tokens") == 0


def test_scope_escalation_at_the_token_endpoint(site, client):
    cookie, _ = login(site)
    session, verifier, location, code, meta = approved_code(site, client, cookie, scope="create update",
                                                            grants=["create"])
    form = {"grant_type": "authorization_code", "code": code, "client_id": client.client_id,
            "redirect_uri": client.redirect_uri, "code_verifier": verifier, "scope": "create update"}
    r, body = site.request("POST", "/auth/token", urlencode(form), FORM)
    assert r.status == 400 and b"invalid_scope" in body
    assert rows(site, "indieauth_tokens") == 0


def test_unticked_scope_is_not_granted(site, client):
    cookie, _ = login(site)
    session, verifier, location, code, meta = approved_code(site, client, cookie, scope="create update",
                                                            grants=["update", "delete"])
    token = session.fetch_token(real(site, meta["token_endpoint"]), authorization_response=location,
                                code_verifier=verifier)
    assert token["scope"] == "update"  # "delete" was never asked for, "create" not ticked
    r, _ = micropub_create(site, token["access_token"], "no create scope")
    assert r.status == 403


def test_plain_pkce_and_missing_challenge_go_back_with_an_error(site, client):
    cookie, _ = login(site)
    for params in ({"code_challenge": "a" * 43, "code_challenge_method": "plain"},
                   {"code_challenge_method": "S256"}):
        query = {"response_type": "code", "client_id": client.client_id, "redirect_uri": client.redirect_uri,
                 "state": "s1", **params}
        r, _ = site.request("GET", "/auth/authorize?" + urlencode(query), headers=cookie)
        assert r.status == 302
        q = parse_qs(urlsplit(r.getheader("Location")).query)
        assert r.getheader("Location").startswith(client.redirect_uri)
        assert q["error"] == ["invalid_request"] and q["state"] == ["s1"] and q["iss"] == [ADMIN_ME]
        assert "code" not in q
    assert rows(site, "indieauth_codes") == 0


def test_redirect_uri_on_another_origin_must_be_listed_by_the_client(site, client):
    cookie, _ = login(site)
    elsewhere = "http://localhost:9/callback"
    query = {"response_type": "code", "client_id": client.client_id, "redirect_uri": elsewhere, "state": "s",
             "code_challenge": create_s256_code_challenge(generate_token(48)), "code_challenge_method": "S256"}
    r, body = site.request("GET", "/auth/authorize?" + urlencode(query), headers=cookie)
    assert r.status == 400 and r.getheader("Location") is None
    assert b"redirect_uri is on another origin" in body
    client.extra_redirects = [elsewhere]
    r, body = site.request("GET", "/auth/authorize?" + urlencode(query), headers=cookie)
    assert r.status == 200 and b"Sign in to" in body


def test_unknown_client_host_is_refused(site):
    cookie, _ = login(site)
    query = {"response_type": "code", "client_id": "https://unknown-client.invalid/",
             "redirect_uri": "https://elsewhere.invalid/cb", "state": "s",
             "code_challenge": create_s256_code_challenge(generate_token(48)), "code_challenge_method": "S256"}
    r, body = site.request("GET", "/auth/authorize?" + urlencode(query), headers=cookie)
    assert r.status == 400 and r.getheader("Location") is None
    assert b"could not be fetched" in body


def test_consent_without_csrf_or_cross_site_issues_nothing(site, client):
    cookie, _ = login(site)
    _, _, url, _, _ = start(site, client)
    r = consent(site, cookie, url, csrf=False)
    assert r.status == 403
    r = consent(site, cookie, url, extra_headers={"Origin": "https://evil.example"})
    assert r.status == 403
    r = consent(site, cookie, url, extra_headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status == 403
    assert rows(site, "indieauth_codes") == 0


def test_denied_consent_goes_back_with_access_denied(site, client):
    cookie, _ = login(site)
    _, _, url, state, _ = start(site, client)
    r = consent(site, cookie, url, decision="deny")
    assert r.status == 302
    q = parse_qs(urlsplit(r.getheader("Location")).query)
    assert q["error"] == ["access_denied"] and q["state"] == [state] and "code" not in q
    assert rows(site, "indieauth_codes") == 0


def test_identity_only_code_gives_me_and_no_token(site, client):
    cookie, _ = login(site)
    session, verifier, location, code, meta = approved_code(site, client, cookie, scope="")
    form = {"grant_type": "authorization_code", "code": code, "client_id": client.client_id,
            "redirect_uri": client.redirect_uri, "code_verifier": verifier}
    r, body = site.request("POST", "/auth/authorize", urlencode(form), FORM)
    assert r.status == 200 and b"access_token" not in body and ADMIN_ME.encode() in body
    assert rows(site, "indieauth_tokens") == 0


def test_built_in_server_can_be_turned_off(make_server):
    server = make_server({"ALLOW_HTTP_ENDPOINTS": "true", "INDIEAUTH_SERVER": "false"})
    r, _ = server.request("GET", "/.well-known/oauth-authorization-server")
    assert r.status == 404
    r, body = server.request("GET", "/")
    assert "indieauth-metadata" not in r.getheader("Link") and b"authorization_endpoint" not in body


def test_consent_login_and_token_pages_are_valid_html(site, client, tmp_path):
    cookie, _ = login(site)
    _, _, url, _, _ = start(site, client, "create bogus")
    r, consent_page = site.request("GET", path_of(url), headers=cookie)
    assert r.status == 200 and b"Not offered by this server, so not granted: bogus." in consent_page
    r, login_page = site.request("GET", "/auth/login")
    r, tokens_page = site.request("GET", "/admin/tokens", headers=cookie)
    assert html_validate.validate({"/auth/authorize": consent_page.decode(), "/auth/login": login_page.decode(),
                                   "/admin/tokens": tokens_page.decode()}, tmp_path / "hv") == {}


def refresh_form(client, refresh_token, **extra):
    return urlencode({"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client.client_id,
                      **extra})


def test_refresh_with_authlib_rotates_and_revocation_ends_the_family(site, client):
    meta = metadata(site)
    assert meta["grant_types_supported"] == ["authorization_code", "refresh_token"]
    cookie, _ = login(site)
    session, verifier, location, code, meta = approved_code(site, client, cookie, scope="create")
    token = session.fetch_token(real(site, meta["token_endpoint"]), authorization_response=location,
                                code_verifier=verifier)
    first_refresh = token["refresh_token"]
    assert first_refresh and first_refresh != token["access_token"]
    with closing(sqlite3.connect(site.data / "starpunk.db")) as db:
        stored = [h for (h,) in db.execute("SELECT token_hash FROM indieauth_tokens WHERE kind = 'refresh'")]
    assert len(stored) == 1 and first_refresh not in stored[0]
    r, body = micropub_create(site, token["access_token"], "Before the refresh")
    assert r.status == 201, body

    # Authlib refreshes (public client: client_id in the body).
    fresh = session.refresh_token(real(site, meta["token_endpoint"]), refresh_token=first_refresh)
    assert fresh["access_token"] != token["access_token"]
    assert fresh["refresh_token"] != first_refresh
    assert fresh["scope"] == "create" and fresh["me"] == ADMIN_ME and fresh["token_type"] == "Bearer"
    r, body = micropub_create(site, fresh["access_token"], "With the refreshed token")
    assert r.status == 201, body

    # The admin's list shows the new refresh token (the spent one is gone from it).
    r, body = site.request("GET", "/admin/tokens", headers=cookie)
    page = body.decode()
    assert page.count("Revoke sign-in") == 1 and "refresh" in page
    assert first_refresh not in page and fresh["refresh_token"] not in page

    # RFC 7009 revocation of the refresh token ends the whole sign-in.
    revoked = session.revoke_token(real(site, meta["revocation_endpoint"]), token=fresh["refresh_token"],
                                   token_type_hint="refresh_token")
    assert revoked.status_code == 200
    for access in (token["access_token"], fresh["access_token"]):
        r, _ = micropub_create(site, access, "Must not appear")
        assert r.status == 401
    r, body = site.request("POST", "/auth/token", refresh_form(client, fresh["refresh_token"]), FORM)
    assert r.status == 400 and b"invalid_grant" in body
    out = site.output()
    for secret in (first_refresh, fresh["refresh_token"], fresh["access_token"]):
        assert secret not in out


def test_replayed_refresh_token_revokes_the_family(site, client):
    cookie, _ = login(site)
    session, verifier, location, code, meta = approved_code(site, client, cookie, scope="create update")
    token = session.fetch_token(real(site, meta["token_endpoint"]), authorization_response=location,
                                code_verifier=verifier)
    r, body = site.request("POST", "/auth/token", refresh_form(client, token["refresh_token"]), FORM)
    assert r.status == 200, body
    import json
    fresh = json.loads(body)
    r, _ = micropub_create(site, fresh["access_token"], "Fresh token works")
    assert r.status == 201
    # The first refresh token again: a replay.
    r, body = site.request("POST", "/auth/token", refresh_form(client, token["refresh_token"]), FORM)
    assert r.status == 400 and json.loads(body)["error"] == "invalid_grant" and b"access_token" not in body
    for access in (token["access_token"], fresh["access_token"]):
        r, _ = micropub_create(site, access, "Must not appear")
        assert r.status == 401
    r, body = site.request("POST", "/auth/token", refresh_form(client, fresh["refresh_token"]), FORM)
    assert r.status == 400 and json.loads(body)["error"] == "invalid_grant"
    assert rows(site, "indieauth_tokens") == 0


def test_refresh_scope_narrows_never_widens(site, client):
    import json
    cookie, _ = login(site)
    session, verifier, location, code, meta = approved_code(site, client, cookie, scope="create update",
                                                            grants=["create"])
    token = session.fetch_token(real(site, meta["token_endpoint"]), authorization_response=location,
                                code_verifier=verifier)
    before = rows(site, "indieauth_tokens")
    r, body = site.request("POST", "/auth/token", refresh_form(client, token["refresh_token"], scope="create update"),
                           FORM)
    assert r.status == 400 and json.loads(body)["error"] == "invalid_scope"
    r, body = site.request("POST", "/auth/token", refresh_form(client, token["refresh_token"], client_id=client.base + "/x"),
                           FORM)
    assert r.status == 400 and json.loads(body)["error"] == "invalid_grant"
    assert rows(site, "indieauth_tokens") == before  # nothing issued, nothing spent
    for bad in ({"grant_type": "refresh_token", "client_id": client.client_id},
                {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}):
        r, body = site.request("POST", "/auth/token", urlencode(bad), FORM)
        assert r.status == 400 and json.loads(body)["error"] == "invalid_request"
    r, body = site.request("POST", "/auth/token", refresh_form(client, token["refresh_token"], scope="create"), FORM)
    assert r.status == 200 and json.loads(body)["scope"] == "create"
    # A refresh token is not a bearer token.
    r, _ = micropub_create(site, json.loads(body)["refresh_token"], "Must not appear")
    assert r.status == 401


def consent_page_of(server, client, cookie):
    _, _, url, _, _ = start(server, client)
    r, body = server.request("GET", path_of(url), headers=cookie)
    assert r.status == 200, body[:300]
    return body.decode()


def test_consent_page_names_the_client_from_its_h_app(site, client):
    cookie, _ = login(site)
    client.page = ("text/html", '<!doctype html><title>ignored</title><div class="h-app">'
                                '<img class="u-logo" src="/logo.png" alt=""><a class="u-url p-name" href="/">Quill '
                                '&amp; Co</a></div>')
    page = consent_page_of(site, client, cookie)
    assert "Sign in to Quill &amp; Co?" in page
    assert f'<img src="{client.base}/logo.png" alt=""' in page
    # The legacy h-x-app works too.
    client.page = ("text/html", '<div class="h-x-app"><span class="p-name">Old App</span></div>')
    page = consent_page_of(site, client, cookie)
    assert "Sign in to Old App?" in page and "<img" not in page.split("consent-title")[1].split("</h1>")[0]


def test_consent_page_names_the_client_from_its_metadata_document_escaped(site, client):
    cookie, _ = login(site)
    import json
    client.page = ("application/json", json.dumps({
        "client_id": client.client_id, "client_name": "<script>alert(1)</script>App",
        "logo_uri": client.base + '/logo.png?a="onerror="alert(1)', "redirect_uris": [client.redirect_uri]}))
    page = consent_page_of(site, client, cookie)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;App" in page
    heading = page.split('id="consent-title">')[1].split("</h1>")[0]
    assert '"onerror="' not in heading  # a quote cannot end the attribute (dropped or escaped)


def test_consent_page_drops_a_non_http_logo_and_falls_back_to_the_host(site, client):
    cookie, _ = login(site)
    client.page = ("text/html", '<div class="h-app"><img class="u-logo" src="javascript:alert(1)">'
                                '<span class="p-name"></span></div>')
    page = consent_page_of(site, client, cookie)
    heading = page.split('id="consent-title">')[1].split("</h1>")[0]
    assert "javascript:" not in page and "<img" not in heading
    assert f"Sign in to 127.0.0.1:{client.httpd.server_address[1]}?" in heading
    # A page without h-app: the host as well.
    client.page = ("text/html", "<!doctype html><title>Something</title>")
    heading = consent_page_of(site, client, cookie).split('id="consent-title">')[1].split("</h1>")[0]
    assert f"Sign in to 127.0.0.1:{client.httpd.server_address[1]}?" in heading
