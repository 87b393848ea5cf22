"""The web platform as a client sees it: routing errors, limits, headers,
static files, error formats, graceful shutdown."""
import json
import re
import signal
import socket
import time
import uuid

from conftest import run_cli, wait_until

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def assert_common_headers(r):
    for k, v in SECURITY_HEADERS.items():
        assert r.getheader(k) == v, k
    csp = r.getheader("Content-Security-Policy")
    assert csp and "object-src 'none'" in csp and "base-uri 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert r.getheader("X-Request-ID")


def parse_raw_response(raw: bytes):
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body


def test_health_answers_json(server):
    r, body = server.request("GET", "/health")
    assert r.status == 200
    assert r.getheader("Content-Type") == "application/json; charset=utf-8"
    doc = json.loads(body)
    assert doc["status"] == "healthy"
    assert re.match(r"^\d+\.\d+\.\d+", doc["version"])
    assert_common_headers(r)


def test_unknown_path_is_404_html_page_in_layout(server):
    r, body = server.request("GET", "/no/such/page")
    assert r.status == 404
    assert r.getheader("Content-Type") == "text/html; charset=utf-8"
    text = body.decode()
    assert "<!DOCTYPE html>" in text and "404" in text and 'rel="micropub"' in text
    assert_common_headers(r)


def test_wrong_method_is_405_with_allow(server):
    r, body = server.request("PUT", "/", body=b"x=1",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 405
    assert r.getheader("Allow") == "GET, HEAD"
    assert "405" in body.decode()
    assert_common_headers(r)


def test_wrong_method_on_a_json_endpoint_is_a_json_405(server):
    r, body = server.request("POST", "/health", body=b"x=1",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 405
    assert r.getheader("Allow") == "GET, HEAD"
    assert json.loads(body)["error"] == "method_not_allowed"
    assert_common_headers(r)


def test_head_has_headers_but_no_body(server):
    r, body = server.request("HEAD", "/health")
    assert r.status == 200
    assert body == b""
    assert int(r.getheader("Content-Length")) > 0


def test_json_errors_under_api_and_micropub(server):
    for path in ("/api/nothing-here", "/micropub/nothing"):
        r, body = server.request("GET", path)
        assert r.status == 404
        assert r.getheader("Content-Type").startswith("application/json")
        doc = json.loads(body)
        assert set(doc) == {"error", "error_description"}
        assert doc["error"] == "not_found"
        assert_common_headers(r)


def test_request_id_echoes_sane_client_value(server):
    r, _ = server.request("GET", "/health", headers={"X-Request-ID": "abc-123.XYZ"})
    assert r.getheader("X-Request-ID") == "abc-123.XYZ"


def test_request_id_replaces_insane_client_value(server):
    for bad in ("has spaces in it", "x" * 200, "<script>"):
        r, _ = server.request("GET", "/health", headers={"X-Request-ID": bad})
        rid = r.getheader("X-Request-ID")
        assert rid != bad
        uuid.UUID(rid)


def test_request_ids_are_unique_and_logged(server):
    ids = set()
    for _ in range(20):
        r, _ = server.request("GET", "/nope")
        ids.add(r.getheader("X-Request-ID"))
    assert len(ids) == 20
    # Each access line is written once its response is out: wait for the last ones.
    wait_until(lambda: all(f"[{rid}] GET /nope 404" in server.output() for rid in ids),
               what="an access-log line for every request")


def test_oversized_body_declared_is_413_without_reading_it(make_server):
    s = make_server({"MAX_CONTENT_LENGTH": "1024"})
    # Declare 10 MB but send only the header: the server must answer at once.
    raw = s.raw(b"POST /micropub HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                b"Content-Length: 10485760\r\n\r\n", timeout=5)
    status, headers, body = parse_raw_response(raw)
    assert status == 413
    assert headers["content-type"].startswith("application/json")
    assert json.loads(body)["error"] == "request_too_large"
    assert headers.get("connection") == "close"


def test_oversized_chunked_body_is_413(make_server):
    s = make_server({"MAX_CONTENT_LENGTH": "1024"})
    chunk = b"400\r\n" + b"a" * 1024 + b"\r\n"
    raw = s.raw(b"POST /nope HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk * 3 + b"0\r\n\r\n")
    status, headers, body = parse_raw_response(raw)
    assert status == 413
    assert b"<!DOCTYPE html>" in body


def test_oversized_headers_are_431(server):
    raw = server.raw(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
    status, headers, _ = parse_raw_response(raw)
    assert status == 431
    assert headers.get("x-content-type-options") == "nosniff"


def test_garbage_request_is_400(server):
    raw = server.raw(b"THIS IS NOT HTTP\r\n\r\n")
    status, headers, _ = parse_raw_response(raw)
    assert status == 400


def test_keep_alive_serves_several_requests_on_one_connection(server):
    c = server.conn()
    for _ in range(5):
        c.request("GET", "/health")
        r = c.getresponse()
        r.read()
        assert r.status == 200
    c.close()


def test_static_file_has_type_etag_and_304(server):
    r, body = server.request("GET", "/static/style.css")
    assert r.status == 200
    assert r.getheader("Content-Type") == "text/css; charset=utf-8"
    etag = r.getheader("ETag")
    assert etag and etag.startswith('"')
    assert "max-age" in r.getheader("Cache-Control")
    assert len(body) > 100
    r2, body2 = server.request("GET", "/static/style.css", headers={"If-None-Match": etag})
    assert r2.status == 304
    assert body2 == b""
    r3, _ = server.request("GET", "/static/style.css", headers={"If-None-Match": '"other", ' + etag})
    assert r3.status == 304
    r4, _ = server.request("GET", "/static/style.css", headers={"If-None-Match": '"other"'})
    assert r4.status == 200


def test_versioned_static_url_is_immutable(server):
    r, body = server.request("GET", "/")
    m = re.search(rb'href="(/static/style\.css\?v=[0-9a-f]+)"', body)
    assert m, body[:500]
    r2, _ = server.request("GET", m.group(1).decode())
    assert "immutable" in r2.getheader("Cache-Control")


def test_static_traversal_is_refused(server):
    for path in ("/static/../CMakeLists.txt", "/static/%2e%2e/CMakeLists.txt", "/static/..%2Fsrc%2Fmain.cpp",
                 "/static//etc/passwd", "/static/style.css/..", "/static/nope.css"):
        raw = server.raw(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        status, _, body = parse_raw_response(raw)
        assert status in (400, 404), path
        assert b"main(" not in body and b"root:" not in body


def test_sigterm_lets_inflight_request_finish_then_exits_0(make_server):
    s = make_server()
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    body = b"content=hello"
    sock.sendall(b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                 + f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:5])
    time.sleep(0.2)
    s.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    assert s.proc.poll() is None, "server exited while a request was in flight"
    sock.sendall(body[5:])
    data = b""
    while True:
        b = sock.recv(65536)
        if not b:
            break
        data += b
    sock.close()
    status, headers, _ = parse_raw_response(data)
    assert status == 405
    assert headers.get("connection") == "close"
    assert s.proc.wait(10) == 0


def test_sigterm_closes_idle_keepalive_connections_promptly(make_server):
    s = make_server()
    idle = [socket.create_connection(("127.0.0.1", s.port)) for _ in range(20)]
    c = s.conn()
    c.request("GET", "/health")
    c.getresponse().read()
    start = time.time()
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(10) == 0
    assert time.time() - start < 5
    for sock in idle:
        sock.close()
    c.close()


def test_invalid_configuration_exits_2_naming_every_problem(tmp_path):
    r = run_cli(tmp_path, ["serve"], env={"PORT": "http", "LOG_LEVEL": "LOUD", "SITE_URL": "ftp://x",
                                          "SESSION_SECRET": "hunter2-very-secret"})
    assert r.returncode == 2
    for name in ("PORT", "LOG_LEVEL", "SITE_URL", "ADMIN_ME"):
        assert name in r.stderr, name
    assert "hunter2-very-secret" not in r.stderr + r.stdout


def test_malformed_dotenv_exits_2(tmp_path):
    (tmp_path / ".env").write_text("DEV_MODE=true\nnot an assignment\n")
    r = run_cli(tmp_path, ["serve"])
    assert r.returncode == 2
    assert "line 2" in r.stderr


def test_dotenv_is_read_and_environment_wins(make_server):
    s = make_server(dotenv="SITE_NAME=From Dotenv\nSITE_DESCRIPTION=x\n")
    _, body = s.request("GET", "/nope")
    assert b"From Dotenv" in body
    s2 = make_server({"SITE_NAME": "From Env"}, dotenv="SITE_NAME=From Dotenv\n")
    _, body = s2.request("GET", "/nope")
    assert b"From Env" in body and b"From Dotenv" not in body


def test_version_and_help(tmp_path):
    r = run_cli(tmp_path, ["version"])
    assert r.returncode == 0 and re.match(r"starpunk \d+\.\d+\.\d+", r.stdout)
    r = run_cli(tmp_path, ["--help"])
    assert r.returncode == 0 and "serve" in r.stdout
    r = run_cli(tmp_path, ["no-such-command"])
    assert r.returncode == 2


def test_json_log_lines_carry_request_ids_and_go_to_the_log_file(make_server):
    s = make_server({"LOG_FORMAT": "json"})
    r, _ = s.request("GET", "/nope", headers={"X-Request-ID": "json-log-test-1"})
    assert r.status == 404
    log_file = s.data / "logs" / "starpunk.log"
    # File sinks flush once a second: wait for the request's access line.
    wait_until(lambda: log_file.exists() and "GET /nope 404" in log_file.read_text(errors="replace"),
               what="the access line in the log file")
    lines = [json.loads(line) for line in log_file.read_text().splitlines() if line.strip()]
    assert lines, "empty log file"
    for line in lines:
        assert {"time", "level", "request_id", "message"} <= set(line)
    access = [line for line in lines if line["request_id"] == "json-log-test-1"]
    assert access and "GET /nope 404" in access[0]["message"]
    assert any(line["request_id"] == "init" for line in lines)


def test_secrets_never_reach_the_log(make_server):
    s = make_server({"SESSION_SECRET": "super-secret-session-value-0123456789", "LOG_LEVEL": "DEBUG",
                     "METRICS_TOKEN": "metrics-token-secret-value"})
    s.request("GET", "/health", headers={"X-Request-ID": "secrets-test-health"})
    log_file = s.data / "logs" / "starpunk.log"
    # File sinks flush once a second: wait until everything up to that request is in the file.
    wait_until(lambda: log_file.exists() and "[secrets-test-health] GET /health 200" in log_file.read_text(errors="replace"),
               what="the request's access line in the log file")
    text = s.output() + log_file.read_text()
    assert "super-secret-session-value" not in text
    assert "metrics-token-secret-value" not in text
    assert "SESSION_SECRET=(set)" in text


def test_expect_100_continue_gets_an_interim_response_before_the_body(server):
    body = b"x=1"
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sock.sendall(b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                 b"Expect: 100-continue\r\n" + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode())
    interim = sock.recv(64)
    assert interim.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), interim
    sock.sendall(body)
    data = interim[len(b"HTTP/1.1 100 Continue\r\n\r\n"):]
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    sock.close()
    status, _, _ = parse_raw_response(data)
    assert status == 405  # the request itself was read and answered
