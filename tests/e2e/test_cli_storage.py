"""Command-line storage tools against the real binary: migrate, import, check,
backup (and restore by using the backup as DATA_PATH)."""
import hashlib
import os
import shutil
import sqlite3
import subprocess

from conftest import run_cli, wait_until


def write(path, text, mtime=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if mtime:
        os.utime(path, (mtime, mtime))


def rows(db):
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT slug, file_path, published, created_at, content_hash FROM notes ORDER BY id").fetchall()
    finally:
        con.close()


def test_migrate_creates_schema_and_is_idempotent(tmp_path):
    r = run_cli(tmp_path, ["migrate"])
    assert r.returncode == 0, r.stderr
    assert "applied 001_initial_schema" in r.stdout
    db = tmp_path / "data" / "starpunk.db"
    con = sqlite3.connect(db)
    tables = {n for (n,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    names = [n for (n,) in con.execute("SELECT migration_name FROM schema_migrations ORDER BY id")]
    con.close()
    assert {"notes", "sessions", "auth_state", "schema_migrations", "notes_fts"} <= tables
    assert names[0] == "001_initial_schema" and len(names) == len(set(names))
    r2 = run_cli(tmp_path, ["migrate"])
    assert r2.returncode == 0 and "0 migration(s) applied now" in r2.stdout


def test_migrate_does_not_need_identity_settings(tmp_path):
    # ADMIN_ME / SESSION_SECRET are for the server only.
    r = run_cli(tmp_path, ["migrate"], env={"ADMIN_ME": "", "SESSION_SECRET": ""})
    assert r.returncode == 0, r.stderr


def test_import_check_backup_restore_round_trip(tmp_path, make_server):
    src = tmp_path / "import"
    t = 1_700_000_000  # 2023-11-14 22:13:20 UTC
    write(src / "hello-world.md", "# Hello world\n\nFirst note.", t)
    write(src / "deep" / "Crème Brûlée.md", "Dessert notes", t + 60)
    write(src / "admin.md", "A reserved file name", t + 120)
    write(src / "skip.txt", "not markdown", t)
    r = run_cli(tmp_path, ["import", str(src), "--draft"])
    assert r.returncode == 0, r.stderr
    assert "imported 3, skipped 0, failed 0" in r.stdout
    db = tmp_path / "data" / "starpunk.db"
    got = {row[0]: row for row in rows(db)}
    assert set(got) >= {"hello-world", "creme-brulee"}
    assert all(row[2] == 0 for row in got.values())  # --draft
    assert got["hello-world"][1] == "2023/11/hello-world.md"
    assert got["hello-world"][3].startswith("2023-11-14 22:13:20")
    content = (tmp_path / "data" / "notes" / "2023" / "11" / "hello-world.md").read_bytes()
    assert got["hello-world"][4] == hashlib.sha256(content).hexdigest()
    assert "admin" not in got  # reserved: fell back to an automatic slug

    again = run_cli(tmp_path, ["import", str(src)])
    assert again.returncode == 0 and "imported 0, skipped 3, failed 0" in again.stdout

    ok = run_cli(tmp_path, ["check"])
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "checked 3 note(s): 0 problem(s)" in ok.stdout

    dest = tmp_path / "backup"
    b = run_cli(tmp_path, ["backup", str(dest)])
    assert b.returncode == 0, b.stderr
    assert (dest / "starpunk.db").exists()
    assert (dest / "notes" / "2023" / "11" / "hello-world.md").read_bytes() == content
    b2 = run_cli(tmp_path, ["backup", str(dest)])
    assert b2.returncode == 2 and "already exists" in b2.stderr

    # Damage the live copy; the backup restores it.
    (tmp_path / "data" / "notes" / "2023" / "11" / "hello-world.md").write_text("tampered")
    (tmp_path / "data" / "notes" / "2023" / "11" / "stray.md").write_text("orphan")
    bad = run_cli(tmp_path, ["check"])
    assert bad.returncode == 1
    assert "hash mismatch" in bad.stdout and "orphan" in bad.stdout
    restored = run_cli(tmp_path, ["check"], env={"DATA_PATH": str(dest)})
    assert restored.returncode == 0, restored.stdout


def test_import_of_missing_directory_is_usage_error(tmp_path):
    r = run_cli(tmp_path, ["import", str(tmp_path / "nope")])
    assert r.returncode == 2 and "not a directory" in r.stderr


def test_check_reports_missing_file(tmp_path):
    src = tmp_path / "import"
    write(src / "a.md", "note a")
    assert run_cli(tmp_path, ["import", str(src)]).returncode == 0
    for f in (tmp_path / "data" / "notes").rglob("a.md"):
        f.unlink()
    r = run_cli(tmp_path, ["check"])
    assert r.returncode == 1 and "missing file" in r.stdout


def test_server_start_removes_stale_temp_files_and_reports_orphans(make_server, tmp_path):
    s = make_server()
    s.stop()
    notes = s.data / "notes" / "2024" / "01"
    notes.mkdir(parents=True)
    (notes / "x.md.tmp").write_text("half written")
    (notes / "orphan.md").write_text("no row")
    s2 = make_server({"DATA_PATH": str(s.data)})
    assert not (notes / "x.md.tmp").exists()
    assert (notes / "orphan.md").exists()
    wait_until(lambda: "stale temporary" in s2.output() and "orphan" in s2.output(),
               what="the start-up report in the output")


def test_health_is_503_when_database_is_unusable(make_server):
    s = make_server()
    r, body = s.request("GET", "/health")
    assert r.status == 200
    shutil.rmtree(s.data)

    def unhealthy():  # the probe re-checks at most once a second
        r, body = s.request("GET", "/health")
        return (r, body) if r.status != 200 else None
    r, body = wait_until(unhealthy, timeout=5, what="/health to notice")
    assert r.status == 503
    assert body == b'{"status":"unhealthy"}'
