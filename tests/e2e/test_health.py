"""Health in three tiers (SPEC §8): the public probe, the admin's detailed
report, and /admin/health with pool statistics."""
import json

DEV_ENV = {"DEV_MODE": "true", "ADMIN_ME": "", "DEV_ADMIN_ME": "http://dev.example/"}


def admin_cookie(server):
    r, _ = server.request("GET", "/dev/login")
    token = r.getheader("Set-Cookie").split(";")[0].split("=", 1)[1]
    return {"Cookie": f"starpunk_session={token}"}


def test_public_probe_says_little(make_server):
    s = make_server(DEV_ENV)
    r, body = s.request("GET", "/health")
    assert r.status == 200
    assert set(json.loads(body)) == {"status", "version"}


def test_detailed_report_needs_the_admin(make_server):
    s = make_server(DEV_ENV)
    r, body = s.request("GET", "/health?detailed=true")
    assert r.status == 401
    assert r.getheader("Content-Type").startswith("application/json")
    assert json.loads(body)["error"] == "unauthorized"
    r, body = s.request("GET", "/admin/health")
    assert r.status == 401 and json.loads(body)["error"] == "unauthorized"


def test_detailed_report_for_the_admin(make_server):
    s = make_server(DEV_ENV)
    cookie = admin_cookie(s)
    r, body = s.request("GET", "/health?detailed=true", headers=cookie)
    assert r.status == 200
    assert r.getheader("Cache-Control") == "no-store"
    report = json.loads(body)
    assert report["status"] in ("healthy", "degraded")
    assert report["uptime_seconds"] >= 0 and report["version"]
    checks = report["checks"]
    assert checks["database"]["status"] == "ok" and checks["database"]["latency_ms"] >= 0
    assert checks["filesystem"] == {"status": "ok", "notes_readable": True, "notes_writable": True}
    assert checks["disk"]["free_bytes"] > 0 and 0 <= checks["disk"]["free_percent"] <= 100
    assert checks["search"]["mode"] in ("fts5", "fallback")

    r, body = s.request("GET", "/admin/health", headers=cookie)
    assert r.status == 200
    full = json.loads(body)
    assert full["checks"]["database"]["status"] == "ok"
    assert {"size", "idle", "in_use", "created", "reused", "closed", "hits", "misses", "waits",
            "wait_time_ms"} <= set(full["pool"])
