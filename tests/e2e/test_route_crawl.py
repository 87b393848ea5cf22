"""A crawl of every route in the route table (src/web/routes.cpp), read from
`starpunk routes` so a route added later is crawled without touching this file.

Against the real server (DEV_MODE for a session, the built-in IndieAuth server
on, Prometheus counters on), for every route:
  * every response — pages, redirects, JSON, errors — carries the security
    headers of src/web/security_headers.cpp (and `Cache-Control: no-store` in
    the private areas);
  * an admin route (access admin / admin_api, src/web/access.hpp) refuses an
    anonymous request: pages 302 to /auth/login, JSON 401;
  * a state-changing route (any method but GET/HEAD) is an admin, bearer or
    client route — the one exception, anonymous by design, is the login form
    itself (ANONYMOUS_BY_DESIGN) — so an anonymous request cannot change state;
  * a state-changing route that is not meant to be
    called cross-site (`called_cross_site`: bearer and OAuth client routes)
    refuses a request from another site even with a live session and its valid
    CSRF token (foreign Origin, `Origin: null`, `Sec-Fetch-Site: cross-site`),
    and an admin one refuses a same-site request without or with a wrong CSRF
    token; a bearer route refuses a request without a token;
  * afterwards nothing stored changed (database rows and note files);
and the server's own per-route counters (/metrics) show that every route of
the table was reached, so the crawl cannot silently skip one.
"""
import hashlib
import json
import os
import re
import sqlite3
import subprocess
from urllib.parse import urlencode

import pytest

from conftest import BIN

SITE_URL = "http://127.0.0.1:8000"
ENV = {"SITE_URL": SITE_URL, "DEV_MODE": "true", "ADMIN_ME": SITE_URL + "/", "DEV_ADMIN_ME": SITE_URL + "/",
       "INDIEAUTH_SERVER": "true", "METRICS_PROMETHEUS": "true"}
EVIL = "https://evil.example"
FORM = "application/x-www-form-urlencoded"
SAFE_METHODS = {"GET", "HEAD"}
ACCESS_CLASSES = {"public", "admin", "admin_api", "bearer", "dev_only", "client"}
# State-changing routes anyone may call from this site without a session or token.
ANONYMOUS_BY_DESIGN = {("POST", "/auth/login")}


def route_table():
    out = subprocess.run([BIN, "routes"], capture_output=True, text=True, timeout=30, check=True).stdout
    routes = [json.loads(line) for line in out.splitlines() if line.strip()]
    for r in routes:
        assert r["access"] in ACCESS_CLASSES, r
        assert r["pattern"].startswith("/"), r
    return routes


def check_security_headers(r, what):
    """The headers apply_site_headers() sets on every response."""
    csp = r.getheader("Content-Security-Policy") or ""
    directives = {d.strip().split(" ")[0]: d.strip() for d in csp.split(";") if d.strip()}
    assert directives.get("default-src") == "default-src 'self'", f"{what}: CSP {csp!r}"
    assert directives.get("script-src") == "script-src 'self'", f"{what}: CSP {csp!r}"
    assert directives.get("object-src") == "object-src 'none'", f"{what}: CSP {csp!r}"
    assert directives.get("base-uri") == "base-uri 'none'", f"{what}: CSP {csp!r}"
    assert directives.get("frame-ancestors") == "frame-ancestors 'none'", f"{what}: CSP {csp!r}"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, f"{what}: CSP {csp!r}"
    assert r.getheader("X-Content-Type-Options") == "nosniff", what
    assert r.getheader("X-Frame-Options") == "DENY", what
    assert r.getheader("Referrer-Policy") == "strict-origin-when-cross-origin", what


class Crawl:
    def __init__(self, server):
        self.s = server
        self.responses = 0
        r, _ = server.request("GET", "/dev/login")
        assert r.status == 302, r.status
        self.session = r.getheader("Set-Cookie").split(";")[0].split("=", 1)[1]
        r, body = self.send("GET", "/admin/", self.cookie())
        assert r.status == 200
        self.csrf = re.search(rb'name="csrf_token" value="([^"]+)"', body).group(1).decode()

    def cookie(self):
        return {"Cookie": f"starpunk_session={self.session}"}

    def send(self, method, path, headers=None, body=None, what=None):
        r, data = self.s.request(method, path, body=body, headers=headers or {})
        what = what or f"{method} {path}"
        check_security_headers(r, f"{what} -> {r.status}")
        private = path.startswith(("/admin", "/auth/", "/dev/"))
        if private:
            assert "no-store" in (r.getheader("Cache-Control") or ""), f"{what}: Cache-Control"
        self.responses += 1
        return r, data

    def create_note(self):
        body = urlencode({"content": "Crawled note", "tags": "crawl", "published": "1", "csrf_token": self.csrf})
        r, _ = self.send("POST", "/admin/new", {"Content-Type": FORM, "Origin": SITE_URL, **self.cookie()}, body)
        assert r.status == 303
        slug = re.search(r"slug=([^&]+)", r.getheader("Location")).group(1)
        _, page = self.send("GET", "/admin/", self.cookie())
        note_id = re.search(rb"/admin/edit/(\d+)", page).group(1).decode()
        return slug, note_id


def fill(pattern, values):
    """The pattern with each {name} / {name*} replaced by a real or dummy value."""
    def one(m):
        name = m.group(1)
        assert name in values, f"no value for path parameter {{{name}}} of {pattern}: add one to the crawl"
        return values[name]
    return re.sub(r"\{([a-z_]+)\*?\}", one, pattern)


def snapshot(server):
    """Everything a successful forged request could change: the rows of the
    tables that hold content, credentials and sessions, and the note files."""
    db = sqlite3.connect(f"file:{server.data / 'starpunk.db'}?mode=ro", uri=True)
    try:
        state = {}
        for table in ("notes", "tags", "note_tags", "note_photos", "media", "media_variants", "indieauth_codes",
                      "indieauth_tokens", "owner_password", "owner_totp", "auth_state"):
            state[table] = sorted(map(repr, db.execute(f"SELECT * FROM {table}").fetchall()))
        # Sessions slide on use: their identities, not their timestamps.
        state["sessions"] = sorted(map(repr, db.execute("SELECT id FROM sessions").fetchall()))
    finally:
        db.close()
    files = {}
    for p in sorted((server.data / "notes").rglob("*")):
        if p.is_file():
            files[str(p.relative_to(server.data))] = hashlib.sha256(p.read_bytes()).hexdigest()
    state["files"] = files
    return state


@pytest.fixture(scope="module")
def routes():
    return route_table()


def test_the_route_table_lists_the_known_routes(routes):
    """`starpunk routes` prints the table itself (spot checks of each class)."""
    seen = {(r["method"], r["pattern"]): r for r in routes}
    assert seen[("GET", "/")]["access"] == "public"
    assert seen[("POST", "/admin/new")]["access"] == "admin" and seen[("POST", "/admin/new")]["admin"]
    assert seen[("GET", "/admin/metrics")]["access"] == "admin_api"
    assert seen[("POST", "/micropub")]["access"] == "bearer" and seen[("POST", "/micropub")]["called_cross_site"]
    assert seen[("POST", "/auth/token")]["access"] == "client"
    assert seen[("GET", "/dev/login")]["access"] == "dev_only"
    assert len(seen) == len(routes), "a route is listed twice"


def test_every_route_under_admin_is_an_admin_route(routes):
    """The admin area is closed by the access class, not by the handler: a
    route under /admin/ that is not `admin`/`admin_api` would be open."""
    open_admin = [r for r in routes if r["pattern"].startswith("/admin") and not r["admin"]]
    assert not open_admin, open_admin


def test_state_changing_routes_need_a_session_or_a_token(routes):
    """A public state-changing route would take anonymous requests: only the
    login form may (a new one must be added here on purpose, with a reason)."""
    public = {(r["method"], r["pattern"]) for r in routes
              if r["method"] not in SAFE_METHODS and r["access"] in ("public", "dev_only")}
    assert public == ANONYMOUS_BY_DESIGN


def test_crawl_every_route(make_server, routes):
    server = make_server(ENV)
    c = Crawl(server)
    slug, note_id = c.create_note()
    values = {"slug": slug, "tag": "crawl", "id": note_id, "path": "style.css"}
    # /media/ has no file yet: a dummy path gives its 404, which must carry the headers too.
    media_values = dict(values, path="2026/01/nothing.jpg")
    reached = set()

    # Safe methods: anonymous and as the admin.
    for r in routes:
        if r["method"] not in SAFE_METHODS:
            continue
        path = fill(r["pattern"], media_values if r["pattern"].startswith("/media/") else values)
        what = f"anonymous {r['method']} {path} ({r['access']})"
        res, _ = c.send(r["method"], path, what=what)
        if r["admin"]:
            if r["access"] == "admin_api":
                assert res.status == 401, what
            else:
                assert res.status == 302 and res.getheader("Location") == "/auth/login", f"{what}: {res.status}"
        if r["access"] != "dev_only":  # /dev/login would make another session
            c.send(r["method"], path, c.cookie(), what=f"admin {r['method']} {path}")
        reached.add((r["method"], r["pattern"]))

    # State-changing methods: forged requests, and nothing may change.
    before = snapshot(server)
    refused = 0  # forged requests answered with a refusal (each asserted below)
    for r in routes:
        if r["method"] in SAFE_METHODS:
            continue
        method = r["method"]
        path = fill(r["pattern"], values)
        name = f"{method} {path} ({r['access']})"
        forged = urlencode({"content": "forged", "published": "1", "slug": "forged", "csrf_token": c.csrf})

        res, _ = c.send(method, path, {"Content-Type": FORM, "Origin": SITE_URL}, forged,
                        what=f"anonymous {name}")
        if r["admin"]:
            expected = 401 if r["access"] == "admin_api" else 302
            assert res.status == expected, f"anonymous {name}: {res.status}"
            if expected == 302:
                assert res.getheader("Location") == "/auth/login", name
            refused += 1
        if r["access"] == "bearer":
            # 401, or 400 where the token could be in a body of another kind
            # (the media endpoint reads it from its multipart form).
            assert res.status in (400, 401), f"{name} without a token: {res.status}"
            refused += 1

        if not r["called_cross_site"]:
            for headers in ({"Origin": EVIL}, {"Origin": "null"}, {"Origin": SITE_URL, "Sec-Fetch-Site": "cross-site"},
                            {"Sec-Fetch-Site": "cross-site"}):
                what = f"cross-site {name} with a live session and its token, {headers}"
                res, _ = c.send(method, path, {"Content-Type": FORM, **headers, **c.cookie()}, forged, what=what)
                assert res.status == 403, f"{what}: {res.status}"
                refused += 1

        if r["admin"]:
            for token in ("", "x" * len(c.csrf), c.csrf[:-1]):
                body = urlencode({"content": "forged", "published": "1", "csrf_token": token})
                what = f"same-site {name} with a live session and csrf_token={token!r}"
                res, _ = c.send(method, path, {"Content-Type": FORM, "Origin": SITE_URL, **c.cookie()}, body,
                                what=what)
                assert res.status == 403, f"{what}: {res.status}"
                refused += 1
            what = f"same-site {name} with a live session and a wrong X-CSRF-Token"
            res, _ = c.send(method, path, {"Origin": SITE_URL, "X-CSRF-Token": "y" * len(c.csrf), **c.cookie()},
                            what=what)
            assert res.status == 403, f"{what}: {res.status}"
            refused += 1
        reached.add((r["method"], r["pattern"]))
    after = snapshot(server)
    for key in before:
        assert before[key] == after[key], f"the forged requests changed {key}"
    # The session survived every forged logout.
    res, _ = c.send("GET", "/admin/", c.cookie())
    assert res.status == 200

    # Errors the gate and the server answer themselves carry the headers too.
    assert c.send("GET", "/no/such/page")[0].status == 404
    assert c.send("DELETE", "/")[0].status == 405
    assert c.send("GET", "/note/%zz")[0].status == 400
    res, _ = c.send("POST", "/admin/new", {"Content-Type": FORM, "Content-Length": str(1 << 40)}, b"",
                    what="POST /admin/new with a huge Content-Length")
    assert res.status == 413
    res, _ = c.send("GET", "/", {"X-Big": "a" * 200_000}, what="GET / with a huge header")
    assert res.status == 431

    # Completeness: the crawl sent something to every route of the table, and
    # the server's own counters (by route pattern and method) agree.
    table = {(r["method"], r["pattern"]) for r in routes}
    assert reached == table, f"routes the crawl skipped: {sorted(table - reached)}"
    _, text = server.request("GET", "/metrics")
    counted = set()
    for m in re.finditer(r'^starpunk_http_requests_total\{(.*)\} (\d+)$', text.decode(), re.M):
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(1)))
        if int(m.group(2)) > 0:
            counted.add((labels.get("method"), labels.get("route")))
    missing = sorted(table - counted)
    assert not missing, f"routes the server never saw a request for: {missing}"
    assert c.responses > 2 * len(routes)
    write_summary({"test": "route_crawl", "routes": len(routes),
                   "state_changing": sum(r["method"] not in SAFE_METHODS for r in routes),
                   "admin": sum(bool(r["admin"]) for r in routes), "responses": c.responses,
                   "refused": refused, "counted_by_server": len(table & counted)})


def write_summary(record):
    """The counts the crawl reached, as a JSON line appended to the file named
    by RELIABILITY_SUMMARY (bench/reliability/checks.py records them)."""
    path = os.environ.get("RELIABILITY_SUMMARY")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(record) + "\n")


def test_dev_only_routes_do_not_exist_without_dev_mode(make_server, routes):
    server = make_server({"SITE_URL": SITE_URL, "ADMIN_ME": SITE_URL + "/"})
    dev = [r for r in routes if r["access"] == "dev_only"]
    assert dev
    for r in dev:
        res, _ = server.request(r["method"], fill(r["pattern"], {}))
        check_security_headers(res, r["pattern"])
        assert res.status == 404, r["pattern"]
        assert "Set-Cookie" not in res.headers
