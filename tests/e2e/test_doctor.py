"""`starpunk doctor`: each test breaks one thing and expects the finding that
names it, the path at fault and a fix; a healthy data directory exits 0."""
import os
import shutil
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import run_cli

SECRET = "doctor-secret-" + "q" * 40
PROD = {"SITE_URL": "https://blog.example", "ADMIN_ME": "https://blog.example/", "SESSION_SECRET": SECRET}


def doctor(tmp_path, *args, env=None):
    r = run_cli(tmp_path, ["doctor", *args], env={**PROD, **(env or {})})
    assert SECRET not in r.stdout + r.stderr
    return r


def findings(r, severity):
    """The finding lines of one severity, each with its at:/fix: lines."""
    out, current = [], None
    for line in r.stdout.splitlines():
        if line.startswith(("ok ", "WARNING", "PROBLEM")):
            current = [line] if line.startswith(severity) else None
            if current is not None:
                out.append(current)
        elif current is not None and line.startswith("         "):
            current.append(line.strip())
    return ["\n".join(f) for f in out]


def has(r, severity, *needles):
    return any(all(n in f for n in needles) for f in findings(r, severity))


def populate(tmp_path, count=3):
    src = tmp_path / "import"
    src.mkdir(exist_ok=True)
    for i in range(count):
        p = src / f"note-{i:03d}.md"
        p.write_text(f"note number {i}\n")
        os.utime(p, (1_700_000_000 + i * 60, 1_700_000_000 + i * 60))
    r = run_cli(tmp_path, ["import", str(src)])
    assert r.returncode == 0, r.stderr
    return tmp_path / "data"


def note_file(data, offset=0):
    con = sqlite3.connect(data / "starpunk.db")
    try:
        (path,) = con.execute("SELECT file_path FROM notes ORDER BY updated_at DESC, id DESC LIMIT 1 OFFSET ?",
                              (offset,)).fetchone()
    finally:
        con.close()
    return data / "notes" / path


def test_a_healthy_site_exits_0(tmp_path):
    populate(tmp_path)
    r = doctor(tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert findings(r, "PROBLEM") == []
    assert has(r, "ok", "configuration: valid")
    assert has(r, "ok", "database: quick_check passed")
    assert has(r, "ok", "database: schema is current")
    assert has(r, "ok", "search: FTS5 available")
    assert has(r, "ok", "notes: 3 note file(s) present")
    assert has(r, "ok", "disk:", "MiB free")
    assert "healthy: 0 problem(s)" in r.stdout
    full = doctor(tmp_path, "--full")
    assert full.returncode == 0
    assert has(full, "ok", "database: integrity_check passed")
    assert has(full, "ok", "notes: 3 note file(s) present and matching their hashes")


def test_doctor_changes_nothing(tmp_path):
    r = doctor(tmp_path)
    assert r.returncode == 1
    assert has(r, "PROBLEM", "DATA_PATH does not exist", str(tmp_path / "data"), "fix: point DATA_PATH")
    assert has(r, "WARNING", "NOTES_PATH does not exist yet", "creates it at start-up")
    assert has(r, "WARNING", "database does not exist yet", "starpunk migrate")
    assert not (tmp_path / "data").exists()


def test_configuration_problems_name_the_variable_never_the_secret(tmp_path):
    populate(tmp_path)
    r = doctor(tmp_path, env={"SESSION_SECRET": "", "HOST": "localhost", "PORT": "http"})
    assert r.returncode == 1
    assert has(r, "PROBLEM", "configuration: SESSION_SECRET: required", "fix: set it in ./.env")
    assert has(r, "PROBLEM", 'HOST: "localhost" is not an IP address')
    assert has(r, "PROBLEM", "PORT: expected a whole number")
    short = doctor(tmp_path, env={"SESSION_SECRET": "short-secret-value"})
    assert "short-secret-value" not in short.stdout + short.stderr
    assert has(short, "WARNING", "SESSION_SECRET is shorter than 32 characters")


def test_a_missing_site_url_outside_dev_mode_is_a_problem(tmp_path):
    populate(tmp_path)
    r = doctor(tmp_path, env={"SITE_URL": ""})
    assert r.returncode == 1
    assert has(r, "PROBLEM", "SITE_URL is not set", "fix: set SITE_URL")
    http = doctor(tmp_path, env={"SITE_URL": "http://blog.example"})
    assert http.returncode == 0 and has(http, "WARNING", "is not https")


def test_a_malformed_env_file_is_named(tmp_path):
    populate(tmp_path)
    (tmp_path / ".env").write_text("SITE_URL=https://blog.example\nthis line is wrong\n")
    r = doctor(tmp_path)
    assert r.returncode == 1
    assert has(r, "PROBLEM", ".env line 2", "at:  .env")


def test_a_directory_the_server_cannot_use(tmp_path):
    data = populate(tmp_path)
    notes = data / "notes"
    if os.geteuid() == 0:
        # root may write anywhere; what it can see is an owner that is not it.
        os.chown(notes, 65534, 65534)
        r = doctor(tmp_path)
        assert has(r, "WARNING", "NOTES_PATH is owned by uid 65534", str(notes), "fix: chown -R")
    else:
        os.chmod(notes, 0o500)
        try:
            r = doctor(tmp_path)
        finally:
            os.chmod(notes, 0o700)
        assert r.returncode == 1
        assert has(r, "PROBLEM", "NOTES_PATH is not writable", str(notes), "fix:")
    shutil.rmtree(notes)
    notes.write_text("a file where a directory belongs")
    r = doctor(tmp_path)
    assert r.returncode == 1
    assert has(r, "PROBLEM", "NOTES_PATH is not a directory", str(notes))


def test_a_damaged_database(tmp_path):
    data = populate(tmp_path)
    db = data / "starpunk.db"
    with open(db, "r+b") as f:
        f.write(b"this is not an SQLite header at all")
    r = doctor(tmp_path)
    assert r.returncode == 1
    assert has(r, "PROBLEM", "database:", str(db), "restore")


def test_schema_from_a_newer_version_and_pending_migrations(tmp_path):
    data = populate(tmp_path)
    con = sqlite3.connect(data / "starpunk.db")
    con.execute("INSERT INTO schema_migrations (migration_name) VALUES ('999_from_the_future')")
    con.commit()
    r = doctor(tmp_path)
    assert r.returncode == 1
    assert has(r, "PROBLEM", "999_from_the_future", "a newer StarPunk wrote this database", "fix:")
    con.execute("DELETE FROM schema_migrations WHERE migration_name IN ('999_from_the_future', '009_indieauth_server')")
    # Python StarPunk 1.x records its migrations as file names: not "newer".
    con.execute("INSERT INTO schema_migrations (migration_name) VALUES ('001_add_code_verifier_to_auth_state.sql')")
    con.commit()
    con.close()
    r = doctor(tmp_path)
    assert r.returncode == 0, r.stdout
    assert has(r, "WARNING", "1 migration(s) not applied yet (009_indieauth_server)", "starpunk migrate")


def test_a_missing_search_index(tmp_path):
    data = populate(tmp_path)
    con = sqlite3.connect(data / "starpunk.db")
    con.execute("DROP TABLE notes_fts")
    con.commit()
    con.close()
    r = doctor(tmp_path)
    assert r.returncode == 0
    assert has(r, "WARNING", "search:", "no search index", "starpunk reindex")


def test_note_files_against_their_hashes(tmp_path):
    data = populate(tmp_path)
    changed = note_file(data, 0)
    changed.write_text("edited behind StarPunk's back\n")
    gone = note_file(data, 1)
    gone.unlink()
    (changed.parent / "stray.md").write_text("no row for me\n")
    r = doctor(tmp_path)
    assert r.returncode == 1
    assert has(r, "PROBLEM", "notes: hash mismatch", str(changed), "fix: restore this file")
    assert has(r, "PROBLEM", "notes: missing file", str(gone))
    assert has(r, "WARNING", "orphan file", str(changed.parent / "stray.md"))


def test_quick_mode_hashes_the_newest_notes_and_full_mode_every_one(tmp_path):
    data = populate(tmp_path, count=101)
    oldest = note_file(data, 100)  # the 101st most recently changed: not hashed in quick mode
    oldest.write_text("silently changed\n")
    quick = doctor(tmp_path)
    assert quick.returncode == 0, quick.stdout
    assert has(quick, "ok", "101 note file(s) present; the 100 most recently changed match")
    full = doctor(tmp_path, "--full")
    assert full.returncode == 1
    assert has(full, "PROBLEM", "hash mismatch", str(oldest))
    oldest.unlink()  # a missing file is found in quick mode too
    assert has(doctor(tmp_path), "PROBLEM", "missing file", str(oldest))


class Profile:
    """ADMIN_ME's homepage on loopback; `links` is what its <head> advertises."""

    def __init__(self, links):
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests += 1
                body = f"<!doctype html><html><head>{links}</head><body>me</body></html>".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def profile():
    made = []

    def make(links):
        p = Profile(links)
        made.append(p)
        return p
    yield make
    for p in made:
        p.close()


def test_admin_endpoints_only_with_online(tmp_path, profile):
    populate(tmp_path)
    p = profile('<link rel="authorization_endpoint" href="/auth"><link rel="token_endpoint" href="/token">')
    env = {"ADMIN_ME": p.url, "ALLOW_HTTP_ENDPOINTS": "true", "INDIEAUTH_SERVER": "false"}
    offline = doctor(tmp_path, env=env)
    assert p.requests == 0
    assert has(offline, "ok", "not checked (no outbound requests without --online)")
    r = doctor(tmp_path, "--online", env=env)
    assert p.requests >= 1
    assert r.returncode == 0, r.stdout
    assert has(r, "ok", f"advertises authorization endpoint {p.url}auth")
    assert has(r, "ok", f"token endpoint {p.url}token")


def test_admin_without_a_token_endpoint_is_a_problem(tmp_path, profile):
    populate(tmp_path)
    p = profile("")
    env = {"ADMIN_ME": p.url, "ALLOW_HTTP_ENDPOINTS": "true", "INDIEAUTH_SERVER": "false"}
    r = doctor(tmp_path, "--online", env=env)
    assert r.returncode == 1
    assert has(r, "WARNING", "names no authorization endpoint")
    assert has(r, "PROBLEM", "advertises no token endpoint", "fix: advertise")
    with_override = doctor(tmp_path, "--online", env={**env, "TOKEN_ENDPOINT": "https://tokens.example/token"})
    assert with_override.returncode == 0
    assert has(with_override, "ok", "TOKEN_ENDPOINT https://tokens.example/token is used")


def test_an_unreachable_admin_me_is_a_problem(tmp_path):
    populate(tmp_path)
    r = doctor(tmp_path, "--online", env={"ADMIN_ME": "http://127.0.0.1:9/", "ALLOW_HTTP_ENDPOINTS": "true"})
    assert r.returncode == 1
    assert has(r, "PROBLEM", "identity: http://127.0.0.1:9/ cannot be fetched")
