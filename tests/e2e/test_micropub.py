"""Micropub end to end (SPEC §5): the real binary against a mock token endpoint
on loopback. Creates in all three encodings, drafts, queries, every error with
its status and JSON body, token caching, endpoint discovery, the token never in
the log, and a micropub.rocks-style subset.

The mock plays the admin's website (ADMIN_ME, advertising its token endpoint
in a Link header) and the token endpoint: it answers per token with whatever
the test scripted, and records every verification request it receives.
"""
import json
import re
import socket
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, urlencode, urlsplit

import mf2py
import pytest

from conftest import wait_until

SITE_URL = "http://127.0.0.1:8000"


class MockTokenEndpoint:
    """GET /token with `Authorization: Bearer <t>` answers self.tokens[t];
    GET / is a profile page whose Link header names /token and /auth."""

    def __init__(self):
        self.tokens = {}    # token -> (status, dict body)
        self.seen = []      # (path, Authorization header, Accept header)
        mock = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body, ctype="application/json", headers=()):
                data = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                mock.seen.append((self.path, self.headers.get("Authorization"), self.headers.get("Accept")))
                if self.path == "/":
                    self._send(200, "<!doctype html><title>me</title><p>Hi", "text/html",
                               [("Link", f'<{mock.base}/auth>; rel="authorization_endpoint", '
                                         f'<{mock.base}/token>; rel="token_endpoint"')])
                    return
                if self.path != "/token":
                    self._send(404, "{}")
                    return
                auth = self.headers.get("Authorization", "")
                token = auth[7:] if auth.startswith("Bearer ") else None
                status, body = mock.tokens.get(token, (401, {"error": "invalid_token"}))
                self._send(status, json.dumps(body))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.profile = self.base + "/"
        self.endpoint = self.base + "/token"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def grant(self, scope="create update", me=None, client_id="https://app.example/"):
        """A fresh token the endpoint vouches for."""
        token = "tok-" + uuid.uuid4().hex
        self.tokens[token] = (200, {"me": me or self.profile, "client_id": client_id, "scope": scope})
        return token

    def verifications(self, token):
        return sum(1 for path, auth, _ in self.seen if path == "/token" and auth == f"Bearer {token}")

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def mock():
    m = MockTokenEndpoint()
    yield m
    m.close()


@pytest.fixture
def site(make_server, mock):
    return make_server(env(mock))


def env(mock, **extra):
    e = {"SITE_URL": SITE_URL, "ADMIN_ME": mock.profile, "TOKEN_ENDPOINT": mock.endpoint,
         "ALLOW_HTTP_ENDPOINTS": "true"}
    e.update(extra)
    return e


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def post_form(server, fields, token=None, headers=None):
    h = {"Content-Type": "application/x-www-form-urlencoded"}
    if token:
        h.update(bearer(token))
    h.update(headers or {})
    return server.request("POST", "/micropub", body=urlencode(fields, doseq=True), headers=h)


def post_json(server, doc, token=None):
    h = {"Content-Type": "application/json"}
    if token:
        h.update(bearer(token))
    return server.request("POST", "/micropub", body=json.dumps(doc), headers=h)


def post_multipart(server, fields, token=None, files=()):
    boundary = "----starpunk" + uuid.uuid4().hex
    parts = []
    for name, value in fields:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                     + value.encode() + b"\r\n")
    for name, filename, data in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f'Content-Type: application/octet-stream\r\n\r\n'.encode() + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    h = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    if token:
        h.update(bearer(token))
    return server.request("POST", "/micropub", body=body, headers=h)


def query(server, q, token=None):
    return server.request("GET", "/micropub?" + q, headers=bearer(token) if token else {})


def created_path(r, body=b""):
    assert r.status == 201, (r.status, body)
    location = r.getheader("Location")
    assert location.startswith(SITE_URL + "/note/"), location
    assert "//note" not in location
    return urlsplit(location).path


def assert_error(r, body, status, error):
    assert r.status == status, (r.status, body)
    assert r.getheader("Content-Type").startswith("application/json")
    doc = json.loads(body)
    assert set(doc) == {"error", "error_description"}, doc
    assert doc["error"] == error, doc
    assert doc["error_description"]
    return doc


def entry_of(html, path):
    doc = mf2py.parse(doc=html, url=SITE_URL + path)
    entries = [i for i in doc["items"] if "h-entry" in i["type"]]
    assert len(entries) == 1, doc["items"]
    return entries[0]


def count_notes(server):
    return len(re.findall(r'class="h-entry', server.request("GET", "/")[1].decode()))


# --------------------------------------------------------------------------- creates

def test_form_create_is_201_and_the_permalink_shows_it_at_once(site, mock):
    token = mock.grant()
    r, body = site.request("GET", "/")  # warm the page cache first
    assert r.status == 200 and "Hello from Micropub" not in body.decode()
    r, body = post_form(site, {"h": "entry", "content": "Hello from Micropub, **markdown** too"}, token)
    path = created_path(r, body)
    assert path == "/note/hello-from-micropub-markdown-too"
    r, html = site.request("GET", path)
    assert r.status == 200
    entry = entry_of(html.decode(), path)
    assert "Hello from Micropub, markdown too" in entry["properties"]["content"][0]["value"]
    assert "<strong>markdown</strong>" in entry["properties"]["content"][0]["html"]
    assert entry["properties"]["url"] == [SITE_URL + path]
    r, home = site.request("GET", "/")
    assert "Hello from Micropub" in home.decode()  # the home page was invalidated


def test_json_create_with_name_and_html_content(site, mock):
    token = mock.grant()
    r, body = post_json(site, {"type": ["h-entry"], "properties": {
        "name": ["A JSON Article"],
        "content": [{"html": "<p>Safe <em>text</em><script>alert('x')</script>"
                             "<img src=x onerror=alert(1)></p>"}],
        "category": ["one", "two"]}}, token)
    path = created_path(r, body)
    assert path.startswith("/note/a-json-article")
    r, html = site.request("GET", path)
    text = html.decode()
    assert "<script>alert" not in text and "onerror" not in text
    entry = entry_of(text, path)
    assert entry["properties"]["name"] == ["A JSON Article"]
    assert "<em>text</em>" in entry["properties"]["content"][0]["html"]


def test_multipart_create(site, mock):
    # Only photo files are kept (test_photos.py); other file parts are ignored.
    token = mock.grant()
    r, body = post_multipart(site, [("h", "entry"), ("content", "Posted as multipart"), ("category[]", "x")],
                             token, files=[("video", "v.mp4", b"\x00\x00\x00\x18ftypmp42 not really a video")])
    path = created_path(r, body)
    r, html = site.request("GET", path)
    assert r.status == 200 and "Posted as multipart" in html.decode()
    assert "uploaded file(s) ignored" in site.output()


def test_form_token_in_the_body(site, mock):
    token = mock.grant()
    r, body = post_form(site, {"h": "entry", "content": "Token in the body", "access_token": token})
    path = created_path(r, body)
    r, html = site.request("GET", path)
    assert token not in html.decode()


def test_draft_is_hidden_from_the_public(site, mock):
    token = mock.grant()
    r, body = post_form(site, {"h": "entry", "content": "Not ready yet", "post-status": "draft"}, token)
    path = created_path(r, body)
    r, _ = site.request("GET", path)
    assert r.status == 404
    assert "Not ready yet" not in site.request("GET", "/")[1].decode()
    r, body = query(site, "q=source&url=" + quote(SITE_URL + path), token)
    assert json.loads(body)["properties"]["post-status"] == ["draft"]


def test_published_date_and_mp_slug(site, mock):
    token = mock.grant()
    r, body = post_form(site, {"content": "Dated note", "published": "2021-02-03T04:05:06+01:00",
                               "mp-slug": "my-custom-slug"}, token)
    path = created_path(r, body)
    assert path == "/note/my-custom-slug"
    entry = entry_of(site.request("GET", path)[1].decode(), path)
    assert entry["properties"]["published"][0].startswith("2021-02-03T03:05:06")
    assert (site.data / "notes" / "2021" / "02" / "my-custom-slug.md").read_text() == "Dated note"


def test_unusable_mp_slug_falls_back(site, mock):
    token = mock.grant()
    r, body = post_form(site, {"content": "Reserved slug attempt", "mp-slug": "admin"}, token)
    assert created_path(r, body) == "/note/reserved-slug-attempt"


def test_token_verification_is_cached(site, mock):
    token = mock.grant()
    for i in range(3):
        created_path(*post_form(site, {"content": f"Cached token note {i}"}, token))
    assert mock.verifications(token) == 1


def test_discovers_the_token_endpoint_from_admin_me(make_server, mock):
    s = make_server(env(mock, TOKEN_ENDPOINT=""))
    token = mock.grant()
    created_path(*post_form(s, {"content": "Discovered endpoint"}, token))
    created_path(*post_form(s, {"content": "Discovered again"}, mock.grant()))
    assert sum(1 for path, _, _ in mock.seen if path == "/") == 1  # discovery cached for an hour


# --------------------------------------------------------------------------- queries

def test_q_config_and_syndicate_to(site, mock):
    token = mock.grant(scope="read")
    r, body = query(site, "q=config", token)
    assert r.status == 200
    assert r.getheader("Content-Type").startswith("application/json")
    assert r.getheader("Cache-Control") == "no-store"
    doc = json.loads(body)
    assert doc["syndicate-to"] == []
    assert set(doc["q"]) == {"config", "syndicate-to", "source", "category"}
    assert {"type": "note", "name": "Note"} in doc["post-types"]
    r, body = query(site, "q=syndicate-to", token)
    assert json.loads(body) == {"syndicate-to": []}


def test_q_source(site, mock):
    token = mock.grant()
    r, body = post_json(site, {"type": ["h-entry"], "properties": {
        "name": ["Source Title"], "content": ["Source *body*"], "published": ["2022-01-01T00:00:00Z"]}}, token)
    path = created_path(r, body)
    url = SITE_URL + path
    r, body = query(site, "q=source&url=" + quote(url), token)
    assert r.status == 200
    doc = json.loads(body)
    assert doc["type"] == ["h-entry"]
    p = doc["properties"]
    assert p["content"] == ["Source *body*"]
    assert p["name"] == ["Source Title"]
    assert p["url"] == [url]
    assert p["post-status"] == ["published"]
    assert p["published"] == ["2022-01-01T00:00:00+00:00"]
    r, body = query(site, "q=source&properties[]=content&properties[]=name&url=" + quote(url), token)
    assert json.loads(body) == {"properties": {"content": ["Source *body*"], "name": ["Source Title"]}}
    r, body = query(site, "q=source&url=" + quote(SITE_URL + "/note/nope"), token)
    assert_error(r, body, 400, "invalid_request")


# --------------------------------------------------------------------------- errors

def test_no_token_is_401(site, mock):
    r, body = post_form(site, {"content": "x"})
    assert_error(r, body, 401, "unauthorized")
    assert r.getheader("WWW-Authenticate").startswith("Bearer")
    r, body = query(site, "q=config")
    assert_error(r, body, 401, "unauthorized")


def test_bad_token_is_401(site, mock):
    r, body = post_form(site, {"content": "x"}, "not-a-real-token")
    assert_error(r, body, 401, "unauthorized")
    assert 'error="invalid_token"' in r.getheader("WWW-Authenticate")


def test_token_in_header_and_body_is_400(site, mock):
    token = mock.grant()
    r, body = post_form(site, {"content": "x", "access_token": token}, token)
    assert_error(r, body, 400, "invalid_request")


def test_someone_elses_token_is_403(site, mock):
    token = mock.grant(me="https://someone-else.example/")
    r, body = post_form(site, {"content": "x"}, token)
    assert_error(r, body, 403, "forbidden")


def test_insufficient_scope_is_403(site, mock):
    # SPEC §5.2 decision: 403 insufficient_scope (micropub.rocks 804 expects 401).
    token = mock.grant(scope="read")
    r, body = post_form(site, {"content": "x"}, token)
    assert_error(r, body, 403, "insufficient_scope")
    assert "insufficient_scope" in r.getheader("WWW-Authenticate")
    assert count_notes(site) == 0


def test_token_endpoint_down_fails_closed(make_server, mock):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/token"
    s = make_server(env(mock, TOKEN_ENDPOINT=dead))
    r, body = post_form(s, {"content": "x"}, mock.grant())
    assert_error(r, body, 503, "temporarily_unavailable")
    assert count_notes(s) == 0


def test_request_errors_are_400(site, mock):
    token = mock.grant()
    cases = [
        ({"h": "entry", "category": "only"}, "content"),
        ({"content": "x", "published": "not a date"}, "published"),
        ({"content": "x", "post-status": "secret"}, "post-status"),
        ({"h": "event", "name": "Party"}, "h-entry"),
        ({"action": "explode", "url": SITE_URL + "/note/x"}, "Unknown action"),
        ({"action": "update", "url": SITE_URL + "/note/x"}, "JSON"),  # updates are JSON only
    ]
    for fields, words in cases:
        r, body = post_form(site, fields, token)
        doc = assert_error(r, body, 400, "invalid_request")
        assert words in doc["error_description"], (fields, doc)
    r, body = post_json(site, {"action": "update", "url": SITE_URL + "/note/x", "replace": {"content": ["y"]}}, token)
    doc = assert_error(r, body, 400, "invalid_request")  # no such post
    assert "no post" in doc["error_description"]
    r, body = site.request("POST", "/micropub", body="{broken", headers={"Content-Type": "application/json",
                                                                         **bearer(token)})
    assert_error(r, body, 400, "invalid_request")
    r, body = site.request("POST", "/micropub", body="hello", headers={"Content-Type": "text/plain", **bearer(token)})
    assert_error(r, body, 400, "invalid_request")
    r, body = query(site, "q=nonsense", token)
    assert_error(r, body, 400, "invalid_request")
    r, body = query(site, "", token)
    assert_error(r, body, 400, "invalid_request")
    assert count_notes(site) == 0


def test_wrong_method_is_405_json(site):
    r, body = site.request("DELETE", "/micropub")
    assert_error(r, body, 405, "method_not_allowed")
    assert r.getheader("Allow") == "GET, HEAD, POST"


def test_oversized_note_is_413(make_server, mock):
    s = make_server(env(mock, MAX_NOTE_SIZE="64"))
    r, body = post_form(s, {"content": "x" * 100}, mock.grant())
    assert_error(r, body, 413, "request_too_large")


def test_oversized_body_is_413(make_server, mock):
    s = make_server(env(mock, MAX_CONTENT_LENGTH="1024"))
    r, body = post_form(s, {"content": "x" * 2000}, mock.grant())
    assert_error(r, body, 413, "request_too_large")


def test_cross_site_headers_do_not_block_micropub(site, mock):
    r, body = post_form(site, {"content": "From another origin"}, mock.grant(),
                        headers={"Origin": "https://client.example", "Sec-Fetch-Site": "cross-site"})
    created_path(r, body)


# --------------------------------------------------------------------------- secrets

def test_the_token_never_appears_in_the_log(make_server, mock):
    s = make_server(env(mock, LOG_LEVEL="DEBUG"))
    good = mock.grant()
    stranger = mock.grant(me="https://intruder.example/")
    reader = mock.grant(scope="read")
    unknown = "tok-unknown-" + uuid.uuid4().hex
    created_path(*post_form(s, {"content": "Logged create"}, good))
    post_form(s, {"content": "Body token", "access_token": good})
    post_form(s, {"content": "x"}, stranger)
    post_form(s, {"content": "x"}, reader)
    post_form(s, {"content": "x"}, unknown)
    query(s, "q=config&access_token=" + good)
    query(s, "q=config", unknown)
    log_file = s.data / "logs" / "starpunk.log"

    def all_logged():  # the file flushes once a second; each request's access line comes last
        text = log_file.read_text(errors="replace") if log_file.exists() else ""
        return (text.count("POST /micropub ") >= 5 and text.count("GET /micropub ") >= 2
                and "micropub: created note logged-create" in text)
    wait_until(all_logged, what="every request in the log file")
    log = s.output() + log_file.read_text()
    for token in (good, stranger, reader, unknown):
        assert token not in log
        assert token[4:] not in log
    assert "micropub: created note logged-create" in log


# --------------------------------------------------------------------------- micropub.rocks-style subset

ROCKS_CREATES = {
    "100 form h-entry": lambda s, t: post_form(s, {"h": "entry", "content": "Micropub test of creating a basic h-entry"}, t),
    "101 form with categories": lambda s, t: post_form(
        s, [("h", "entry"), ("content", "Micropub test of creating an h-entry with categories"),
            ("category[]", "test1"), ("category[]", "test2")], t),
    "200 json h-entry": lambda s, t: post_json(s, {"type": ["h-entry"], "properties": {
        "content": ["Micropub test of creating an h-entry with a JSON request"]}}, t),
    "201 json with categories": lambda s, t: post_json(s, {"type": ["h-entry"], "properties": {
        "content": ["Micropub test of creating an h-entry with a JSON request containing multiple categories"],
        "category": ["test1", "test2"]}}, t),
    "202 json with html": lambda s, t: post_json(s, {"type": ["h-entry"], "properties": {
        "content": [{"html": "<p>This post has <b>bold</b> and <i>italic</i> text.</p>"}]}}, t),
    "204 json with nested object": lambda s, t: post_json(s, {"type": ["h-entry"], "properties": {
        "content": ["Micropub test of a JSON request with a nested object"],
        "author": [{"type": ["h-card"], "properties": {"name": ["Someone"], "url": ["https://example.com"]}}]}}, t),
    "mp-slug": lambda s, t: post_form(s, {"h": "entry", "content": "Slugged", "mp-slug": "rocks-slug"}, t),
}


@pytest.mark.parametrize("name", list(ROCKS_CREATES))
def test_rocks_creates(site, mock, name):
    r, body = ROCKS_CREATES[name](site, mock.grant())
    path = created_path(r, body)
    r, html = site.request("GET", path)
    assert r.status == 200
    entry = entry_of(html.decode(), path)
    assert entry["properties"]["content"]
    if name == "mp-slug":
        assert path == "/note/rocks-slug"
    if name == "202 json with html":
        assert "<b>bold</b>" in entry["properties"]["content"][0]["html"]


def test_rocks_rejections(site, mock):
    r, body = post_form(site, {"h": "entry", "content": "no token"})             # 800
    assert_error(r, body, 401, "unauthorized")
    r, body = post_form(site, {"h": "entry", "content": "bad token"}, "invalid")  # 801
    assert_error(r, body, 401, "unauthorized")
    r, body = post_form(site, {"h": "entry", "content": "scope"}, mock.grant(scope="read"))  # 804
    assert_error(r, body, 403, "insufficient_scope")  # micropub.rocks wants 401: SPEC §5.2 decision
    assert count_notes(site) == 0
