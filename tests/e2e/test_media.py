"""Photos, part 1 (issue 14): the Micropub media endpoint and /media/ serving,
end to end against the real binary with a mock token endpoint. Images are made
by the tests themselves with Debian's `vips` command; `exiftool` judges their
metadata."""
import json
import os
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import Server, wait_until
from test_micropub import SITE_URL, MockTokenEndpoint, assert_error, bearer, env, query


@pytest.fixture
def mock():
    m = MockTokenEndpoint()
    yield m
    m.close()


@pytest.fixture
def site(make_server, mock):
    return make_server(env(mock))


def make_image(tmp_path, fmt, width=300, height=200, name=None):
    """A noise image in `fmt` (jpg, png, gif, webp), made by libvips."""
    out = tmp_path / (name or f"img-{uuid.uuid4().hex}.{fmt}")
    src = tmp_path / f"src-{uuid.uuid4().hex}.png"
    subprocess.run(["vips", "gaussnoise", str(src), str(width), str(height), "--mean", "128", "--sigma", "40"],
                   check=True)
    if fmt != "png":
        subprocess.run(["vips", "copy", str(src), str(out)], check=True)
    else:
        src.rename(out)
    return out.read_bytes()


def multipart(fields=(), files=()):
    boundary = "----media" + uuid.uuid4().hex
    parts = []
    for name, value in fields:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                     + value.encode() + b"\r\n")
    for name, filename, ctype, data in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f'Content-Type: {ctype}\r\n\r\n'.encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def upload(server, data, token, filename="photo.jpg", ctype="image/jpeg", field="file", fields=()):
    body, content_type = multipart(fields, [(field, filename, ctype, data)])
    h = {"Content-Type": content_type}
    if token:
        h.update(bearer(token))
    return server.request("POST", "/micropub/media", body=body, headers=h)


def stored_path(r, body=b""):
    assert r.status == 201, (r.status, body)
    location = r.getheader("Location")
    assert location.startswith(SITE_URL + "/media/"), location
    return urlsplit(location).path


def media_rows(server):
    db = sqlite3.connect(server.data / "starpunk.db")
    try:
        return db.execute("SELECT path, type, width, height FROM media").fetchall()
    finally:
        db.close()


def test_config_advertises_the_media_endpoint(site, mock):
    r, body = query(site, "q=config", mock.grant())
    assert r.status == 200
    assert json.loads(body)["media-endpoint"] == SITE_URL + "/micropub/media"


@pytest.mark.parametrize("fmt,mime", [("jpg", "image/jpeg"), ("png", "image/png"), ("gif", "image/gif"),
                                      ("webp", "image/webp")])
def test_each_type_round_trips(site, mock, tmp_path, fmt, mime):
    data = make_image(tmp_path, fmt, 1500, 1000)
    r, body = upload(site, data, mock.grant("media"), filename=f"x.{fmt}", ctype=mime)
    path = stored_path(r, body)
    assert path.endswith("." + fmt)
    r, served = site.request("GET", path)
    assert r.status == 200
    assert r.getheader("Content-Type") == mime
    out = tmp_path / f"served.{fmt}"
    out.write_bytes(served)
    size = subprocess.run(["vipsheader", "-f", "width", str(out)], capture_output=True, text=True, check=True)
    assert size.stdout.strip() == "1500"
    # The variants for srcset exist and are served too.
    for w in (640, 1280):
        vr, vbody = site.request("GET", path.replace("." + fmt, f"-{w}.{fmt}"))
        assert vr.status == 200, w
        (tmp_path / f"v{w}.{fmt}").write_bytes(vbody)
        got = subprocess.run(["vipsheader", "-f", "width", str(tmp_path / f"v{w}.{fmt}")],
                             capture_output=True, text=True, check=True)
        assert got.stdout.strip() == str(w)
    assert [(p, t, w, h) for p, t, w, h in media_rows(site)] == [(path[len("/media/"):], mime, 1500, 1000)]


@pytest.mark.parametrize("fmt", ["heic", "avif"])
def test_phone_photos_heic_and_avif_are_stored_as_jpeg(site, mock, tmp_path, fmt):
    data = make_image(tmp_path, fmt, 1400, 900)
    r, body = upload(site, data, mock.grant("media"), filename=f"IMG_0001.{fmt}", ctype=f"image/{fmt}")
    path = stored_path(r, body)
    assert path.endswith(".jpg")
    r, served = site.request("GET", path)
    assert r.status == 200 and r.getheader("Content-Type") == "image/jpeg"
    assert served[:3] == b"\xff\xd8\xff"
    vr, _ = site.request("GET", path.replace(".jpg", "-640.jpg"))
    assert vr.status == 200
    assert [(t, w, h) for _, t, w, h in media_rows(site)] == [("image/jpeg", 1400, 900)]


def mapped_libraries(server):
    return {line.split()[-1] for line in Path(f"/proc/{server.proc.pid}/maps").read_text().splitlines()
            if ".so" in line}


@pytest.mark.skipif(os.environ.get("STARPUNK_SANITIZED") == "1",
                    reason="sanitizer builds link libvips (CMakeLists.txt: LeakSanitizer and dlopen'ed threads)")
def test_libvips_is_loaded_only_when_an_image_is_processed(site, mock, tmp_path):
    """Memory (issue 11): a server serving pages never maps libvips and its
    ~70 libraries; the first upload loads it, and processing works."""
    for path in ("/", "/feed.xml", "/health"):
        r, _ = site.request("GET", path)
        assert r.status == 200, path
    assert not any("libvips" in lib for lib in mapped_libraries(site))
    r, body = upload(site, make_image(tmp_path, "jpg"), mock.grant("media"))
    stored_path(r, body)
    assert any("libvips.so" in lib for lib in mapped_libraries(site))


def test_the_type_comes_from_the_bytes_not_the_name(site, mock, tmp_path):
    token = mock.grant("media")
    png = make_image(tmp_path, "png")
    r, body = upload(site, png, token, filename="holiday.jpg", ctype="image/jpeg")
    path = stored_path(r, body)
    assert path.endswith(".png")
    r, _ = site.request("GET", path)
    assert r.getheader("Content-Type") == "image/png"

    html = b"<!doctype html><html><script>alert(1)</script></html>"
    r, body = upload(site, html, token, filename="cat.png", ctype="image/png")
    doc = assert_error(r, body, 415, "invalid_request")
    assert "JPEG, PNG, GIF" in doc["error_description"]
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    r, body = upload(site, svg, token, filename="logo.svg", ctype="image/svg+xml")
    assert_error(r, body, 415, "invalid_request")
    assert len(media_rows(site)) == 1  # only the PNG


def test_gps_and_all_metadata_are_stripped_and_orientation_applied(site, mock, tmp_path):
    jpg = tmp_path / "gps.jpg"
    jpg.write_bytes(make_image(tmp_path, "jpg", 400, 200))
    subprocess.run(["exiftool", "-q", "-overwrite_original", "-GPSLatitude=51.5007", "-GPSLatitudeRef=N",
                    "-GPSLongitude=0.1246", "-GPSLongitudeRef=W", "-Artist=Someone", "-Orientation#=6", str(jpg)],
                   check=True)
    before = subprocess.run(["exiftool", "-j", "-n", str(jpg)], capture_output=True, text=True, check=True)
    assert "GPSLatitude" in json.loads(before.stdout)[0]  # the fixture does carry a location
    r, body = upload(site, jpg.read_bytes(), mock.grant("media"))
    path = stored_path(r, body)
    r, served = site.request("GET", path)
    out = tmp_path / "served.jpg"
    out.write_bytes(served)
    tags = json.loads(subprocess.run(["exiftool", "-j", "-n", "-a", "-G1", str(out)],
                                     capture_output=True, text=True, check=True).stdout)[0]
    assert not [k for k in tags if "GPS" in k], tags
    # Only what describes the file itself is left: no EXIF, XMP, IPTC or ICC group at all.
    groups = {k.split(":", 1)[0] for k in tags if ":" in k}
    assert groups <= {"ExifTool", "System", "File", "Composite", "JFIF"}, groups
    assert tags["File:ImageWidth"] == 200 and tags["File:ImageHeight"] == 400  # rotated upright


def test_a_decompression_bomb_is_refused_from_its_header(site, mock, tmp_path):
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)

    # 30000×30000 grey PNG: one compressed row of zeros is a few bytes; the
    # header promises 900 megapixels (decoded: 900 MB).
    rows = zlib.compressobj(9)
    raw = rows.compress(b"\x00" * 30001 * 64) + rows.flush()
    bomb = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))
    assert len(bomb) < 10_000
    status = Path(f"/proc/{site.proc.pid}/status")
    hwm_before = int([l for l in status.read_text().splitlines() if l.startswith("VmHWM")][0].split()[1])
    started = time.monotonic()
    r, body = upload(site, bomb, mock.grant("media"), filename="bomb.png", ctype="image/png")
    took = time.monotonic() - started
    doc = assert_error(r, body, 413, "request_too_large")
    assert "30000×30000" in doc["error_description"]
    assert took < 2.0, took
    hwm_after = int([l for l in status.read_text().splitlines() if l.startswith("VmHWM")][0].split()[1])
    assert hwm_after - hwm_before < 50_000, (hwm_before, hwm_after)  # KiB: far below 900 MB
    assert media_rows(site) == []


def test_an_upload_over_the_cap_is_413_before_its_body_is_read(make_server, mock):
    s = make_server(env(mock, MAX_UPLOAD_SIZE="4096"))
    token = mock.grant("media")
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    try:
        sock.sendall((f"POST /micropub/media HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
                      f"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {50 * 1024 * 1024}\r\n\r\n")
                     .encode())
        answer = sock.recv(65536)  # no body sent at all: the answer cannot depend on it
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    finally:
        sock.close()
    # Chunked, growing past the cap: 413 too, and no spool is left behind.
    chunk = b"800\r\n" + b"x" * 2048 + b"\r\n"
    answer = s.raw((f"POST /micropub/media HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
                    f"Content-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
                   + chunk * 3 + b"0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"request_too_large" in answer or b"larger than" in answer
    assert list((s.data / "uploads").iterdir()) == []
    assert media_rows(s) == []


def test_kill_9_during_an_upload_leaves_no_file_and_no_row(make_server, mock, tmp_path):
    s = make_server(env(mock))
    token = mock.grant("media")
    data = make_image(tmp_path, "jpg", 1200, 900)
    body, ctype = multipart(files=[("file", "a.jpg", "image/jpeg", data)])
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    sock.sendall((f"POST /micropub/media HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
                  f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body[: len(body) // 2])
    time.sleep(0.3)  # the first half is spooled
    s.proc.send_signal(signal.SIGKILL)
    s.proc.wait()
    sock.close()
    uploads = s.data / "uploads"
    assert [p for p in uploads.iterdir()] == []  # the spool was never a named file
    media = s.data / "media"
    assert not media.exists() or [p for p in media.rglob("*") if p.is_file()] == []
    assert media_rows(s) == []
    s.proc.returncode = 0  # killed on purpose; the fixture checks exit codes
    # A restart on the same data directory comes up and serves uploads again.
    again = Server(s.cwd, env(mock))
    try:
        r, body = upload(again, data, token)
        stored_path(r, body)
        assert len(media_rows(again)) == 1
    finally:
        assert again.stop() == 0


def test_concurrent_uploads_all_land(site, mock, tmp_path):
    token = mock.grant("media")
    r, _ = query(site, "q=config", token)  # the token is verified once, then cached (as a client's would be)
    assert r.status == 200
    images = [make_image(tmp_path, "jpg", 700 + i, 500) for i in range(4)]
    results = [None] * 4

    def go(i):
        results[i] = upload(site, images[i], token)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    paths = {stored_path(r, b) for r, b in results}
    assert len(paths) == 4
    for p in paths:
        r, _ = site.request("GET", p)
        assert r.status == 200
    assert len(media_rows(site)) == 4


def test_scopes_tokens_and_missing_file(site, mock, tmp_path):
    data = make_image(tmp_path, "png", 50, 50)
    r, body = upload(site, data, None)
    assert_error(r, body, 401, "unauthorized")
    r, body = upload(site, data, mock.grant("update"))
    assert_error(r, body, 403, "insufficient_scope")
    r, body = upload(site, data, mock.grant("create"))
    stored_path(r, body)
    r, body = upload(site, data, None, fields=[("access_token", mock.grant("media"))])
    stored_path(r, body)  # same image: the same file
    r, body = upload(site, data, mock.grant("media"), field="photo")
    doc = assert_error(r, body, 400, "invalid_request")
    assert "file" in doc["error_description"]
    assert len(media_rows(site)) == 1


def test_media_files_are_served_immutable_with_ranges(site, mock, tmp_path):
    data = make_image(tmp_path, "png", 120, 80)
    r, body = upload(site, data, mock.grant("media"))
    path = stored_path(r, body)
    r, whole = site.request("GET", path)
    assert r.status == 200
    etag = r.getheader("ETag")
    assert etag == '"' + path.rsplit("/", 1)[1].split(".")[0] + '"'  # strong: no W/
    assert r.getheader("Cache-Control") == "public, max-age=31536000, immutable"
    assert r.getheader("X-Content-Type-Options") == "nosniff"
    assert r.getheader("Accept-Ranges") == "bytes"
    assert int(r.getheader("Content-Length")) == len(whole)
    # Sent from the file itself (sendfile): exactly the bytes on disk.
    assert whole == (site.data / "media" / path[len("/media/"):]).read_bytes()

    r, part = site.request("GET", path, headers={"Range": "bytes=10-19"})
    assert r.status == 206 and part == whole[10:20]
    assert r.getheader("Content-Range") == f"bytes 10-19/{len(whole)}"
    r, part = site.request("GET", path, headers={"Range": "bytes=-5"})
    assert r.status == 206 and part == whole[-5:]
    r, part = site.request("GET", path, headers={"Range": f"bytes={len(whole)}-"})
    assert r.status == 416 and r.getheader("Content-Range") == f"bytes */{len(whole)}"
    r, _ = site.request("GET", path, headers={"If-None-Match": etag})
    assert r.status == 304
    r, _ = site.request("HEAD", path)
    assert r.status == 200 and int(r.getheader("Content-Length")) == len(whole)

    for bad in ["/media/../starpunk.db", "/media/%2e%2e/starpunk.db", "/media/2026/12/x.png",
                "/media/" + path[len("/media/"):].replace(".png", ".svg"), "/media/uploads/x",
                path.replace(".png", ".png.tmp")]:
        r, _ = site.request("GET", bad)
        assert r.status in (400, 404), (bad, r.status)

    # A symlink under a media name is never followed (O_NOFOLLOW): 404.
    stored = site.data / "media" / path[len("/media/"):]
    stored.unlink()
    stored.symlink_to(site.data / "starpunk.db")
    r, body = site.request("GET", path)
    assert r.status == 404 and b"SQLite" not in body


def test_admin_lists_media(make_server, mock, tmp_path):
    import html_validate
    from test_admin import Admin

    s = make_server(env(mock, DEV_MODE="true", DEV_ADMIN_ME="http://dev.example/"))
    admin = Admin(s)
    r, body = admin.get("/admin/media")
    assert r.status == 200 and "No images yet" in body
    empty = body
    r, up = upload(s, make_image(tmp_path, "jpg", 900, 600), mock.grant("media"))
    path = stored_path(r, up)
    r, body = admin.get("/admin/media")
    assert r.status == 200
    assert r.getheader("Cache-Control") == "no-store"
    assert SITE_URL + path in body
    assert path.replace(".jpg", "-640.jpg") in body  # the preview is the small copy
    assert "image/jpeg, 900×600 px" in body
    assert html_validate.validate({"empty": empty, "list": body}, tmp_path / "hv") == {}
    r, _ = s.request("GET", "/admin/media")
    assert r.status == 302  # no session: the login page


def test_check_verifies_media_and_backup_copies_it(make_server, mock, tmp_path):
    from conftest import run_cli

    s = make_server(env(mock))
    r, body = upload(s, make_image(tmp_path, "png", 1400, 700), mock.grant("media"))
    path = stored_path(r, body)
    assert s.stop() == 0
    cli_env = {"DATA_PATH": str(s.data)}
    ok = run_cli(tmp_path, ["check"], env=cli_env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "checked 3 media file(s): 0 problem(s), 0 orphan(s)" in ok.stdout

    dest = tmp_path / "backup"
    b = run_cli(tmp_path, ["backup", str(dest)], env=cli_env)
    assert b.returncode == 0, b.stdout + b.stderr
    assert "copied 3 media file(s)" in b.stdout
    rel = path[len("/media/"):]
    assert (dest / "media" / rel).read_bytes() == (s.data / "media" / rel).read_bytes()

    (s.data / "media" / rel).write_bytes(b"tampered")
    stray = s.data / "media" / "2026" / "01" / ("c" * 64 + ".png")
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"orphan")
    bad = run_cli(tmp_path, ["check"], env=cli_env)
    assert bad.returncode == 1
    assert f"media file altered or missing: {rel}: content does not match its hash" in bad.stdout
    assert f"orphan media file (no database row): 2026/01/{'c' * 64}.png" in bad.stdout
    restored = run_cli(tmp_path, ["check"], env={"DATA_PATH": str(dest)})
    assert restored.returncode == 0, restored.stdout
