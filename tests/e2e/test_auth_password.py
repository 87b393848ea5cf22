"""The owner's password login end to end (issue 13): `starpunk set-password`
reads the password from stdin (never argv) and stores an Argon2id hash; the
login page offers a password form whether or not one is set; wrong passwords
are refused and slowed down; the right one signs the owner in; the password
never reaches the logs."""
import re
import sqlite3
import subprocess
from contextlib import closing

from conftest import BIN, log_text

PASSWORD = "a correct horse battery staple"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# ADMIN_ME is http://127.0.0.1:8000/ in these tests: an http identity needs this.
ENV = {"ALLOW_HTTP_ENDPOINTS": "true"}


def set_password(server, password, *extra):
    env = dict(server.env)
    return subprocess.run([BIN, "set-password", *extra], cwd=server.cwd, env=env, input=password + "\n",
                          capture_output=True, text=True, timeout=60)


def login(server, password, next_=None):
    from urllib.parse import urlencode
    fields = {"password": password}
    if next_:
        fields["next"] = next_
    return server.request("POST", "/auth/login", urlencode(fields), FORM)


def test_set_password_stores_argon2id_and_logs_the_owner_in(make_server):
    server = make_server(ENV)
    done = set_password(server, PASSWORD)
    assert done.returncode == 0, done.stderr
    with closing(sqlite3.connect(server.data / "starpunk.db")) as db:
        (stored,) = db.execute("SELECT password_hash FROM owner_password").fetchone()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored

    page, body = server.request("GET", "/auth/login")
    assert page.status == 200 and b'name="password"' in body

    r, _ = login(server, PASSWORD)
    assert r.status == 302 and r.getheader("Location") == "/admin/"
    cookie = re.search(r"starpunk_session=([^;]+)", r.getheader("Set-Cookie")).group(1)
    admin, _ = server.request("GET", "/admin/", headers={"Cookie": f"starpunk_session={cookie}"})
    assert admin.status == 200
    with closing(sqlite3.connect(server.data / "starpunk.db")) as db:
        methods = [m for (m,) in db.execute("SELECT login_method FROM sessions")]
    assert methods == ["password"]

    # A new password ends the sessions the old one made.
    assert set_password(server, PASSWORD + " two").returncode == 0
    after, _ = server.request("GET", "/admin/", headers={"Cookie": f"starpunk_session={cookie}"})
    assert after.status == 302


def test_wrong_passwords_are_refused_slowed_and_never_logged(make_server):
    server = make_server(ENV)
    assert set_password(server, PASSWORD).returncode == 0
    wrong = "not-the-password-" + "q" * 12
    r, body = login(server, wrong)
    assert r.status == 403 and b"That password is not right." in body
    assert "Set-Cookie" not in dict(r.getheaders())
    # Right away, the right password is not even heard from this address.
    r, body = login(server, PASSWORD)
    assert r.status == 429 and int(r.getheader("Retry-After")) >= 1
    assert "Set-Cookie" not in dict(r.getheaders())
    text = log_text(server)
    assert "password login from 127.0.0.1 failed" in text
    assert wrong not in text and PASSWORD not in text


def test_unset_password_looks_like_a_wrong_one(make_server):
    server = make_server(ENV)
    page, body = server.request("GET", "/auth/login")
    assert page.status == 200 and b'name="password"' in body  # offered whether or not one is set
    r, body = login(server, "whatever-it-may-be")
    assert r.status == 403 and b"That password is not right." in body


def test_set_password_refuses_a_short_password_and_argv(make_server, tmp_path):
    server = make_server(ENV)
    short = set_password(server, "short")
    assert short.returncode == 2 and "too short" in short.stderr
    with closing(sqlite3.connect(server.data / "starpunk.db")) as db:
        assert db.execute("SELECT COUNT(*) FROM owner_password").fetchone() == (0,)
    argv = subprocess.run([BIN, "set-password", PASSWORD], cwd=server.cwd, env=dict(server.env), input="",
                          capture_output=True, text=True, timeout=30)
    assert argv.returncode == 2  # no positional password accepted


def test_next_only_continues_to_the_authorization_endpoint(make_server):
    server = make_server(ENV)
    assert set_password(server, PASSWORD).returncode == 0
    r, _ = login(server, PASSWORD, next_="https://evil.example/")
    assert r.getheader("Location") == "/admin/"
