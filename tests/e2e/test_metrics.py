"""Metrics end to end (SPEC §8/§9): the real binary, real sockets.

/admin/metrics (the admin's JSON report), the unsampled counters, the bounded
buffer, sampling and the slow-operation bypass, METRICS_ENABLED=false, route
patterns instead of raw paths, percentiles that move when requests really are
slow (a mock token endpoint on loopback that sleeps), the ?detailed health
variants, and the Prometheus exposition at /metrics checked line by line by a
strict parser of our own (grammar, one TYPE per family, histogram invariants,
monotonic counters across scrapes, METRICS_TOKEN).
"""
import json
import math
import re
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import pytest

SITE_URL = "http://127.0.0.1:8000"
DEV_ENV = {"DEV_MODE": "true", "DEV_ADMIN_ME": SITE_URL + "/"}
POOL_KEYS = {"size", "idle", "in_use", "created", "reused", "closed", "hits", "misses", "waits", "wait_time_ms"}
STAT_KEYS = {"count", "avg_ms", "min_ms", "max_ms", "p50_ms", "p95_ms", "p99_ms"}
TYPES = {"database", "http", "render"}
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
TINY = "0.000001"  # seconds: every operation is slow


# --------------------------------------------------------------------------
# helpers


def admin_cookie(server):
    r, _ = server.request("GET", "/dev/login")
    assert r.status == 302, r.status
    cookie = r.getheader("Set-Cookie")
    assert cookie and cookie.startswith("starpunk_session="), cookie
    return {"Cookie": cookie.split(";")[0]}


def parse_iso_z(ts):
    assert ISO_Z.match(ts), ts
    base, _, frac = ts[:-1].partition(".")
    dt = datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return dt + timedelta(seconds=float("0." + frac) if frac else 0.0)


def check_stats(stats):
    assert set(stats) == STAT_KEYS, stats
    assert isinstance(stats["count"], int) and stats["count"] >= 0
    for k in STAT_KEYS - {"count"}:
        assert isinstance(stats[k], (int, float)) and not isinstance(stats[k], bool), (k, stats)
        assert math.isfinite(stats[k]) and stats[k] >= 0, (k, stats)
    if stats["count"] > 0:
        assert stats["min_ms"] <= stats["p50_ms"] <= stats["p95_ms"] <= stats["p99_ms"] <= stats["max_ms"], stats
        assert stats["min_ms"] <= stats["avg_ms"] <= stats["max_ms"], stats


def check_record(rec, pid):
    assert set(rec) == {"type", "name", "timestamp", "duration_ms", "process_id", "metadata"}, rec
    assert rec["type"] in TYPES, rec
    assert isinstance(rec["name"], str) and rec["name"], rec
    parse_iso_z(rec["timestamp"])
    assert isinstance(rec["duration_ms"], (int, float)) and rec["duration_ms"] >= 0, rec
    assert rec["process_id"] == pid, rec
    assert isinstance(rec["metadata"], dict), rec


def metrics_report(server, cookie):
    """GET /admin/metrics as the admin; checks the full shape of the report."""
    r, body = server.request("GET", "/admin/metrics", headers=cookie)
    assert r.status == 200, (r.status, body)
    assert r.getheader("Content-Type").startswith("application/json")
    assert r.getheader("Cache-Control") == "no-store"
    rep = json.loads(body)
    assert set(rep) >= {"timestamp", "process_id", "uptime_seconds", "enabled", "pool", "metrics", "buffer",
                        "slow_threshold_ms", "slow", "requests_total", "feeds", "memory"}, sorted(rep)
    stamp = parse_iso_z(rep["timestamp"])
    assert abs((datetime.now(timezone.utc) - stamp).total_seconds()) < 60, rep["timestamp"]
    assert rep["process_id"] == server.proc.pid
    assert isinstance(rep["uptime_seconds"], (int, float)) and rep["uptime_seconds"] >= 0
    assert isinstance(rep["enabled"], bool)
    assert set(rep["pool"]) == POOL_KEYS, sorted(rep["pool"])
    for k, v in rep["pool"].items():
        assert isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0, (k, v)
    assert set(rep["metrics"]) == TYPES, sorted(rep["metrics"])
    for stats in rep["metrics"].values():
        check_stats(stats)
    buf = rep["buffer"]
    assert set(buf) == {"size", "capacity", "recorded_total", "sampling"}, buf
    assert 0 <= buf["size"] <= buf["capacity"], buf
    assert buf["recorded_total"] >= buf["size"], buf
    assert set(buf["sampling"]) == TYPES, buf
    for v in buf["sampling"].values():
        assert 0 <= v <= 1, buf
    assert sum(s["count"] for s in rep["metrics"].values()) == buf["size"], (rep["metrics"], buf)
    assert isinstance(rep["slow_threshold_ms"], (int, float)) and rep["slow_threshold_ms"] >= 0
    assert isinstance(rep["slow"], list)
    for rec in rep["slow"]:
        check_record(rec, server.proc.pid)
    assert isinstance(rep["requests_total"], int) and rep["requests_total"] >= 0
    assert isinstance(rep["feeds"], dict)
    for fmt, f in rep["feeds"].items():
        assert set(f) == {"cache_hits", "cache_misses", "generated"}, (fmt, f)
    mem = rep["memory"]
    assert isinstance(mem, dict) and set(mem) == {"rss_bytes", "high_water_bytes"}, mem
    assert 0 < mem["rss_bytes"] <= mem["high_water_bytes"], mem
    return rep


def settle(fetch, done, timeout=3.0):
    """Counters are recorded once a response is finished, so a report asked for
    right after the last response may trail it briefly: polls fetch() until
    done(value, prior) or the timeout, where prior is how many fetches came
    before this one (each of them is a request the server counts too), and
    returns (value, prior)."""
    deadline = time.time() + timeout
    prior = 0
    while True:
        v = fetch()
        if done(v, prior) or time.time() > deadline:
            return v, prior
        prior += 1
        time.sleep(0.02)


def get_ok(server, path, headers=None, status=200):
    r, body = server.request("GET", path, headers=headers)
    assert r.status == status, (path, r.status, body[:300])
    return r, body


# --------------------------------------------------------------------------
# a strict Prometheus text-format (0.0.4) parser

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL_NAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
LABEL_VALUE = r'"((?:[^"\\\n]|\\[\\"n])*)"'
FLOAT = r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
VALUE = rf"(?:{FLOAT}|[+-]Inf|NaN)"
HELP_RE = re.compile(rf"^# HELP ({NAME}) ((?:[^\\\n]|\\[\\n])*)$")
TYPE_RE = re.compile(rf"^# TYPE ({NAME}) (counter|gauge|histogram)$")
SAMPLE_RE = re.compile(rf"^({NAME})(?:\{{(.*)\}})? ({VALUE})(?: (-?\d+))?$")
LABEL_RE = re.compile(rf"({LABEL_NAME})={LABEL_VALUE}")


def unescape(v):
    return re.sub(r"\\(.)", lambda m: {"\\": "\\", '"': '"', "n": "\n"}[m.group(1)], v)


def parse_labels(text, line):
    labels = {}
    pos = 0
    while pos < len(text):
        m = LABEL_RE.match(text, pos)
        assert m, f"bad label set at {pos}: {line!r}"
        assert m.group(1) not in labels, f"duplicate label {m.group(1)}: {line!r}"
        labels[m.group(1)] = unescape(m.group(2))
        pos = m.end()
        if pos < len(text):
            assert text[pos] == ",", f"expected ',' at {pos}: {line!r}"
            pos += 1
            assert pos < len(text), f"trailing comma: {line!r}"
    return labels


def parse_value(v):
    return {"+Inf": math.inf, "-Inf": -math.inf, "NaN": math.nan}.get(v) if v in ("+Inf", "-Inf", "NaN") \
        else float(v)


def family_of(sample_name, ftype, family):
    if ftype == "histogram":
        return sample_name in (family + "_bucket", family + "_sum", family + "_count")
    return sample_name == family


def parse_exposition(text):
    """Returns {family: {"type", "help", "samples": [(name, labels, value)]}}.
    Fails (AssertionError) on any line outside the grammar, a sample before its
    family's TYPE or outside its family's block, a family typed twice, a
    duplicate series, or a broken histogram."""
    assert text.endswith("\n"), "exposition must end with a newline"
    families = {}
    current = None
    closed = set()  # families whose block of samples has ended
    seen_series = set()
    for line in text[:-1].split("\n"):
        if line.startswith("#"):
            m = HELP_RE.match(line)
            if m:
                name = m.group(1)
                fam = families.setdefault(name, {"type": None, "help": None, "samples": []})
                assert fam["help"] is None, f"second HELP for {name}"
                assert not fam["samples"], f"HELP after samples for {name}"
                fam["help"] = m.group(2)
                if current != name and current is not None:
                    closed.add(current)
                current = name
                continue
            m = TYPE_RE.match(line)
            assert m, f"not a HELP or TYPE line: {line!r}"
            name = m.group(1)
            fam = families.setdefault(name, {"type": None, "help": None, "samples": []})
            assert fam["type"] is None, f"second TYPE for {name}"
            assert not fam["samples"], f"TYPE after samples for {name}"
            assert name not in closed, f"TYPE for {name} after its block ended"
            fam["type"] = m.group(2)
            if current != name and current is not None:
                closed.add(current)
            current = name
            continue
        m = SAMPLE_RE.match(line)
        assert m, f"not a sample line: {line!r}"
        name, label_text, value = m.group(1), m.group(2), m.group(3)
        labels = parse_labels(label_text, line) if label_text is not None else {}
        assert current is not None and families[current]["type"] is not None, f"sample before any TYPE: {line!r}"
        assert family_of(name, families[current]["type"], current), \
            f"sample {name} inside family {current} ({families[current]['type']})"
        key = (name, tuple(sorted(labels.items())))
        assert key not in seen_series, f"duplicate series: {line!r}"
        seen_series.add(key)
        families[current]["samples"].append((name, labels, parse_value(value)))
    for name, fam in families.items():
        assert fam["type"] is not None, f"family {name} has HELP but no TYPE"
        if fam["type"] == "histogram":
            check_histogram(name, fam["samples"])
        if fam["type"] == "counter":
            for _, labels, v in fam["samples"]:
                assert v >= 0, (name, labels, v)
    return families


def check_histogram(name, samples):
    groups = {}
    for sname, labels, v in samples:
        base = tuple(sorted((k, x) for k, x in labels.items() if k != "le"))
        g = groups.setdefault(base, {"buckets": [], "sum": None, "count": None})
        if sname.endswith("_bucket"):
            assert "le" in labels, (sname, labels)
            g["buckets"].append((parse_value(labels["le"]), v))
        else:
            assert "le" not in labels, (sname, labels)
            which = "sum" if sname.endswith("_sum") else "count"
            assert g[which] is None, (sname, labels)
            g[which] = v
    for base, g in groups.items():
        les = [le for le, _ in g["buckets"]]
        assert les, (name, base)
        assert all(a < b for a, b in zip(les, les[1:])), f"{name}{base}: le not increasing: {les}"
        assert les[-1] == math.inf, f"{name}{base}: last bucket is not +Inf"
        counts = [c for _, c in g["buckets"]]
        assert all(a <= b for a, b in zip(counts, counts[1:])), f"{name}{base}: buckets not cumulative {counts}"
        assert g["count"] is not None and g["sum"] is not None, (name, base)
        assert counts[-1] == g["count"], f"{name}{base}: +Inf {counts[-1]} != count {g['count']}"
        assert g["sum"] >= 0, (name, base, g["sum"])


def series(families):
    """{(sample name, sorted labels): value} for every sample."""
    out = {}
    for fam in families.values():
        for name, labels, v in fam["samples"]:
            out[(name, tuple(sorted(labels.items())))] = v
    return out


def monotonic_keys(families):
    keys = set()
    for fam in families.values():
        if fam["type"] in ("counter", "histogram"):
            for name, labels, _ in fam["samples"]:
                keys.add((name, tuple(sorted(labels.items()))))
    return keys


def sample_value(families, family, name=None, **labels):
    matches = [v for n, lab, v in families[family]["samples"]
               if n == (name or family) and all(lab.get(k) == x for k, x in labels.items())]
    assert len(matches) == 1, (family, labels, matches)
    return matches[0]


def route_total(families, route):
    return sum(v for _, lab, v in families["starpunk_http_requests_total"]["samples"] if lab.get("route") == route)


def scrape(server, headers=None):
    r, body = server.request("GET", "/metrics", headers=headers)
    assert r.status == 200, (r.status, body[:300])
    assert r.getheader("Content-Type").startswith("text/plain; version=0.0.4"), r.getheader("Content-Type")
    return parse_exposition(body.decode("utf-8"))


# --------------------------------------------------------------------------
# mock token endpoint on loopback (pattern of test_micropub.py), optionally slow


class MockTokenEndpoint:
    def __init__(self, delay=0.0):
        self.delay = delay
        self.tokens = {}
        self.seen = []
        mock = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body, ctype="application/json", headers=()):
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                mock.seen.append((self.path, self.headers.get("Authorization")))
                if self.path == "/":
                    self._send(200, "<!doctype html><title>me</title><p>Hi", "text/html",
                               [("Link", f'<{mock.base}/token>; rel="token_endpoint"')])
                    return
                if self.path != "/token":
                    self._send(404, "{}")
                    return
                if mock.delay:
                    time.sleep(mock.delay)
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

    def grant(self, scope="create update"):
        token = "tok-" + uuid.uuid4().hex
        self.tokens[token] = (200, {"me": self.profile, "client_id": "https://app.example/", "scope": scope})
        return token

    def verifications(self):
        return sum(1 for path, _ in self.seen if path == "/token")

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def slow_mock():
    m = MockTokenEndpoint(delay=0.3)
    yield m
    m.close()


@pytest.fixture
def mock():
    m = MockTokenEndpoint()
    yield m
    m.close()


def micropub_env(mock, **extra):
    e = {"SITE_URL": SITE_URL, "ADMIN_ME": mock.profile, "TOKEN_ENDPOINT": mock.endpoint,
         "ALLOW_HTTP_ENDPOINTS": "true", "DEV_MODE": "true", "DEV_ADMIN_ME": mock.profile}
    e.update(extra)
    return e


def micropub_create(server, token, content):
    r, body = server.request("POST", "/micropub", body=urlencode({"h": "entry", "content": content}),
                             headers={"Content-Type": "application/x-www-form-urlencoded",
                                      "Authorization": f"Bearer {token}"})
    assert r.status == 201, (r.status, body)
    return r


# --------------------------------------------------------------------------
# the parser itself must be able to say no


@pytest.mark.parametrize("text", [
    pytest.param("# TYPE a counter\na 1", id="no-final-newline"),
    pytest.param("a 1\n", id="sample-before-type"),
    pytest.param("# TYPE a counter\n# TYPE a counter\na 1\n", id="type-twice"),
    pytest.param("# TYPE a counter\na{x=\"1\"} 1\n\n", id="empty-line"),
    pytest.param("# TYPE a counter\na{x=\"1\",} 1\n", id="trailing-comma"),
    pytest.param("# TYPE a counter\na{x=\"a\\q\"} 1\n", id="bad-escape"),
    pytest.param("# TYPE a counter\na{x=\"1\"} one\n", id="bad-value"),
    pytest.param("# TYPE a counter\n1a 1\n", id="bad-name"),
    pytest.param("# TYPE a counter\nb 1\n", id="sample-outside-family"),
    pytest.param("# TYPE a summary\na 1\n", id="unknown-type"),
    pytest.param("# some comment\n# TYPE a counter\na 1\n", id="free-comment"),
    pytest.param("# TYPE a counter\na 1\na 2\n", id="duplicate-series"),
    pytest.param("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n", id="inf-not-count"),
    pytest.param("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n", id="not-cumulative"),
    pytest.param("# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n", id="le-not-increasing"),
    pytest.param("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n", id="no-inf-bucket"),
])
def test_strict_parser_rejects_malformed_expositions(text):
    with pytest.raises(AssertionError):
        parse_exposition(text)


def test_strict_parser_accepts_the_grammar():
    text = ('# HELP a_total Things, with \\\\ and \\n escapes.\n# TYPE a_total counter\n'
            'a_total{x="q\\"uo\\\\te\\n",y=""} 1.5e3\n'
            '# TYPE g gauge\ng -Inf\n'
            '# TYPE h histogram\nh_bucket{le="0.5"} 1\nh_bucket{le="+Inf"} 2\nh_sum 0.75\nh_count 2\n')
    fams = parse_exposition(text)
    assert fams["a_total"]["samples"] == [("a_total", {"x": 'q"uo\\te\n', "y": ""}, 1500.0)]
    assert fams["g"]["samples"][0][2] == -math.inf
    assert fams["h"]["type"] == "histogram"


# --------------------------------------------------------------------------
# /admin/metrics


def test_admin_metrics_is_for_the_admin_only(make_server):
    s = make_server(DEV_ENV)
    r, body = s.request("GET", "/admin/metrics")
    assert r.status == 401
    assert r.getheader("Content-Type").startswith("application/json")
    assert r.getheader("Cache-Control") == "no-store"
    err = json.loads(body)
    assert set(err) == {"error", "error_description"} and err["error"] and err["error_description"], err
    # a forged session cookie is no better than none
    r, body = s.request("GET", "/admin/metrics", headers={"Cookie": "starpunk_session=forged-" + "x" * 40})
    assert r.status == 401 and json.loads(body)["error"]


def test_admin_metrics_report_shape(make_server):
    s = make_server(DEV_ENV)
    cookie = admin_cookie(s)
    first = metrics_report(s, cookie)
    assert first["enabled"] is True
    assert first["buffer"]["capacity"] == 1000
    assert first["buffer"]["sampling"] == {"database": 1.0, "http": 1.0, "render": 1.0}
    assert first["slow_threshold_ms"] == pytest.approx(1000.0)
    assert first["slow"] == []
    time.sleep(0.25)
    second = metrics_report(s, cookie)
    assert second["uptime_seconds"] >= first["uptime_seconds"] + 0.2, (first["uptime_seconds"],
                                                                       second["uptime_seconds"])
    assert parse_iso_z(second["timestamp"]) > parse_iso_z(first["timestamp"])
    assert second["process_id"] == first["process_id"] == s.proc.pid
    assert second["memory"]["high_water_bytes"] >= first["memory"]["high_water_bytes"]


def test_real_traffic_is_counted(make_server):
    s = make_server(DEV_ENV)
    cookie = admin_cookie(s)
    # Requests are counted once finished: wait until `before` includes /dev/login
    # (and any earlier report), so the difference below is exact.
    before, _ = settle(lambda: metrics_report(s, cookie), lambda rep, prior: rep["requests_total"] >= 1 + prior)
    assert before["feeds"].get("rss", {"cache_hits": 0, "cache_misses": 0, "generated": 0}) == \
        {"cache_hits": 0, "cache_misses": 0, "generated": 0}

    homes, feeds = 4, 3
    for _ in range(homes):
        get_ok(s, "/")
    etag = None
    for _ in range(feeds):
        r, _ = get_ok(s, "/feed.xml")
        etag = r.getheader("ETag")
    assert etag
    r, body = s.request("GET", "/feed.xml", headers={"If-None-Match": etag})
    assert r.status == 304 and body == b""
    sent = homes + feeds + 1
    # requests_total trails by one: the report counted in `before` itself
    want_total = before["requests_total"] + 1 + sent

    after, polls = settle(lambda: metrics_report(s, cookie),
                          lambda rep, prior: rep["requests_total"] >= want_total + prior)
    assert after["requests_total"] == want_total + polls, (before["requests_total"], after["requests_total"])
    # the first GET generates the feed; the others and the 304 are answered
    # from the feed cache (issue 11)
    assert after["feeds"]["rss"] == {"cache_hits": feeds, "cache_misses": 1, "generated": 1}, after["feeds"]
    assert after["metrics"]["http"]["count"] == before["metrics"]["http"]["count"] + 1 + sent + polls
    assert after["metrics"]["database"]["count"] > before["metrics"]["database"]["count"] > 0
    # the home page renders its templates (then serves them from the page cache)
    assert after["metrics"]["render"]["count"] > before["metrics"]["render"]["count"]
    assert after["buffer"]["recorded_total"] >= before["buffer"]["recorded_total"] + sent
    assert after["pool"]["hits"] + after["pool"]["misses"] > before["pool"]["hits"] + before["pool"]["misses"]
    assert after["pool"]["in_use"] == 0


def test_buffer_never_exceeds_its_capacity(make_server):
    s = make_server({**DEV_ENV, "METRICS_BUFFER_SIZE": "50"})
    cookie = admin_cookie(s)
    for i in range(200):
        get_ok(s, "/" if i % 2 else "/health")
        if i % 40 == 39:
            rep = metrics_report(s, cookie)
            assert rep["buffer"]["capacity"] == 50
            assert rep["buffer"]["size"] <= 50, rep["buffer"]
    rep, _ = settle(lambda: metrics_report(s, cookie), lambda rep, prior: rep["requests_total"] >= 206)
    assert rep["buffer"]["capacity"] == 50
    assert rep["buffer"]["size"] == 50, rep["buffer"]  # far more than 50 operations happened
    assert sum(v["count"] for v in rep["metrics"].values()) == 50
    assert rep["buffer"]["recorded_total"] >= 200, rep["buffer"]
    assert rep["requests_total"] >= 206  # the unsampled counter forgets nothing


@pytest.mark.parametrize("rate, expected", [
    ("0.25", {"database": 0.25, "http": 0.25, "render": 0.25}),
    ("database=0.1,http=1,render=0.5", {"database": 0.1, "http": 1.0, "render": 0.5}),
    ("http=0", {"database": 1.0, "http": 0.0, "render": 1.0}),
])
def test_sampling_rate_setting_is_reported(make_server, rate, expected):
    s = make_server({**DEV_ENV, "METRICS_SAMPLING_RATE": rate})
    rep = metrics_report(s, admin_cookie(s))
    assert rep["buffer"]["sampling"] == pytest.approx(expected)


def test_http_sampling_zero_still_counts_requests(make_server):
    s = make_server({**DEV_ENV, "METRICS_SAMPLING_RATE": "http=0"})
    cookie = admin_cookie(s)
    for _ in range(10):
        get_ok(s, "/")
    rep, polls = settle(lambda: metrics_report(s, cookie), lambda rep, prior: rep["requests_total"] >= 11 + prior)
    assert rep["metrics"]["http"]["count"] == 0, rep["metrics"]["http"]
    assert rep["requests_total"] == 11 + polls  # /dev/login + 10 homes
    assert rep["metrics"]["database"]["count"] > 0
    assert rep["metrics"]["render"]["count"] > 0


def test_sampling_zero_records_nothing_that_is_not_slow(make_server):
    s = make_server({**DEV_ENV, "METRICS_SAMPLING_RATE": "0"})
    cookie = admin_cookie(s)
    for _ in range(5):
        get_ok(s, "/")
    rep, polls = settle(lambda: metrics_report(s, cookie), lambda rep, prior: rep["requests_total"] >= 6 + prior)
    assert {k: v["count"] for k, v in rep["metrics"].items()} == {"database": 0, "http": 0, "render": 0}
    assert rep["buffer"]["size"] == 0
    assert rep["requests_total"] == 6 + polls
    assert rep["slow"] == []


def test_slow_operations_bypass_sampling(make_server):
    s = make_server({**DEV_ENV, "METRICS_SAMPLING_RATE": "0", "METRICS_SLOW_QUERY_THRESHOLD": TINY})
    cookie = admin_cookie(s)
    for _ in range(5):
        get_ok(s, "/")
    rep, polls = settle(lambda: metrics_report(s, cookie),
                        lambda rep, prior: rep["metrics"]["http"]["count"] >= 6 + prior)
    assert rep["slow_threshold_ms"] == pytest.approx(0.001)
    assert rep["buffer"]["sampling"] == {"database": 0.0, "http": 0.0, "render": 0.0}
    # /dev/login + 5 homes (+ any earlier polls), every one forced past sampling 0
    assert rep["metrics"]["http"]["count"] == 6 + polls, rep["metrics"]["http"]
    assert rep["metrics"]["database"]["count"] > 0
    assert rep["metrics"]["render"]["count"] > 0
    kinds = {rec["type"] for rec in rep["slow"]}
    assert kinds == TYPES, kinds
    homes = [rec for rec in rep["slow"] if rec["type"] == "http" and rec["metadata"].get("route") == "/"]
    assert len(homes) == 5, [rec["name"] for rec in rep["slow"] if rec["type"] == "http"]
    assert all(rec["name"] == "GET /" and rec["metadata"]["status"] == "200" for rec in homes), homes
    log = s.output()
    assert re.search(r"warn\w*\s.*slow http operation", log, re.I), log[-2000:]


def test_disabled_metrics_record_nothing(make_server):
    s = make_server({**DEV_ENV, "METRICS_ENABLED": "false", "METRICS_PROMETHEUS": "true",
                     "METRICS_SLOW_QUERY_THRESHOLD": TINY})
    cookie = admin_cookie(s)
    for _ in range(3):
        get_ok(s, "/")
        get_ok(s, "/feed.xml")
    time.sleep(0.1)
    rep = metrics_report(s, cookie)
    assert rep["enabled"] is False
    assert {k: v["count"] for k, v in rep["metrics"].items()} == {"database": 0, "http": 0, "render": 0}
    assert rep["requests_total"] == 0
    assert rep["buffer"]["size"] == 0 and rep["buffer"]["recorded_total"] == 0
    assert rep["slow"] == []
    assert all(f == {"cache_hits": 0, "cache_misses": 0, "generated": 0} for f in rep["feeds"].values())
    fams = scrape(s)
    assert fams["starpunk_http_requests_total"]["samples"] == []
    r, body = s.request("GET", "/admin/health", headers=cookie)
    assert r.status == 200, body
    r, body = s.request("GET", "/health?detailed", headers=cookie)
    assert r.status == 200, body
    assert not re.search(r"slow \w+ operation", s.output()), s.output()[-2000:]


# --------------------------------------------------------------------------
# slow requests move the percentiles


def test_slow_requests_raise_percentiles_and_land_in_the_slow_log(make_server, slow_mock):
    s = make_server(micropub_env(slow_mock, METRICS_SLOW_QUERY_THRESHOLD="0.2"))
    cookie = admin_cookie(s)
    for _ in range(15):
        get_ok(s, "/")
    before, _ = settle(lambda: metrics_report(s, cookie), lambda rep, prior: rep["requests_total"] >= 16)
    assert before["metrics"]["http"]["count"] >= 16
    assert before["metrics"]["http"]["p99_ms"] < 200, before["metrics"]["http"]
    assert before["metrics"]["http"]["max_ms"] < 200, before["metrics"]["http"]
    assert before["slow"] == []

    posts = 4
    for i in range(posts):
        t0 = time.monotonic()
        micropub_create(s, slow_mock.grant(), f"slow note {i}")
        assert time.monotonic() - t0 >= 0.28  # the mock really was in the path
    assert slow_mock.verifications() == posts

    after, _ = settle(lambda: metrics_report(s, cookie),
                      lambda rep, prior: len([r for r in rep["slow"] if r["type"] == "http"]) >= posts)
    http = after["metrics"]["http"]
    assert http["p99_ms"] >= 250, http
    assert http["max_ms"] >= 250, http
    assert http["p99_ms"] > before["metrics"]["http"]["p99_ms"]
    slow_http = [r for r in after["slow"] if r["type"] == "http"]
    assert len(slow_http) == posts, slow_http
    for rec in slow_http:
        assert rec["name"] == "POST /micropub", rec
        assert rec["metadata"]["route"] == "/micropub", rec
        assert rec["metadata"]["status"] == "201", rec
        assert rec["duration_ms"] >= 250, rec
        assert rec["process_id"] == s.proc.pid
    assert after["slow_threshold_ms"] == pytest.approx(200.0)
    warnings = [line for line in s.output().splitlines()
                if re.search(r"warn", line, re.I) and re.search(r"slow http operation", line)]
    assert len(warnings) == posts, s.output()[-3000:]
    assert all("/micropub" in w for w in warnings), warnings


# --------------------------------------------------------------------------
# health


@pytest.mark.parametrize("query", ["?detailed", "?detailed=1", "?detailed=true"])
def test_health_detailed_variants(make_server, query):
    s = make_server(DEV_ENV)
    r, body = s.request("GET", "/health" + query)
    assert r.status == 401, (query, r.status, body)
    assert json.loads(body)["error"]
    cookie = admin_cookie(s)
    r, body = s.request("GET", "/health" + query, headers=cookie)
    assert r.status == 200, (query, body)
    report = json.loads(body)
    assert "checks" in report and report["checks"]["database"]["status"] == "ok", report


@pytest.mark.parametrize("query", ["", "?detailed=0"])
def test_health_plain_variants(make_server, query):
    s = make_server(DEV_ENV)
    cookie = admin_cookie(s)
    for headers in ({}, cookie):
        r, body = s.request("GET", "/health" + query, headers=headers)
        assert r.status == 200, (query, body)
        report = json.loads(body)
        assert set(report) == {"status", "version"}, (query, report)
        assert report["status"] == "healthy" and report["version"]


def test_admin_health_has_metrics_and_pool(make_server):
    s = make_server(DEV_ENV)
    cookie = admin_cookie(s)
    get_ok(s, "/")
    r, body = s.request("GET", "/admin/health", headers=cookie)
    assert r.status == 200, body
    full = json.loads(body)
    assert set(full["pool"]) >= POOL_KEYS, full["pool"]
    assert "stats" in full["metrics"], full["metrics"]
    assert set(full["metrics"]["stats"]) == TYPES
    for stats in full["metrics"]["stats"].values():
        check_stats(stats)
    assert full["metrics"]["stats"]["database"]["count"] > 0
    r, _ = s.request("GET", "/admin/health")
    assert r.status == 401


# --------------------------------------------------------------------------
# Prometheus


def test_prometheus_endpoint_is_off_by_default(make_server):
    s = make_server(DEV_ENV)
    r, _ = s.request("GET", "/metrics")
    assert r.status == 404
    r, _ = s.request("GET", "/metrics", headers=admin_cookie(s))
    assert r.status == 404


def test_routes_are_patterns_not_raw_paths(make_server):
    s = make_server({**DEV_ENV, "METRICS_PROMETHEUS": "true"})
    get_ok(s, "/note/some-secret-slug-4711", status=404)
    get_ok(s, "/no/such/place-0815", status=404)
    texts = []

    def fetch():
        r, body = s.request("GET", "/metrics")
        assert r.status == 200
        texts.append(body.decode())
        return parse_exposition(texts[-1])
    # Each request is counted once its response is finished, so the report may trail it.
    fams, polls = settle(fetch, lambda f, prior: route_total(f, "/note/{slug}") >= 1 and route_total(f, "unmatched") >= 1)
    assert all("some-secret-slug-4711" not in t and "place-0815" not in t for t in texts)
    assert sample_value(fams, "starpunk_http_requests_total", route="/note/{slug}", method="GET",
                        status="404") == 1
    assert sample_value(fams, "starpunk_http_requests_total", route="unmatched", method="GET", status="404") == 1
    assert sample_value(fams, "starpunk_http_request_duration_seconds",
                        "starpunk_http_request_duration_seconds_count",
                        route="/note/{slug}", method="GET", status="404") == 1
    routes = {lab["route"] for _, lab, _ in fams["starpunk_http_requests_total"]["samples"]}
    assert routes - ({"/metrics"} if polls else set()) == {"/note/{slug}", "unmatched"}, routes


def test_prometheus_exposition_is_strict_and_monotonic(make_server, mock):
    s = make_server(micropub_env(mock, METRICS_PROMETHEUS="true"))
    cookie = admin_cookie(s)
    for _ in range(2):
        get_ok(s, "/")
    first, _ = settle(lambda: scrape(s), lambda f, prior: route_total(f, "/") >= 2)
    for fam in ("starpunk_http_requests_total", "starpunk_http_request_duration_seconds", "starpunk_db_pool_size",
                "starpunk_db_pool_connections", "starpunk_notes", "process_resident_memory_bytes",
                "starpunk_build_info"):
        assert fam in first, (fam, sorted(first))
    assert first["starpunk_http_requests_total"]["type"] == "counter"
    assert first["starpunk_http_request_duration_seconds"]["type"] == "histogram"
    for fam in ("starpunk_db_pool_size", "starpunk_db_pool_connections", "starpunk_notes",
                "process_resident_memory_bytes", "starpunk_build_info"):
        assert first[fam]["type"] == "gauge", (fam, first[fam]["type"])
    assert route_total(first, "/") == 2
    assert {lab["state"] for _, lab, _ in first["starpunk_db_pool_connections"]["samples"]} == {"idle", "in_use"}
    assert {lab["state"] for _, lab, _ in first["starpunk_notes"]["samples"]} == {"published", "draft", "deleted"}
    assert sample_value(first, "starpunk_notes", state="published") == 0
    assert sample_value(first, "starpunk_notes", state="draft") == 0
    assert sample_value(first, "starpunk_notes", state="deleted") == 0
    assert sample_value(first, "process_resident_memory_bytes") > 0
    (_, build_labels, build_value), = first["starpunk_build_info"]["samples"]
    r, body = get_ok(s, "/health")
    assert build_labels == {"version": json.loads(body)["version"]} and build_value == 1
    rep = metrics_report(s, cookie)
    assert sample_value(first, "starpunk_db_pool_size") == rep["pool"]["size"]

    homes = 5
    for _ in range(homes):
        get_ok(s, "/")
    get_ok(s, "/feed.xml")
    micropub_create(s, mock.grant(), "counted note")
    get_ok(s, "/note/missing-one", status=404)
    second, _ = settle(lambda: scrape(s), lambda f, prior: route_total(f, "/") >= 2 + homes)
    assert route_total(second, "/") - route_total(first, "/") == homes
    # the first scrape is counted once it is finished (polls may add more)
    assert route_total(second, "/metrics") >= route_total(first, "/metrics") + 1
    before, now = series(first), series(second)
    for key in monotonic_keys(first):
        assert key in now, f"series vanished: {key}"
        assert now[key] >= before[key], f"counter went down: {key} {before[key]} -> {now[key]}"
    assert sample_value(second, "starpunk_notes", state="published") == 1
    assert sample_value(second, "starpunk_notes", state="draft") == 0
    assert sample_value(second, "starpunk_http_requests_total", route="/micropub", method="POST",
                        status="201") == 1
    assert sample_value(second, "starpunk_http_request_duration_seconds",
                        "starpunk_http_request_duration_seconds_count",
                        route="/", method="GET", status="200") == 2 + homes


def test_metrics_token_guards_the_endpoint(make_server):
    s = make_server({"METRICS_PROMETHEUS": "true", "METRICS_TOKEN": "secret123", "LOG_LEVEL": "DEBUG"})
    r, body = s.request("GET", "/metrics")
    assert r.status == 401, (r.status, body[:200])
    assert r.getheader("WWW-Authenticate"), r.getheaders()
    assert r.getheader("WWW-Authenticate").lower().startswith("bearer")
    r, body = s.request("GET", "/metrics", headers={"Authorization": "Bearer wrong"})
    assert r.status == 401
    r, body = s.request("GET", "/metrics", headers={"Authorization": "Bearer secret1234"})
    assert r.status == 401
    r, body = s.request("GET", "/metrics", headers={"Authorization": "Basic c2VjcmV0MTIz"})
    assert r.status == 401
    r, body = s.request("GET", "/metrics", headers={"Authorization": "Bearer secret123"})
    assert r.status == 200, body[:200]
    assert r.getheader("Content-Type").startswith("text/plain; version=0.0.4")
    assert b"secret123" not in body
    parse_exposition(body.decode())
    assert s.stop() == 0
    assert "secret123" not in s.output(), [l for l in s.output().splitlines() if "secret123" in l]


# --------------------------------------------------------------------------
# request ids


def test_every_response_has_a_request_id(make_server):
    s = make_server(DEV_ENV)
    ids = []
    for method, path in (("GET", "/"), ("GET", "/feed.xml"), ("GET", "/nowhere"), ("GET", "/health"),
                         ("GET", "/admin/metrics"), ("GET", "/metrics"), ("HEAD", "/"), ("POST", "/health")):
        r, _ = s.request(method, path)
        rid = r.getheader("X-Request-ID")
        assert rid, (method, path, r.status)
        ids.append(rid)
    assert len(set(ids)) == len(ids), ids


def test_request_id_reaches_the_http_record(make_server):
    s = make_server({**DEV_ENV, "METRICS_SLOW_QUERY_THRESHOLD": TINY})
    cookie = admin_cookie(s)
    r, _ = get_ok(s, "/", headers={"X-Request-ID": "test-abc-123"})
    assert r.getheader("X-Request-ID") == "test-abc-123"

    def mine(rep):
        return [rec for rec in rep["slow"] if rec["type"] == "http"
                and rec["metadata"].get("request_id") == "test-abc-123"]

    def others(rep):
        return [x["metadata"]["request_id"] for x in rep["slow"]
                if x["type"] == "http" and x["metadata"].get("request_id") != "test-abc-123"]

    # The log-in's requests ran on workers, GET / on the I/O thread: their
    # records reach the report through different buffers, in either order.
    rep, _ = settle(lambda: metrics_report(s, cookie), lambda rep, prior: mine(rep) and others(rep))
    recs = mine(rep)
    assert len(recs) == 1, recs
    rec = recs[0]
    assert rec["name"] == "GET /" and rec["metadata"]["route"] == "/" and rec["metadata"]["status"] == "200", rec
    assert rec["process_id"] == s.proc.pid
    # the other requests got ids of their own
    assert others(rep) and all(others(rep)), others(rep)


# --------------------------------------------------------------------------
# the dashboard without JavaScript: empty data shows empty states, never a 500


def test_dashboard_empty_states_and_fragment(make_server):
    s = make_server({**DEV_ENV, "METRICS_ENABLED": "false"})
    r, _ = s.request("GET", "/admin/metrics-dashboard")
    assert r.status == 302 and r.getheader("Location") == "/auth/login"
    r, _ = s.request("GET", "/admin/metrics-dashboard/figures")
    assert r.status == 401
    cookie = admin_cookie(s)
    r, body = get_ok(s, "/admin/metrics-dashboard", headers=cookie)
    page = body.decode()
    assert r.getheader("Cache-Control") == "no-store"
    assert "Recording is off (METRICS_ENABLED=false)" in page
    assert "No feed has been requested yet." in page
    assert "No operation has taken 1000 ms or more." in page
    assert 'id="metrics-figures"' in page and 'hx-trigger="every 10s"' in page
    # Scripts come from /static with versioned URLs, never a CDN or inline.
    scripts = re.findall(r"<script[^>]*>", page)
    assert scripts and all(re.search(r'src="/static/[^"]+\?v=[0-9a-f]{12}"', t) for t in scripts), scripts
    assert "<script>" not in page
    r, body = get_ok(s, "/admin/metrics-dashboard/figures", headers=cookie)
    frag = body.decode()
    assert "<html" not in frag and 'id="metrics-types"' in frag
    assert 'data-type="http"' in frag and 'id="metrics-chart-data"' in frag


def test_dashboard_shows_traffic_and_slow_operations(make_server):
    s = make_server({**DEV_ENV, "METRICS_SLOW_QUERY_THRESHOLD": TINY})
    cookie = admin_cookie(s)
    for _ in range(3):
        get_ok(s, "/")
    get_ok(s, "/feed.xml")

    def figures():
        return get_ok(s, "/admin/metrics-dashboard/figures", headers=cookie)[1].decode()

    def recorded(frag, _prior):  # counters are recorded once each response is finished
        m = re.search(r'<span id="metrics-requests-total">(\d+)</span>', frag)
        return m and int(m.group(1)) >= 5 and "GET /feed.xml" in frag
    frag, _ = settle(figures, recorded)
    m = re.search(r'<span id="metrics-requests-total">(\d+)</span>', frag)
    assert m and int(m.group(1)) >= 5, frag[:500]
    assert 'id="metrics-slow"' in frag and "GET /feed.xml" in frag
    assert re.search(r'<tr><th scope="row">rss</th><td>0</td><td>1</td><td>1</td></tr>', frag), frag
