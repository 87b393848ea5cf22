"""The admin area end to end: list, trash, the note form, and the actions,
as the site's owner uses them in a browser (forms, CSRF tokens, redirects).
Sessions come from /dev/login (DEV_MODE); test_auth.py covers real logins.
Every page is judged by html-validate.
"""
import re
from urllib.parse import urlencode, urlsplit, parse_qs

import pytest

import html_validate

SITE_URL = "http://127.0.0.1:8000"
DEV_ENV = {"SITE_URL": SITE_URL, "DEV_MODE": "true", "DEV_ADMIN_ME": "http://dev.example/", "ADMIN_ME": ""}


class Admin:
    def __init__(self, server):
        self.s = server
        r, _ = server.request("GET", "/dev/login")
        assert r.status == 302 and r.getheader("Location") == "/admin/"
        token = r.getheader("Set-Cookie").split(";")[0].split("=", 1)[1]
        self.cookie = {"Cookie": f"starpunk_session={token}"}
        r, body = self.get("/admin/")
        assert r.status == 200
        self.csrf = re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)

    def get(self, path):
        r, body = self.s.request("GET", path, headers=self.cookie)
        return r, body.decode()

    def post(self, path, fields, csrf=True):
        data = dict(fields)
        if csrf:
            data["csrf_token"] = self.csrf
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Origin": SITE_URL, **self.cookie}
        r, body = self.s.request("POST", path, body=urlencode(data), headers=headers)
        return r, body.decode()

    def create(self, content, slug="", published=True):
        fields = {"content": content, "slug": slug}
        if published:
            fields["published"] = "1"
        r, body = self.post("/admin/new", fields)
        assert r.status == 303, body
        q = parse_qs(urlsplit(r.getheader("Location")).query)
        assert q["notice"] == ["created"]
        return q["slug"][0]

    def note_id(self, slug, view=""):
        _, body = self.get("/admin/" + ("?view=trash" if view == "trash" else ""))
        rows = re.findall(r'<tr>(.*?)</tr>', body, re.S)
        for row in rows:
            if f'<small class="slug">{slug}</small>' in row:
                return int(re.search(r'/admin/(?:edit|restore|purge)/(\d+)', row).group(1))
        raise AssertionError(f"{slug} not listed")


@pytest.fixture
def admin(make_server):
    return Admin(make_server(DEV_ENV))


def public(admin, path):
    r, body = admin.s.request("GET", path)
    return r.status, body.decode()


def test_admin_pages_need_a_session(make_server):
    s = make_server(DEV_ENV)
    for path in ["/admin/", "/admin", "/admin/new", "/admin/edit/1"]:
        r, _ = s.request("GET", path)
        assert r.status == 302 and r.getheader("Location") == "/auth/login", path


def test_pages_are_valid_uncached_html(admin, tmp_path):
    slug = admin.create("# First\n\nHello there.")
    admin.create("A draft", published=False)
    pages = {}
    for path in ["/admin/", "/admin/?view=trash", "/admin/new", f"/admin/edit/{admin.note_id(slug)}",
                 f"/note/{slug}", "/auth/login"]:
        r, body = admin.get(path)
        assert r.status == 200, path
        assert r.getheader("Cache-Control") in ("no-store", "private, no-store") or path.startswith("/note/"), path
        pages[path] = body
    assert html_validate.validate(pages, tmp_path / "hv") == {}


def test_empty_states(admin):
    _, body = admin.get("/admin/")
    assert "No notes yet" in body
    _, body = admin.get("/admin/?view=trash")
    assert "The trash is empty" in body


def test_create_publishes_at_once(admin):
    assert public(admin, "/")[0] == 200  # warms the page cache
    slug = admin.create("Fresh thoughts on **C++**", slug="fresh-thoughts")
    assert slug == "fresh-thoughts"
    status, body = public(admin, "/note/fresh-thoughts")
    assert status == 200 and "<strong>C++</strong>" in body
    assert "fresh-thoughts" in public(admin, "/")[1], "the cached home page was invalidated"
    _, listing = admin.get("/admin/?notice=created&slug=fresh-thoughts")
    assert "Note created." in listing and "Fresh thoughts" in listing


def test_drafts_stay_private(admin):
    slug = admin.create("Secret draft", published=False)
    assert public(admin, f"/note/{slug}")[0] == 404
    r, body = admin.get(f"/note/{slug}")
    assert r.status == 200 and "Draft" in body
    _, listing = admin.get("/admin/")
    assert "Draft" in listing


@pytest.mark.parametrize("fields,message", [
    ({"content": "   \n "}, "content"),
    ({"content": "Good text", "slug": "!!!"}, "slug"),
    ({"content": "Good text", "slug": "admin"}, "reserved"),
])
def test_bad_input_keeps_what_was_typed(admin, fields, message):
    r, body = admin.post("/admin/new", {**fields, "published": "1"})
    assert r.status == 400
    assert 'role="alert"' in body and message in body.lower()
    if fields["content"].strip():
        assert fields["content"] in body, "the text must survive a failed save"
    _, listing = admin.get("/admin/")
    assert "No notes yet" in listing


def test_custom_slug_collisions_get_a_suffix(admin):
    assert admin.create("One", slug="same") == "same"
    assert admin.create("Two", slug="same") == "same-2"


def test_edit_changes_content_and_status(admin):
    slug = admin.create("Version one")
    nid = admin.note_id(slug)
    r1, _ = admin.s.request("GET", f"/note/{slug}")
    etag = r1.getheader("ETag")
    r, body = admin.get(f"/admin/edit/{nid}")
    assert "Version one" in body and f"{SITE_URL}/note/{slug}" in body
    r, _ = admin.post(f"/admin/edit/{nid}", {"content": "Version two", "published": "1"})
    assert r.status == 303
    r2, body = admin.s.request("GET", f"/note/{slug}")
    assert "Version two" in body.decode() and r2.getheader("ETag") != etag
    r, _ = admin.post(f"/admin/edit/{nid}", {"content": "Version two"})  # unchecked: back to draft
    assert r.status == 303
    assert public(admin, f"/note/{slug}")[0] == 404


def test_edit_with_blank_content_is_refused_and_nothing_changes(admin):
    slug = admin.create("Keep me")
    nid = admin.note_id(slug)
    r, body = admin.post(f"/admin/edit/{nid}", {"content": " ", "published": "1"})
    assert r.status == 400 and 'role="alert"' in body
    assert "Keep me" in public(admin, f"/note/{slug}")[1]


@pytest.mark.parametrize("path", ["/admin/edit/999", "/admin/edit/abc", "/admin/edit/0", "/admin/edit/-1"])
def test_unknown_ids_are_404(admin, path):
    assert admin.get(path)[0].status == 404
    assert admin.post(path, {"content": "x"})[0].status == 404


def test_trash_lifecycle(admin, tmp_path):
    slug = admin.create("Short-lived note")
    nid = admin.note_id(slug)
    r, _ = admin.post(f"/admin/purge/{nid}", {})
    assert r.status == 409, "only notes in the trash can be purged"

    r, _ = admin.post(f"/admin/delete/{nid}", {})
    assert r.status == 303
    assert public(admin, f"/note/{slug}")[0] == 410
    assert slug not in public(admin, "/")[1]
    _, trash = admin.get("/admin/?view=trash")
    assert slug in trash and "Restore" in trash
    assert admin.get(f"/admin/edit/{nid}")[0].status == 409

    r, _ = admin.post(f"/admin/restore/{nid}", {})
    assert r.status == 303
    assert public(admin, f"/note/{slug}")[0] == 200

    admin.post(f"/admin/delete/{nid}", {})
    r, _ = admin.post(f"/admin/purge/{nid}", {})
    assert r.status == 303
    assert public(admin, f"/note/{slug}")[0] == 404
    assert not list((admin.s.data / "notes").rglob(f"{slug}.md")), "purge removes the file"


def test_actions_without_csrf_token_change_nothing(admin):
    slug = admin.create("Protected")
    nid = admin.note_id(slug)
    for path in [f"/admin/delete/{nid}", f"/admin/edit/{nid}", "/admin/new"]:
        r, _ = admin.post(path, {"content": "hijacked", "published": "1"}, csrf=False)
        assert r.status == 403, path
    assert "Protected" in public(admin, f"/note/{slug}")[1]
    assert "hijacked" not in admin.get("/admin/")[1]


def test_notice_is_never_reflected(admin):
    r, body = admin.get("/admin/?notice=%3Cscript%3Ealert(1)%3C/script%3E&slug=%3Cb%3E")
    assert r.status == 200, "the admin list itself, not an error or a redirect"
    assert "No notes yet" in body
    assert 'class="notice"' not in body, "an unknown notice shows nothing"
    assert "<script>alert(1)" not in body and "&lt;script" not in body
    assert "<b>" not in body
    r, body = admin.get("/admin/?notice=created&slug=%3Cb%3E")
    assert r.status == 200
    assert "Note created." in body, "a known notice is shown"
    assert "View it" not in body, "an unusable slug gets no link"
    assert "<b>" not in body and "&lt;b&gt;" not in body


def test_tags_from_the_form_link_to_their_pages(admin, tmp_path):
    r, body = admin.post("/admin/new", {"content": "Bread rising", "tags": "Baking, sourdough ,, baking",
                                         "published": "1"})
    assert r.status == 303, body
    slug = parse_qs(urlsplit(r.getheader("Location")).query)["slug"][0]
    status, page = public(admin, f"/note/{slug}")
    assert status == 200
    links = re.findall(r'<a class="p-category" rel="tag" href="([^"]+)">([^<]+)</a>', page)
    assert links == [(f"{SITE_URL}/tag/baking", "Baking"), (f"{SITE_URL}/tag/sourdough", "sourdough")]
    status, home = public(admin, "/")
    assert 'rel="tag" href="' + SITE_URL + '/tag/baking"' in home
    status, tag_page = public(admin, "/tag/baking")
    assert status == 200 and "Notes tagged Baking" in tag_page and "Bread rising" in tag_page
    r, _ = admin.s.request("GET", "/tag/BAKING?page=1")
    assert r.status == 301 and r.getheader("Location") == f"{SITE_URL}/tag/baking?page=1"
    assert public(admin, "/tag/nothing-here")[0] == 404
    problems = html_validate.validate({"note": page, "tag": tag_page}, tmp_path / "html")
    assert not problems, problems

    # The edit form shows them; a new set replaces the old, and the tag pages follow at once.
    nid = admin.note_id(slug)
    _, form = admin.get(f"/admin/edit/{nid}")
    assert 'name="tags" value="Baking, sourdough"' in form
    r, _ = admin.post(f"/admin/edit/{nid}", {"content": "Bread rising", "tags": "rye", "published": "1"})
    assert r.status == 303
    assert public(admin, "/tag/baking")[0] == 404  # no published note has it any more
    assert "Bread rising" in public(admin, "/tag/rye")[1]
    # A form without the field (an older page) keeps the tags.
    r, _ = admin.post(f"/admin/edit/{nid}", {"content": "Bread risen", "published": "1"})
    assert r.status == 303
    assert "Bread risen" in public(admin, "/tag/rye")[1]
