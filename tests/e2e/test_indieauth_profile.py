"""The `profile` and `email` scopes of the built-in IndieAuth server
(issue 13): what a client granted them learns at the token endpoint and at
profile-only redemption, and that `email` is never granted without an address
to give (SITE_AUTHOR_EMAIL)."""
import json
import subprocess
from urllib.parse import urlencode

import pytest

from conftest import BIN, run_cli
from test_indieauth_server import (ADMIN_ME, FORM, PASSWORD, SITE_URL, Inputs, MockClient, approved_code,
                                   login, path_of, real, start)

AUTHOR = {"SITE_AUTHOR": "Ada <Lovelace>", "SITE_AUTHOR_PHOTO": "/static/me.jpg"}


@pytest.fixture
def client():
    c = MockClient()
    yield c
    c.close()


def server_with(make_server, extra):
    server = make_server({"ALLOW_HTTP_ENDPOINTS": "true", **AUTHOR, **extra})
    done = subprocess.run([BIN, "set-password"], cwd=server.cwd, env=dict(server.env), input=PASSWORD + "\n",
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return server


def token_for(server, client, scope):
    cookie, _ = login(server)
    session, verifier, location, code, meta = approved_code(server, client, cookie, scope=scope)
    return session.fetch_token(real(server, meta["token_endpoint"]), authorization_response=location,
                               code_verifier=verifier)


def test_profile_and_email_reach_the_client(make_server, client):
    server = server_with(make_server, {"SITE_AUTHOR_EMAIL": "ada@example.com"})
    token = token_for(server, client, "create profile email")
    assert set(token["scope"].split()) == {"create", "profile", "email"}
    assert token["profile"] == {"url": ADMIN_ME, "name": "Ada <Lovelace>",
                                "photo": SITE_URL + "/static/me.jpg", "email": "ada@example.com"}


def test_profile_without_email_scope_has_no_address(make_server, client):
    server = server_with(make_server, {"SITE_AUTHOR_EMAIL": "ada@example.com"})
    token = token_for(server, client, "create profile")
    assert "email" not in token["profile"] and token["profile"]["name"] == "Ada <Lovelace>"
    # email without profile: no profile at all (IndieAuth: email needs profile).
    token = token_for(server, client, "create email")
    assert "profile" not in token


def test_email_is_not_granted_without_an_address(make_server, client):
    server = server_with(make_server, {})
    cookie, _ = login(server)
    session, verifier, url, state, meta = start(server, client, "create profile email")
    r, body = server.request("GET", path_of(url), headers=cookie)
    assert r.status == 200
    form = Inputs()
    form.feed(body.decode())
    assert "email" not in form.grants and "profile" in form.grants
    # Even a forged tick is not granted.
    session, verifier, location, code, meta = approved_code(server, client, cookie, scope="create profile email",
                                                            grants=["create", "profile", "email"])
    token = session.fetch_token(real(server, meta["token_endpoint"]), authorization_response=location,
                                code_verifier=verifier)
    assert set(token["scope"].split()) == {"create", "profile"}
    assert "email" not in token["profile"]


def test_profile_only_redemption_returns_the_profile(make_server, client):
    server = server_with(make_server, {"SITE_AUTHOR_EMAIL": "ada@example.com"})
    cookie, _ = login(server)
    session, verifier, location, code, meta = approved_code(server, client, cookie, scope="profile email")
    form = {"grant_type": "authorization_code", "code": code, "client_id": client.client_id,
            "redirect_uri": client.redirect_uri, "code_verifier": verifier}
    r, body = server.request("POST", "/auth/authorize", urlencode(form), FORM)
    assert r.status == 200
    answer = json.loads(body)
    assert answer == {"me": ADMIN_ME, "profile": {"url": ADMIN_ME, "name": "Ada <Lovelace>",
                                                  "photo": SITE_URL + "/static/me.jpg",
                                                  "email": "ada@example.com"}}
    assert "access_token" not in answer


@pytest.mark.parametrize("bad", ["not-an-address", "a@b", "two@@example.com", "ada @example.com"])
def test_a_malformed_address_is_a_configuration_error(tmp_path, bad):
    done = run_cli(tmp_path, ["serve"], {"DEV_MODE": "true", "SITE_AUTHOR_EMAIL": bad, "PORT": "0"})
    assert done.returncode == 2, done.stderr
    assert "SITE_AUTHOR_EMAIL" in done.stderr + done.stdout
