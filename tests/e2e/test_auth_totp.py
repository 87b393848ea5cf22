"""TOTP (RFC 6238) as the optional second factor of the password login, end to
end (issue 13): `starpunk set-totp` prints a new secret once; /auth/login then
asks for the 6-digit code after a right password; codes are computed here with
the standard library (hmac, base64); wrong codes are throttled like wrong
passwords; a used code cannot be replayed; `set-totp --remove` turns it off;
neither the secret, the codes nor the login ticket reach the logs."""
import base64
import hashlib
import hmac
import re
import sqlite3
import struct
import subprocess
import time
from contextlib import closing
from urllib.parse import urlencode

import html_validate
from conftest import BIN, log_text

PASSWORD = "a correct horse battery staple"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
ENV = {"ALLOW_HTTP_ENDPOINTS": "true"}


def run(server, *args, stdin=""):
    return subprocess.run([BIN, *args], cwd=server.cwd, env=dict(server.env), input=stdin, capture_output=True,
                          text=True, timeout=60)


def totp(secret, offset=0, now=None):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    step = int((now if now is not None else time.time()) // 30) + offset
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    o = mac[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


def fresh_code(secret):
    """A code not too close to the end of its step (so it is still current, or
    at most one step old, when the server checks it)."""
    if time.time() % 30 > 27:
        time.sleep(30 - time.time() % 30 + 0.1)
    return totp(secret)


def totp_site(make_server):
    server = make_server(ENV)
    assert run(server, "set-password", stdin=PASSWORD + "\n").returncode == 0
    done = run(server, "set-totp")
    assert done.returncode == 0, done.stderr
    uri = re.search(r"otpauth://totp/\S+", done.stdout).group(0)
    secret = re.search(r"[?&]secret=([A-Z2-7]+)", uri).group(1)
    assert re.search(r"secret: " + secret, done.stdout)
    assert len(base64.b32decode(secret + "=" * (-len(secret) % 8))) == 20
    assert "issuer=" in uri and "digits=6" in uri and "period=30" in uri
    return server, secret, done.stdout


def password_step(server, next_=None):
    fields = {"password": PASSWORD}
    if next_:
        fields["next"] = next_
    r, body = server.request("POST", "/auth/login", urlencode(fields), FORM)
    assert r.status == 200, body[:300]
    assert "Set-Cookie" not in dict(r.getheaders())  # no session before the code
    page = body.decode()
    assert 'name="code"' in page and 'autocomplete="one-time-code"' in page
    return re.search(r'name="totp_ticket" value="([^"]+)"', page).group(1), page


def code_step(server, ticket, code, next_=None):
    fields = {"totp_ticket": ticket, "code": code}
    if next_:
        fields["next"] = next_
    return server.request("POST", "/auth/login", urlencode(fields), FORM)


def test_password_then_code_logs_in_and_a_used_code_cannot_be_replayed(make_server, tmp_path):
    server, secret, printed = totp_site(make_server)
    with closing(sqlite3.connect(server.data / "starpunk.db")) as db:
        assert db.execute("SELECT secret FROM owner_totp").fetchone() == (secret,)
    ticket, page = password_step(server)
    assert html_validate.validate({"/auth/login": page}, tmp_path / "hv") == {}
    code = fresh_code(secret)
    r, _ = code_step(server, ticket, code)
    assert r.status == 302 and r.getheader("Location") == "/admin/"
    cookie = re.search(r"starpunk_session=([^;]+)", r.getheader("Set-Cookie")).group(1)
    admin, _ = server.request("GET", "/admin/", headers={"Cookie": f"starpunk_session={cookie}"})
    assert admin.status == 200
    # The ticket is used up, and the same code is refused on a new attempt.
    r, body = code_step(server, ticket, code)
    assert r.status == 403 and b"expired" in body
    ticket2, _ = password_step(server)
    r, body = code_step(server, ticket2, code)
    assert r.status == 403 and b"That code is not right" in body and "Set-Cookie" not in dict(r.getheaders())
    text = log_text(server)
    assert "TOTP code from 127.0.0.1 wrong or already used" in text
    for secret_text in (secret, code, ticket, ticket2, PASSWORD):
        assert secret_text not in text


def test_wrong_codes_count_towards_the_login_throttle(make_server):
    server, secret, _ = totp_site(make_server)
    ticket, _ = password_step(server)
    right = totp(secret)
    wrong = "%06d" % ((int(right) + 500000) % 1000000)
    r, body = code_step(server, ticket, wrong)
    assert r.status == 403 and b"That code is not right" in body
    # At once even the right code is not heard (the throttle's first delay).
    # (totp(), not fresh_code(): no sleeping while the throttle's clock runs.)
    r, body = code_step(server, ticket, totp(secret))
    assert r.status == 429 and int(r.getheader("Retry-After")) >= 1
    assert "Set-Cookie" not in dict(r.getheaders())
    # A right password does not forget the failure while a code is to come.
    time.sleep(1.1)
    ticket2, _ = password_step(server)
    r, _ = code_step(server, ticket2, wrong)
    assert r.status == 403
    r, _ = code_step(server, ticket2, totp(secret))
    assert r.status == 429 and int(r.getheader("Retry-After")) >= 2
    time.sleep(int(r.getheader("Retry-After")) + 0.1)
    r, _ = code_step(server, ticket2, fresh_code(secret))
    assert r.status == 302
    assert wrong not in log_text(server)


def test_a_forged_ticket_or_a_code_without_password_gets_nothing(make_server):
    server, secret, _ = totp_site(make_server)
    r, body = code_step(server, "A" * 43, fresh_code(secret))
    assert r.status == 403 and b"Enter your password again" in body
    assert "Set-Cookie" not in dict(r.getheaders())
    # A wrong password never reaches the code step.
    r, body = server.request("POST", "/auth/login", urlencode({"password": PASSWORD + "x"}), FORM)
    assert r.status == 403 and b'name="code"' not in body


def test_code_step_carries_next_back_to_the_authorization_request(make_server):
    server, secret, _ = totp_site(make_server)
    nxt = "/auth/authorize?response_type=code&client_id=https%3A%2F%2Fapp.example%2F"
    ticket, page = password_step(server, nxt)
    assert 'name="next"' in page
    r, _ = code_step(server, ticket, fresh_code(secret), nxt)
    assert r.status == 302 and r.getheader("Location").endswith(nxt)


def test_set_totp_remove_turns_it_off(make_server):
    server, secret, _ = totp_site(make_server)
    done = run(server, "set-totp", "--remove")
    assert done.returncode == 0 and "off" in done.stdout
    r, _ = server.request("POST", "/auth/login", urlencode({"password": PASSWORD}), FORM)
    assert r.status == 302 and "starpunk_session=" in r.getheader("Set-Cookie")
    with closing(sqlite3.connect(server.data / "starpunk.db")) as db:
        assert db.execute("SELECT COUNT(*) FROM owner_totp").fetchone() == (0,)
