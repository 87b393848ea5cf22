"""docs/backup.md, end to end: back up while the server runs, wipe the data
directory, restore it as the guide says, and every note is back with the same
hash (and the restored site serves them)."""
import hashlib
import shutil
import sqlite3

from conftest import run_cli

PROD = {"SITE_URL": "https://blog.example", "ADMIN_ME": "https://blog.example/",
        "SESSION_SECRET": "backup-" + "z" * 40}


def notes_on_disk(data):
    """slug -> (published, content_hash in the row, SHA-256 of the file)"""
    con = sqlite3.connect(data / "starpunk.db")
    try:
        rows = con.execute("SELECT slug, published, content_hash, file_path FROM notes").fetchall()
    finally:
        con.close()
    return {slug: (published, h, hashlib.sha256((data / "notes" / path).read_bytes()).hexdigest())
            for slug, published, h, path in rows}


def test_backup_wipe_restore(tmp_path, make_server):
    src, drafts = tmp_path / "import", tmp_path / "drafts"
    src.mkdir()
    drafts.mkdir()
    for i in range(20):
        (src / f"note-{i:02d}.md").write_text(f"# Note {i}\n\nBody of note {i} — ünïcödé ✓\n")
    (drafts / "unfinished.md").write_text("a draft\n")
    assert run_cli(tmp_path, ["import", str(src)]).returncode == 0
    assert run_cli(tmp_path, ["import", str(drafts), "--draft"]).returncode == 0
    data = tmp_path / "data"
    before = notes_on_disk(data)
    assert len(before) == 21 and all(h == f for _, h, f in before.values())

    # 1. Back up while the server runs (an online SQLite backup).
    s = make_server({**PROD, "DATA_PATH": str(data)})
    backup = tmp_path / "backups" / "2026-12-06"
    b = run_cli(tmp_path, ["backup", str(backup)], env=PROD)
    assert b.returncode == 0, b.stderr
    assert "copied 21 note file(s)" in b.stdout
    assert s.stop() == 0

    # 2. Disaster: the data directory is gone.
    shutil.rmtree(data)

    # 3. Restore: copy the backup back as DATA_PATH.
    shutil.copytree(backup, data)
    assert notes_on_disk(data) == before
    check = run_cli(tmp_path, ["check"], env=PROD)
    assert check.returncode == 0, check.stdout + check.stderr
    doctor = run_cli(tmp_path, ["doctor", "--full"], env=PROD)
    assert doctor.returncode == 0, doctor.stdout

    # 4. The restored site serves every published note.
    s2 = make_server({**PROD, "DATA_PATH": str(data)})
    for slug, (published, _, _) in before.items():
        r, body = s2.request("GET", f"/note/{slug}")
        assert r.status == (200 if published else 404), slug
    r, body = s2.request("GET", "/note/note-07")
    assert "Body of note 7 — ünïcödé ✓" in body.decode()
