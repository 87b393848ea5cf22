"""Running under a service manager, and the start-up rules a new user meets
first: sd_notify readiness (Type=notify in deploy/starpunk.service), links on
the real port in DEV_MODE without SITE_URL, and HOST validated with the rest
of the configuration."""
import os
import re
import signal
import socket
import subprocess
import time

from conftest import BIN, LISTEN_RE, run_cli

DEV_ENV = {"DEV_MODE": "true", "ADMIN_ME": "", "SITE_URL": ""}


def bound_datagram_socket(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(str(path))
    s.settimeout(20)
    return s


def receive_states(sock):
    return sock.recv(4096).decode().split("\n")


def test_ready_once_serving_and_stopping_on_sigterm(tmp_path):
    notify = bound_datagram_socket(tmp_path / "notify.sock")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DATA_PATH": str(tmp_path / "data"),
           "PORT": "0", "NOTIFY_SOCKET": str(tmp_path / "notify.sock"), **DEV_ENV}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    log = open(tmp_path / "server.log", "w+b")
    proc = subprocess.Popen([BIN, "serve"], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        # Blocks until the server says it is ready: from then on it must answer.
        states = receive_states(notify)
        assert "READY=1" in states
        port = int(LISTEN_RE.search((tmp_path / "server.log").read_text()).group(1))
        c = socket.create_connection(("127.0.0.1", port), timeout=5)
        c.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert c.recv(100).startswith(b"HTTP/1.1 200")
        c.close()
        proc.send_signal(signal.SIGTERM)
        assert "STOPPING=1" in receive_states(notify)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
        notify.close()


def test_an_unreachable_notify_socket_is_logged_and_the_server_still_serves(make_server, tmp_path):
    s = make_server({"NOTIFY_SOCKET": str(tmp_path / "no-such-dir" / "notify.sock")})
    r, _ = s.request("GET", "/health")
    assert r.status == 200
    assert "cannot notify the service manager at" in s.output()


def test_dev_mode_without_site_url_links_to_the_port_it_listens_on(make_server):
    s = make_server(DEV_ENV)
    base = f"http://127.0.0.1:{s.port}"
    assert f"(site {base})" in s.output()
    r, body = s.request("GET", "/")
    page = body.decode()
    assert r.status == 200
    assert f'href="{base}/feed.xml"' in page or f"{base}/feed" in page, page[:2000]
    assert "localhost:8000" not in page
    r, body = s.request("GET", "/feed.json")
    assert f'"home_page_url": "{base}/"' in body.decode() or f'"home_page_url":"{base}' in body.decode()
    # /dev/login's identity follows too (DEV_ADMIN_ME defaults to SITE_URL/).
    r, _ = s.request("GET", "/dev/login")
    assert r.status in (302, 303)


def test_an_explicit_site_url_is_kept_in_dev_mode(make_server):
    s = make_server({**DEV_ENV, "SITE_URL": "http://localhost:8000"})
    r, body = s.request("GET", "/feed.json")
    assert "http://localhost:8000/" in body.decode()
    assert f"127.0.0.1:{s.port}" not in body.decode()


def test_an_invalid_host_is_a_configuration_error(tmp_path):
    r = run_cli(tmp_path, ["serve"], env={**DEV_ENV, "HOST": "localhost", "PORT": "0"})
    assert r.returncode == 2, r.stderr
    assert re.search(r'HOST: "localhost" is not an IP address', r.stderr), r.stderr
    assert "listening" not in r.stderr
    assert not (tmp_path / "data" / "starpunk.db").exists()  # refused before touching any data
