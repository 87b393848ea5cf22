"""Photos on notes (issue 14, part 2): Micropub `photo` as uploaded files,
URLs and {value, alt}; the admin form's uploads; u-photo on pages (judged by
mf2py); enclosures and attachments in the three feeds (judged by feedparser
and json). Images are made with Debian's `vips` command (test_media.py)."""
import json
import re
import sqlite3
import uuid
from urllib.parse import parse_qs, urlsplit

import feedparser
import mf2py
import pytest

import html_validate
from conftest import Server
from test_admin import DEV_ENV, Admin
from test_media import make_image, multipart
from test_micropub import SITE_URL, MockTokenEndpoint, assert_error, bearer, created_path, env, post_json, query


@pytest.fixture
def mock():
    m = MockTokenEndpoint()
    yield m
    m.close()


@pytest.fixture
def site(make_server, mock):
    return make_server(env(mock))


def post_photos(server, token, fields, files):
    body, content_type = multipart(fields, files)
    return server.request("POST", "/micropub", body=body, headers={"Content-Type": content_type, **bearer(token)})


def entry(server, path):
    r, html = server.request("GET", path)
    assert r.status == 200, (r.status, html)
    doc = mf2py.parse(doc=html.decode(), url=SITE_URL + path, img_with_alt=True)  # mf2py 1.1: alt only when asked
    entries = [i for i in doc["items"] if "h-entry" in i["type"]]
    assert len(entries) == 1
    return entries[0], html.decode()


def photo_imgs(html):
    return re.findall(r'<img class="u-photo"[^>]*>', html)


def note_count(server):
    db = sqlite3.connect(server.data / "starpunk.db")
    try:
        return db.execute("SELECT COUNT(*) FROM notes").fetchone()[0]
    finally:
        db.close()


def test_multipart_create_with_two_photo_files_shows_both_in_order(site, mock, tmp_path):
    token = mock.grant()
    wide = make_image(tmp_path, "jpg", 1400, 700)
    small = make_image(tmp_path, "png", 320, 240)
    r, body = post_photos(site, token, [("h", "entry"), ("content", "Two photos from the walk"),
                                        ("mp-photo-alt[]", "A wide field"), ("mp-photo-alt[]", "A small <bird>")],
                          [("photo[]", "a.jpg", "image/jpeg", wide), ("photo[]", "b.png", "image/png", small)])
    path = created_path(r, body)
    e, html = entry(site, path)
    photos = e["properties"]["photo"]
    assert len(photos) == 2
    assert photos[0]["alt"] == "A wide field" and photos[1]["alt"] == "A small <bird>"
    assert photos[0]["value"].startswith(SITE_URL + "/media/") and photos[0]["value"].endswith(".jpg")
    assert photos[1]["value"].endswith(".png")
    imgs = photo_imgs(html)
    assert len(imgs) == 2
    assert 'width="1400" height="700"' in imgs[0] and 'loading="lazy"' in imgs[0]
    assert "-640.jpg 640w" in imgs[0] and "-1280.jpg 1280w" in imgs[0] and "sizes=" in imgs[0]
    assert 'alt="A small &lt;bird&gt;"' in imgs[1]
    # The home page lists it with the same photos.
    r, home = site.request("GET", "/")
    assert len(photo_imgs(home.decode())) == 2
    # The photos are served.
    r, _ = site.request("GET", urlsplit(photos[0]["value"]).path)
    assert r.status == 200 and r.getheader("Content-Type") == "image/jpeg"


def test_json_create_with_value_alt_and_a_plain_url(site, mock):
    token = mock.grant()
    r, body = post_json(site, {"type": ["h-entry"], "properties": {
        "content": ["Linked photos"],
        "photo": [{"value": "https://photos.example/sunset.jpg", "alt": "Sunset over the bay"},
                  "https://photos.example/moon.jpg"]}}, token)
    path = created_path(r, body)
    e, html = entry(site, path)
    photos = e["properties"]["photo"]
    assert photos[0] == {"value": "https://photos.example/sunset.jpg", "alt": "Sunset over the bay"}
    value = photos[1]["value"] if isinstance(photos[1], dict) else photos[1]
    assert value == "https://photos.example/moon.jpg"
    imgs = photo_imgs(html)
    assert len(imgs) == 2 and "srcset" not in imgs[0] and "width=" not in imgs[0]
    # q=source gives them back: {value, alt} with alt, a string without.
    r, body = query(site, "q=source&url=" + SITE_URL + path, token)
    assert r.status == 200
    assert json.loads(body)["properties"]["photo"] == [
        {"value": "https://photos.example/sunset.jpg", "alt": "Sunset over the bay"}, "https://photos.example/moon.jpg"]


def test_a_url_on_our_media_links_the_stored_image(site, mock, tmp_path):
    token = mock.grant("create media")
    body, ctype = multipart([], [("file", "x.jpg", "image/jpeg", make_image(tmp_path, "jpg", 800, 600))])
    r, _ = site.request("POST", "/micropub/media", body=body, headers={"Content-Type": ctype, **bearer(token)})
    assert r.status == 201
    media_url = r.getheader("Location")
    r, body = post_json(site, {"type": ["h-entry"], "properties": {
        "content": ["Uploaded first"], "photo": [{"value": media_url, "alt": "Stored"}]}}, token)
    path = created_path(r, body)
    _, html = entry(site, path)
    img = photo_imgs(html)[0]
    assert 'width="800" height="600"' in img and "-640.jpg 640w" in img
    r, body = query(site, "q=source&url=" + SITE_URL + path, token)
    assert json.loads(body)["properties"]["photo"] == [{"value": media_url, "alt": "Stored"}]
    # A /media/ URL naming nothing stored is refused.
    r, body = post_json(site, {"type": ["h-entry"], "properties": {
        "content": ["Nothing there"], "photo": [SITE_URL + "/media/2026/12/" + "0" * 64 + ".jpg"]}}, token)
    assert_error(r, body, 400, "invalid_request")


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:image/png;base64,AAAA", "file:///etc/passwd",
                                 "ftp://example.com/a.jpg"])
def test_non_http_photo_urls_are_400_and_create_nothing(site, mock, url):
    token = mock.grant()
    r, body = post_json(site, {"type": ["h-entry"], "properties": {"content": ["x"], "photo": [url]}}, token)
    assert_error(r, body, 400, "invalid_request")
    assert note_count(site) == 0


def test_an_svg_photo_is_415_and_no_note_is_created(site, mock):
    token = mock.grant()
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>'
    r, body = post_photos(site, token, [("h", "entry"), ("content", "Vector")],
                          [("photo", "x.svg", "image/svg+xml", svg)])
    assert_error(r, body, 415, "invalid_request")
    assert note_count(site) == 0


def test_micropub_update_replaces_adds_and_deletes_photos(site, mock):
    token = mock.grant()
    r, body = post_json(site, {"type": ["h-entry"], "properties": {
        "content": ["Edited photos"], "photo": ["https://p.example/1.jpg"]}}, token)
    path = created_path(r, body)
    url = SITE_URL + path

    def update(doc):
        r, b = site.request("POST", "/micropub", body=json.dumps({"action": "update", "url": url, **doc}),
                            headers={"Content-Type": "application/json", **bearer(token)})
        assert r.status in (200, 204), (r.status, b)

    def photos():
        r, b = query(site, "q=source&properties[]=photo&url=" + url, token)
        return json.loads(b)["properties"].get("photo", [])

    update({"add": {"photo": [{"value": "https://p.example/2.jpg", "alt": "Two"}]}})
    assert photos() == ["https://p.example/1.jpg", {"value": "https://p.example/2.jpg", "alt": "Two"}]
    update({"delete": {"photo": ["https://p.example/1.jpg"]}})
    assert photos() == [{"value": "https://p.example/2.jpg", "alt": "Two"}]
    update({"replace": {"photo": ["https://p.example/3.jpg"]}})
    assert photos() == ["https://p.example/3.jpg"]
    _, html = entry(site, path)
    assert 'src="https://p.example/3.jpg"' in html and "2.jpg" not in html


def feeds(server):
    out = {}
    for name in ("xml", "atom", "json"):
        r, body = server.request("GET", "/feed." + name)
        assert r.status == 200
        out[name] = body
    return out


def test_feeds_carry_enclosures_and_attachments_and_drop_a_deleted_notes_photos(site, mock, tmp_path):
    token = mock.grant("create delete")
    jpeg = make_image(tmp_path, "jpg", 900, 600)
    r, body = post_photos(site, token, [("h", "entry"), ("content", "Feed photo"), ("mp-photo-alt", "In the feed")],
                          [("photo", "f.jpg", "image/jpeg", jpeg)])
    path = created_path(r, body)
    r, body = post_json(site, {"type": ["h-entry"], "properties": {
        "content": ["External only"], "photo": ["https://elsewhere.example/e.jpg"]}}, token)
    created_path(r, body)

    f = feeds(site)
    rss = feedparser.parse(f["xml"])
    assert rss.bozo == 0
    item = next(e for e in rss.entries if e.link == SITE_URL + path)
    assert len(item.enclosures) == 1
    enc = item.enclosures[0]
    assert enc.type == "image/jpeg" and int(enc.length) > 0 and enc.href.startswith(SITE_URL + "/media/")
    assert enc.href in item.description and "In the feed" in item.description
    media_url = enc.href

    atom = feedparser.parse(f["atom"])
    assert atom.bozo == 0
    aitem = next(e for e in atom.entries if e.link == SITE_URL + path)
    assert [(e.href, e.type) for e in aitem.enclosures] == [(media_url, "image/jpeg")]
    ext = next(e for e in atom.entries if e.link != SITE_URL + path)
    assert [e.href for e in ext.enclosures] == ["https://elsewhere.example/e.jpg"]

    jf = json.loads(f["json"])
    jitem = next(i for i in jf["items"] if i["url"] == SITE_URL + path)
    assert jitem["image"] == media_url
    assert jitem["attachments"] == [{"url": media_url, "mime_type": "image/jpeg", "size_in_bytes": int(enc.length)}]
    r, served = site.request("GET", urlsplit(media_url).path)
    assert len(served) == int(enc.length)

    # Delete the note: its photos leave every feed at once.
    r, body = site.request("POST", "/micropub", body=json.dumps({"action": "delete", "url": SITE_URL + path}),
                           headers={"Content-Type": "application/json", **bearer(token)})
    assert r.status in (200, 204), (r.status, body)
    f = feeds(site)
    for body in f.values():
        assert media_url.encode() not in body
    assert "https://elsewhere.example/e.jpg" in f["json"].decode()


@pytest.fixture
def admin(make_server):
    return Admin(make_server(DEV_ENV))


def admin_post_multipart(admin, path, fields, files, csrf=True):
    fields = list(fields)
    if csrf:
        fields.insert(0, ("csrf_token", admin.csrf))
    body, ctype = multipart(fields, files)
    r, b = admin.s.request("POST", path, body=body,
                           headers={"Content-Type": ctype, "Origin": DEV_ENV["SITE_URL"], **admin.cookie})
    return r, b.decode()


def test_admin_form_uploads_photos_with_alt_and_removes_them_on_edit(admin, tmp_path):
    r, form = admin.get("/admin/new")
    assert 'enctype="multipart/form-data"' in form and 'name="photo[]"' in form and 'name="photo_alt[]"' in form
    jpeg = make_image(tmp_path, "jpg", 1300, 800)
    png = make_image(tmp_path, "png", 200, 100)
    r, body = admin_post_multipart(admin, "/admin/new",
                                   [("content", "From the form"), ("slug", "form-photos"), ("published", "1"),
                                    ("tags", ""), ("photos_form", "1"), ("photo_alt[]", "First alt"),
                                    ("photo_alt[]", ""), ("photo_alt[]", "Third alt")],
                                   [("photo[]", "one.jpg", "image/jpeg", jpeg),
                                    ("photo[]", "", "application/octet-stream", b""),
                                    ("photo[]", "three.png", "image/png", png)])
    assert r.status == 303, body
    assert parse_qs(urlsplit(r.getheader("Location")).query)["slug"] == ["form-photos"]
    e, html = entry(admin.s, "/note/form-photos")
    assert [p["alt"] for p in e["properties"]["photo"]] == ["First alt", "Third alt"]
    assert "-1280.jpg 1280w" in photo_imgs(html)[0]

    # /admin/media names the note that uses each image.
    r, media_page = admin.get("/admin/media")
    note_id = admin.note_id("form-photos")
    assert media_page.count(f'/admin/edit/{note_id}"') == 2

    # Edit: the photos are shown; ticking one removes it, the other stays.
    r, edit = admin.get(f"/admin/edit/{note_id}")
    assert 'name="remove_photo[]" value="0"' in edit and 'name="remove_photo[]" value="1"' in edit
    r, body = admin_post_multipart(admin, f"/admin/edit/{note_id}",
                                   [("content", "From the form, edited"), ("published", "1"), ("tags", ""),
                                    ("photos_form", "1"), ("remove_photo[]", "0")], [])
    assert r.status == 303, body
    e, _ = entry(admin.s, "/note/form-photos")
    assert [p["alt"] for p in e["properties"]["photo"]] == ["Third alt"]

    # Pages with photos are valid HTML (html-validate, as the other page tests).
    pages = {p: admin.get(p)[1] for p in ["/note/form-photos", "/", f"/admin/edit/{note_id}", "/admin/media"]}
    pages["/admin/edit/before"] = edit
    assert html_validate.validate(pages, tmp_path / "hv") == {}

    # A urlencoded edit (an older form) leaves the photos alone.
    r, body = admin.post(f"/admin/edit/{note_id}", {"content": "Plain edit", "published": "1"})
    assert r.status == 303, body
    e, _ = entry(admin.s, "/note/form-photos")
    assert len(e["properties"]["photo"]) == 1


def test_admin_form_refuses_an_svg_and_a_missing_csrf_token(admin):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"/>'
    fields = [("content", "Vector note"), ("slug", "vector"), ("published", "1"), ("photos_form", "1"),
              ("photo_alt", "x")]
    r, body = admin_post_multipart(admin, "/admin/new", fields, [("photo", "x.svg", "image/svg+xml", svg)])
    assert r.status == 415 and "JPEG, PNG, GIF and WebP" in body
    assert "Vector note" in body  # what was typed is kept
    r, body = admin_post_multipart(admin, "/admin/new", fields, [], csrf=False)
    assert r.status == 403
    r, _ = admin.s.request("GET", "/note/vector")
    assert r.status == 404
