"""The public site (issue 4) as readers and IndieWeb tools see it, judged by
outside parsers: mf2py for microformats2, npm html-validate for HTML, Python's
html.parser for what reaches the browser.

Notes are created the way an operator would: Markdown files imported with
`starpunk import` (the file name is the slug, the file's mtime the publication
time); soft deletion sets `deleted_at` in SQLite. Changes made while a server
runs reach it through PRAGMA data_version polling (within a second), so a test
that changes the data under a running server polls until the change shows
(Site.wait_for), failing after CHANGE_DEADLINE.
"""
import calendar
import datetime as dt
import email.utils
import itertools
import math
import os
import re
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import mf2py
import time

import pytest

import html_validate
from conftest import run_cli, wait_until

SITE_URL = "http://127.0.0.1:8000"
SITE_NAME = "Ada's Notes"
ADMIN_ME = "https://ada.example/"
AUTHOR = "Ada Example"
AUTHOR_PHOTO = "https://ada.example/photo.jpg"
SITE_ENV = {"SITE_URL": SITE_URL, "SITE_NAME": SITE_NAME, "ADMIN_ME": ADMIN_ME,
            "SITE_AUTHOR": AUTHOR, "SITE_AUTHOR_PHOTO": AUTHOR_PHOTO}
PER_PAGE = 20
BASE_TIME = calendar.timegm((2025, 3, 1, 9, 30, 0))  # whole seconds: stored exactly
CHANGE_DEADLINE = 5.0  # seconds; the server notices another process's write within one
ISO_WITH_OFFSET = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
FEEDS = {"application/rss+xml": "/feed.xml", "application/atom+xml": "/feed.atom",
         "application/feed+json": "/feed.json"}


# --------------------------------------------------------------------------- notes and sites

@dataclass
class Note:
    slug: str
    text: str
    mtime: int = BASE_TIME

    @property
    def url(self):
        return f"{SITE_URL}/note/{self.slug}"


def numbered_notes(count, prefix="note"):
    """`count` notes whose publication order (a permutation) differs from their names'."""
    step = next(s for s in (7, 11, 13, 17) if math.gcd(s, count) == 1)
    return [Note(f"{prefix}-{i:02d}", f"Note number {i} says hello.", BASE_TIME + ((i * step) % count) * 60)
            for i in range(count)]


def newest_first(notes):
    return sorted(notes, key=lambda n: n.mtime, reverse=True)


_batches = itertools.count()


def import_notes(tmp_path: Path, data: Path, notes, draft=False):
    src = tmp_path / f"import-{next(_batches)}"
    src.mkdir()
    for n in notes:
        f = src / f"{n.slug}.md"
        f.write_text(n.text, encoding="utf-8")
        os.utime(f, (n.mtime, n.mtime))
    r = run_cli(tmp_path, ["import", str(src)] + (["--draft"] if draft else []), env={"DATA_PATH": str(data)})
    assert r.returncode == 0, r.stdout + r.stderr


def parse_stored_time(text: str) -> dt.datetime:
    fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in text else "%Y-%m-%d %H:%M:%S"
    return dt.datetime.strptime(text, fmt).replace(tzinfo=dt.timezone.utc)


class Site:
    """A running server, the data directory it serves, and how a test changes it."""

    def __init__(self, server, data: Path, tmp_path: Path):
        self.server, self.data, self.tmp_path = server, data, tmp_path

    def get(self, path, headers=None):
        r, body = self.server.request("GET", path, headers=headers)
        return r, body.decode("utf-8")

    def get_dated(self, path, within=3.0):
        """GET once the page carries Last-Modified: a page built this second
        goes out without one (its date is not yet a validator)."""
        deadline = time.monotonic() + within
        while True:
            r, text = self.get(path)
            if r.getheader("Last-Modified") or time.monotonic() > deadline:
                return r, text
            time.sleep(0.05)

    def page(self, path, status=200):
        r, text = self.get(path)
        assert r.status == status, f"GET {path}: {r.status}\n{text[:2000]}"
        return text

    def wait_for(self, path, condition, what):
        """GETs `path` until condition(response, text) holds; returns (response, text)."""
        def probe():
            r, text = self.get(path)
            return (r, text) if condition(r, text) else None
        return wait_until(probe, timeout=CHANGE_DEADLINE, what=f"GET {path}: {what}")

    def add(self, notes, draft=False):
        import_notes(self.tmp_path, self.data, notes, draft)

    def db(self):
        return closing(sqlite3.connect(self.data / "starpunk.db"))

    def soft_delete(self, slug):
        with self.db() as db, db:
            n = db.execute("UPDATE notes SET deleted_at = '2026-01-01 00:00:00.000000' WHERE slug = ?", (slug,)).rowcount
        assert n == 1, slug

    def stored(self, slug):
        with self.db() as db:
            row = db.execute("SELECT created_at, updated_at FROM notes WHERE slug = ?", (slug,)).fetchone()
        assert row, slug
        return {"created_at": parse_stored_time(row[0]), "updated_at": parse_stored_time(row[1])}


@pytest.fixture
def start_site(make_server, tmp_path):
    """start_site(notes=[], drafts=[], deleted=[], env={}) -> Site, with the notes
    imported (and `deleted` slugs soft-deleted) before the server starts."""
    counter = itertools.count()

    def start(notes=(), drafts=(), deleted=(), env=None):
        data = tmp_path / f"site-{next(counter)}" / "data"
        data.parent.mkdir()
        if notes:
            import_notes(tmp_path, data, notes)
        if drafts:
            import_notes(tmp_path, data, drafts, draft=True)
        site = Site(None, data, tmp_path)
        for slug in deleted:
            site.soft_delete(slug)
        site.server = make_server(env={**SITE_ENV, **(env or {}), "DATA_PATH": str(data)})
        return site

    return start


# --------------------------------------------------------------------------- microformats

def mf2(html, path="/"):
    return mf2py.parse(doc=html, url=SITE_URL + path)


def all_microformats(items):
    """Every microformat in a parse: top level, children and property values."""
    for item in items:
        yield item
        yield from all_microformats(item.get("children", []))
        for values in item.get("properties", {}).values():
            yield from all_microformats([v for v in values if isinstance(v, dict) and "type" in v])


def h_entries(doc):
    return [i for i in all_microformats(doc["items"]) if "h-entry" in i["type"]]


def the_h_feed(doc):
    feeds = [i for i in all_microformats(doc["items"]) if "h-feed" in i["type"]]
    assert len(feeds) == 1, feeds
    return feeds[0]


def feed_entries(html, path="/"):
    feed = the_h_feed(mf2(html, path))
    return [c for c in feed.get("children", []) if "h-entry" in c["type"]]


def the_h_entry(html, path):
    entries = h_entries(mf2(html, path))
    assert len(entries) == 1, entries
    return entries[0]["properties"]


def url_value(v):
    return v["value"] if isinstance(v, dict) else v  # u-photo with alt parses as {value, alt}


def mf2_time(value) -> dt.datetime:
    assert ISO_WITH_OFFSET.fullmatch(value), f"not ISO 8601 with an offset: {value!r}"
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


# --------------------------------------------------------------------------- HTML inspection

class Tags(HTMLParser):
    """All start tags of a document as (tag, {attr: value}) with entities decoded,
    and whether each was inside <head>."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.tags, self.in_head = [], False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        if tag == "head":
            self.in_head = True
        self.tags.append((tag, {k: (v or "") for k, v in attrs}, self.in_head))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "head":
            self.in_head = False

    def find(self, tag, head_only=False):
        return [a for t, a, h in self.tags if t == tag and (h or not head_only)]


def rels(attrs):
    return attrs.get("rel", "").lower().split()


def parse_link_header(value):
    """[(url, {param: value})] from an RFC 8288 Link header."""
    links = []
    for m in re.finditer(r"<([^>]*)>((?:\s*;\s*[^;,]+)*)", value or ""):
        params = {}
        for p in m.group(2).split(";"):
            k, _, v = p.strip().partition("=")
            if k:
                params[k.strip().lower()] = v.strip().strip('"')
        links.append((m.group(1), params))
    return links


def pagination_links(html):
    return {r: a["href"] for a in Tags(html).find("a") for r in rels(a) if r in ("prev", "next")}


class MainText(HTMLParser):
    """The visible text inside <main>, whitespace collapsed."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.depth, self.chunks = 0, []
        self.feed(html)
        self.close()
        self.text = " ".join(" ".join(self.chunks).split())

    def handle_starttag(self, tag, attrs):
        self.depth += tag == "main"

    def handle_endtag(self, tag):
        self.depth -= tag == "main"

    def handle_data(self, data):
        if self.depth:
            self.chunks.append(data)


def assert_valid_html(documents: dict, workdir: Path):
    problems = html_validate.validate(documents, workdir)
    assert not problems, "html-validate found errors:\n" + "\n".join(
        f"{name}:\n  " + "\n  ".join(msgs) for name, msgs in problems.items())


# --------------------------------------------------------------------------- 1. microformats2

def test_home_is_one_h_feed_with_one_h_entry_per_listed_note(start_site):
    notes = [Note("titled", "# A titled note\n\nWith a body.", BASE_TIME + 60),
             Note("plain", "Just a plain thought.", BASE_TIME + 120),
             Note("linked", "See [this](https://example.com/).", BASE_TIME)]
    site = start_site(notes)
    html = site.page("/")

    feed = the_h_feed(mf2(html))
    assert feed["properties"]["name"] == [SITE_NAME]
    assert feed["properties"]["url"] == [SITE_URL + "/"]
    entries = [c for c in feed.get("children", []) if "h-entry" in c["type"]]
    assert len(entries) == len(notes)
    assert len(h_entries(mf2(html))) == len(notes)  # none outside the feed either
    assert [e["properties"]["url"] for e in entries] == [[n.url] for n in newest_first(notes)]
    for e, n in zip(entries, newest_first(notes)):
        p = e["properties"]
        content = p["content"][0]
        assert content["html"].strip() and content["value"].strip(), n.slug
        assert mf2_time(p["published"][0]) == dt.datetime.fromtimestamp(n.mtime, dt.timezone.utc)
        assert p.get("uid", [n.url]) == [n.url]


def test_permalink_is_one_h_entry_equal_to_the_stored_note(start_site):
    note = Note("hello-world", "# Hello, world\n\nThe first paragraph of the note.\n\nA second one.", BASE_TIME)
    site = start_site([note])
    path = "/note/hello-world"
    p = the_h_entry(site.page(path), path)
    stored = site.stored(note.slug)

    assert p["url"] == [note.url]
    assert p["uid"] == [note.url]
    assert p["name"] == ["Hello, world"]
    assert mf2_time(p["published"][0]) == stored["created_at"] == dt.datetime.fromtimestamp(note.mtime, dt.timezone.utc)
    assert mf2_time(p["updated"][0]) == stored["updated_at"]
    content = p["content"][0]
    assert "The first paragraph of the note." in content["value"]
    assert "A second one." in content["value"]
    assert "<p>" in content["html"]

    [author] = p["author"]
    assert "h-card" in author["type"]
    assert author["properties"]["name"] == [AUTHOR]
    assert author["properties"]["url"] == [ADMIN_ME]
    assert [url_value(v) for v in author["properties"]["photo"]] == [AUTHOR_PHOTO]


def test_author_h_card_has_no_photo_unless_configured(start_site):
    site = start_site([Note("plain", "No photo here.")], env={"SITE_AUTHOR_PHOTO": ""})
    [author] = the_h_entry(site.page("/note/plain"), "/note/plain")["author"]
    assert author["properties"]["name"] == [AUTHOR]
    assert author["properties"]["url"] == [ADMIN_ME]
    assert "photo" not in author["properties"]


def test_name_only_when_the_note_starts_with_a_heading(start_site):
    titled = {
        "atx": ("# An ATX title\n\nBody.", "An ATX title"),
        "atx-level-two": ("## Level two\n\nBody.", "Level two"),
        "atx-closed": ("# Closed heading #\n\nBody.", "Closed heading"),
        "setext": ("A setext title\n==============\n\nBody.", "A setext title"),
        "inline-markup": ("# Title with *emphasis* and `code`\n\nBody.", "Title with emphasis and code"),
        "leading-blank-lines": ("\n\n# After blank lines\n\nBody.", "After blank lines"),
    }
    untitled = {  # slug: (Markdown, text the content keeps)
        "plain": ("Just a sentence, no heading.", "Just a sentence"),
        "hashtag": ("#hashtag is not a heading\n\nBody.", "#hashtag is not a heading"),
        "heading-later": ("An opening paragraph.\n\n# A heading further down", "A heading further down"),
        "list-first": ("- an item\n- another\n\n# Heading after a list", "an item"),
        "bold-first-line": ("**Bold, but not a heading**\n\nBody.", "Bold, but not a heading"),
    }
    notes = [Note(s, text) for s, (text, _) in {**titled, **untitled}.items()]
    site = start_site(notes)
    for slug, (_, name) in titled.items():
        p = the_h_entry(site.page(f"/note/{slug}"), f"/note/{slug}")
        assert p.get("name") == [name], slug
        assert "Body." in p["content"][0]["value"], slug
    for slug, (_, kept) in untitled.items():
        p = the_h_entry(site.page(f"/note/{slug}"), f"/note/{slug}")
        assert "name" not in p, (slug, p.get("name"))
        assert kept in " ".join(p["content"][0]["value"].split()), slug


def test_note_html_cannot_add_properties_to_the_page_h_entry(start_site):
    # Content is the author's, but it may come from any Micropub client: class
    # names inside e-content must not rename, re-address or re-date the entry.
    text = ('Text <span class="p-name">Spoofed name</span> '
            '<a class="u-url u-uid" href="https://evil.example/">elsewhere</a> '
            '<time class="dt-published" datetime="1999-01-01T00:00:00+00:00">then</time> '
            '<span class="p-author h-card">Mallory</span>')
    site = start_site([Note("spoof", text)])
    for path in ("/note/spoof", "/"):
        html = site.page(path)
        entries = h_entries(mf2(html, path))
        assert len(entries) == 1, (path, entries)
        p = entries[0]["properties"]
        assert "name" not in p, (path, p.get("name"))
        assert p["url"] == [f"{SITE_URL}/note/spoof"], path
        assert p.get("uid") == [f"{SITE_URL}/note/spoof"], path
        assert [mf2_time(v) for v in p["published"]] == [dt.datetime.fromtimestamp(BASE_TIME, dt.timezone.utc)], path
        if "author" in p:
            assert [a["properties"]["url"] for a in p["author"]] == [[ADMIN_ME]], path


# --------------------------------------------------------------------------- 2. HTML validity

RICH_MARKDOWN = """# A rich note

Some *emphasis*, **strong**, ~~struck~~ and `inline code`, an autolink https://example.com/auto
and a [link](https://example.com/page "with a title").

## A section

| Name | Value |
|------|-------|
| a    | 1     |
| `b`  | **2** |

- [x] a finished task
- [ ] an open task

1. first
2. second

> A quotation
> over two lines.

```python
def hello():
    return "<world>"
```

Text with a footnote.[^note]

![An image](https://example.com/image.png)

---

[^note]: The footnote's text.
"""


def test_html_validate_empty_site_and_error_pages(start_site, tmp_path):
    site = start_site()
    pages = {
        "home (empty)": site.page("/"),
        "404 unknown note": site.page("/note/no-such-note", 404),
        "404 unknown path": site.page("/no/such/page", 404),
        "404 page past the end": site.page("/?page=2", 404),
        "400 page=0": site.page("/?page=0", 400),
        "400 page=abc": site.page("/?page=abc", 400),
    }
    assert_valid_html(pages, tmp_path / "html-empty")


def test_html_validate_pages_with_notes(start_site, tmp_path):
    notes = numbered_notes(PER_PAGE - 2) + [
        Note("rich", RICH_MARKDOWN, BASE_TIME + 10_000),
        Note("untitled", "Just text, with <em>inline HTML</em> & an ampersand.", BASE_TIME + 20_000),
        Note("gone", "This one will be deleted.", BASE_TIME + 30_000),
        Note("oldest", "The oldest note, alone on page two.", BASE_TIME - 10_000),
    ]
    site = start_site(notes, deleted=["gone"])
    pages = {
        "home": site.page("/"),
        "home page 2": site.page("/?page=2"),
        "permalink with title and rich Markdown": site.page("/note/rich"),
        "permalink without title": site.page("/note/untitled"),
        "410 deleted note": site.page("/note/gone", 410),
        "404 page 3": site.page("/?page=3", 404),
    }
    assert len(feed_entries(pages["home page 2"], "/?page=2")) == 1  # the set-up is what it claims
    assert_valid_html(pages, tmp_path / "html-notes")


def test_table_with_aligned_columns_is_valid_html(start_site, tmp_path):
    # GFM column alignment (":--", ":-:", "--:") must not become the obsolete align attribute.
    table = "| Left | Centre | Right |\n|:-----|:------:|------:|\n| a | b | c |\n"
    site = start_site([Note("aligned", "# Aligned\n\n" + table)])
    pages = {"permalink with an aligned table": site.page("/note/aligned"), "home": site.page("/")}
    assert_valid_html(pages, tmp_path / "html-aligned")


def test_footnote_ids_are_unique_on_a_home_page_with_two_footnoted_notes(start_site, tmp_path):
    notes = [Note("first-footnoted", "First.[^1]\n\n[^1]: First note's footnote.", BASE_TIME),
             Note("second-footnoted", "Second.[^1]\n\n[^1]: Second note's footnote.", BASE_TIME + 60)]
    site = start_site(notes)
    html = site.page("/")
    ids = [attrs["id"] for _, attrs, _ in Tags(html).tags if "id" in attrs]
    assert len(ids) == len(set(ids)), f"duplicate ids on the home page: {sorted(ids)}"
    assert_valid_html({"home with two footnoted notes": html}, tmp_path / "html-footnotes")


# --------------------------------------------------------------------------- 3. drafts and deleted notes

def test_drafts_are_invisible_to_anonymous_readers(start_site):
    public = Note("public-note", "Visible to everyone.", BASE_TIME)
    draft = Note("secret-draft", "Draft words nobody may read yet.", BASE_TIME + 60)
    site = start_site([public], drafts=[draft])

    home = site.page("/")
    assert [e["properties"]["url"] for e in feed_entries(home)] == [[public.url]]
    assert "secret-draft" not in home and "nobody may read" not in home
    body = site.page("/note/secret-draft", 404)
    assert "nobody may read" not in body


def test_deleted_notes_are_gone_even_when_their_pages_were_cached(start_site):
    keep = Note("keeper", "This note stays.", BASE_TIME)
    doomed = Note("doomed", "This note will be deleted.", BASE_TIME + 60)
    site = start_site([keep, doomed])
    assert len(feed_entries(site.page("/"))) == 2  # warms the page cache
    site.page("/note/doomed")

    site.soft_delete("doomed")
    site.wait_for("/note/doomed", lambda r, _: r.status != 200, "the cached page to go")

    body = site.page("/note/doomed", 410)
    assert "will be deleted" not in body
    home = site.page("/")
    assert [e["properties"]["url"] for e in feed_entries(home)] == [[keep.url]]
    assert "will be deleted" not in home


def test_note_deleted_before_start_is_410_and_absent(start_site):
    site = start_site([Note("here", "Still here."), Note("gone", "Gone before start.", BASE_TIME + 1)],
                      deleted=["gone"])
    site.page("/note/gone", 410)
    assert [e["properties"]["url"] for e in feed_entries(site.page("/"))] == [[f"{SITE_URL}/note/here"]]


# --------------------------------------------------------------------------- 4. pagination

def test_empty_site_shows_an_empty_state_without_pagination(start_site):
    html = start_site().page("/")
    assert feed_entries(html) == []
    assert the_h_feed(mf2(html))["properties"]["name"] == [SITE_NAME]
    assert pagination_links(html) == {}
    text = MainText(html).text
    assert len(text.replace(SITE_NAME, "").strip()) >= 20, text  # says something to the reader


def test_exactly_one_full_page_has_no_next_link(start_site):
    notes = numbered_notes(PER_PAGE)
    site = start_site(notes)
    html = site.page("/")
    assert [e["properties"]["url"] for e in feed_entries(html)] == [[n.url] for n in newest_first(notes)]
    assert pagination_links(html) == {}
    site.page("/?page=2", 404)


def test_twenty_one_notes_make_two_pages_newest_first(start_site):
    notes = numbered_notes(PER_PAGE + 1)
    ordered = newest_first(notes)
    site = start_site(notes)

    first = site.page("/")
    assert [e["properties"]["url"] for e in feed_entries(first)] == [[n.url] for n in ordered[:PER_PAGE]]
    assert pagination_links(first) == {"next": f"{SITE_URL}/?page=2"}
    assert site.page("/?page=1") == first

    second = site.page("/?page=2")
    assert [e["properties"]["url"] for e in feed_entries(second, "/?page=2")] == [[ordered[-1].url]]
    links = pagination_links(second)
    assert "next" not in links
    assert urljoin(SITE_URL + "/?page=2", links["prev"]) == SITE_URL + "/"

    site.page("/?page=3", 404)


def test_newest_first_regardless_of_names(start_site):
    notes = [Note("alpha", "Middle.", BASE_TIME + 60), Note("bravo", "Newest.", BASE_TIME + 120),
             Note("charlie", "Oldest.", BASE_TIME)]
    html = start_site(notes).page("/")
    assert [e["properties"]["url"][0].rsplit("/", 1)[1] for e in feed_entries(html)] == ["bravo", "alpha", "charlie"]


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "2x", "99999999999999999999"])
def test_malformed_page_number_is_400(start_site, page):
    site = start_site([Note("only", "The only note.")])
    r, body = site.get(f"/?page={page}")
    assert r.status == 400, page
    assert r.getheader("Content-Type", "").startswith("text/html")
    assert "The only note." not in body


# --------------------------------------------------------------------------- 5. HTTP caching

@pytest.mark.parametrize("path", ["/", "/note/cached", "/?page=2"])
def test_etag_round_trip_gives_304_with_empty_body(start_site, path):
    site = start_site(numbered_notes(PER_PAGE) + [Note("cached", "Cache me.", BASE_TIME + 99_999)])
    r, body = site.get(path)
    assert r.status == 200 and body
    etag = r.getheader("ETag")
    assert etag and re.fullmatch(r'(W/)?"[^"]+"', etag), etag
    cc = r.getheader("Cache-Control", "")
    assert "public" in cc and re.search(r"max-age=\d+", cc), cc

    r2, body2 = site.get(path, {"If-None-Match": etag})
    assert r2.status == 304 and body2 == ""
    assert r2.getheader("ETag") == etag

    r3, _ = site.get(path, {"If-None-Match": '"something-else"'})
    assert r3.status == 200


@pytest.mark.parametrize("path", ["/", "/note/dated"])
def test_if_modified_since_round_trip(start_site, path):
    note = Note("dated", "A dated note.", BASE_TIME)
    site = start_site([note])
    r, _ = site.get_dated(path)
    last_modified = r.getheader("Last-Modified")
    assert last_modified, "no Last-Modified"
    modified = email.utils.parsedate_to_datetime(last_modified)
    if path == "/":
        # A list page changes without any listed note changing (deletions,
        # older notes published): its Last-Modified is when it was built.
        assert modified >= dt.datetime.fromtimestamp(note.mtime, dt.timezone.utc)
    else:
        assert modified == dt.datetime.fromtimestamp(note.mtime, dt.timezone.utc)

    r2, body2 = site.get(path, {"If-Modified-Since": last_modified})
    assert r2.status == 304 and body2 == ""
    later = email.utils.format_datetime(modified + dt.timedelta(hours=1), usegmt=True)
    assert site.get(path, {"If-Modified-Since": later})[0].status == 304
    earlier = email.utils.format_datetime(modified - dt.timedelta(seconds=1), usegmt=True)
    assert site.get(path, {"If-Modified-Since": earlier})[0].status == 200


def test_new_note_changes_the_home_etag(start_site):
    site = start_site([Note("first", "The first note.", BASE_TIME)])
    r, _ = site.get("/")
    old_etag = r.getheader("ETag")

    site.add([Note("second", "A brand new note.", BASE_TIME + 60)])
    site.wait_for("/", lambda _, text: "A brand new note." in text, "the new note on the home page")

    r2, body = site.get("/", {"If-None-Match": old_etag})
    assert r2.status == 200
    assert r2.getheader("ETag") and r2.getheader("ETag") != old_etag
    assert "A brand new note." in body


def test_if_modified_since_is_not_304_after_a_listed_note_is_deleted(start_site):
    # An If-Modified-Since-only cache (no ETag) must not keep serving a deleted note.
    site = start_site([Note("newer", "The newer note.", BASE_TIME + 60),
                       Note("older", "The older note, soon deleted.", BASE_TIME)])
    r, _ = site.get_dated("/")
    last_modified = r.getheader("Last-Modified")
    assert last_modified

    site.soft_delete("older")
    site.wait_for("/", lambda _, text: "soon deleted" not in text, "the deleted note to leave the home page")

    r2, body = site.get("/", {"If-Modified-Since": last_modified})
    assert r2.status == 200, f"304 for a page that lost a note since {last_modified}"
    assert "soon deleted" not in body


@pytest.mark.parametrize("path", ["/", "/note/headed"])
def test_head_gives_the_get_headers_without_a_body(start_site, path):
    site = start_site([Note("headed", "Head me.")])
    site.get_dated(path)
    get, body = site.server.request("GET", path)
    raw = site.server.raw(f"HEAD {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    assert lines[0].split()[1] == "200"
    assert rest == b"", rest[:200]
    assert headers["etag"] == get.getheader("ETag")
    assert headers.get("last-modified") == get.getheader("Last-Modified")
    assert headers.get("content-length") in (None, str(len(body)))


# --------------------------------------------------------------------------- 6. sanitized HTML

PAYLOADS = {
    "script-inline": "Before <script>alert(1)</script> after.",
    "script-block": "<script>\nalert(1)\n</script>\n\nAfter a script block.",
    "img-onerror": "<img src=x onerror=alert(1)> and <img src=\"https://example.com/i.png\" onerror=\"alert(1)\" alt=\"i\">",
    "js-link": '<a href="javascript:alert(1)">x</a>',
    "js-link-mixed-case": '<a href="JaVaScRiPt:alert(1)">y</a>',
    "js-link-decimal-entities": '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">d</a>',
    "js-link-hex-entities": '<a href="&#x6A;avascript&#x3A;alert(1)">h</a>',
    "js-link-padded-entities": '<a href="&#0000106&#0000097vascript:alert(1)">p</a>',
    "js-link-named-colon": '<a href="javascript&colon;alert(1)">c</a>',
    "js-link-tab-newline": '<a href="java&#x09;script:alert(1)">t</a> <a href="java&#x0A;script:alert(1)">n</a>',
    "js-link-leading-space": '<a href=" \x01javascript:alert(1)">s</a>',
    "vbscript-link": '<a href="vbscript:msgbox(1)">vb</a>',
    "md-js-links": "[m](javascript:alert(1)) [M](JAVASCRIPT:alert(1)) [e](&#106;avascript:alert(1)) <javascript:alert(1)>",
    "svg-onload": "<svg onload=alert(1)><circle r=10></circle></svg> and <svg><script>alert(1)</script></svg>",
    "iframe": '<iframe src="https://evil.example/"></iframe> <iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "style-element": "<style>body { display: none }</style>Styled?",
    "style-attribute": '<div style="background:url(javascript:alert(1))">styled div</div> <p style="color:red">red</p>',
    "form": ('<form action="javascript:alert(1)"><input name="q"><button formaction="javascript:alert(1)">go'
             '</button><input type="submit" value="send"></form>'),
    "data-urls": ('<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a> '
                  "[md data](data:text/html,<script>alert(1)</script>) "
                  '<img src="data:image/svg+xml,<svg onload=alert(1)>" alt="d">'),
    "object-embed": '<object data="https://evil.example/x.swf"></object><embed src="https://evil.example/x.swf">',
    "meta-base-link": ('<meta http-equiv="refresh" content="0;url=javascript:alert(1)">'
                       '<base href="https://evil.example/"><link rel="stylesheet" href="https://evil.example/x.css">'),
    "broken-unclosed-img": "<img src=x onerror=alert(1)//",
    "broken-nested-script": "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "broken-unclosed-attr": '<a href="javascript:alert(1)" title="unclosed',
    "broken-double-lt": "<<script>script>alert(1)<</script>/script>",
    "broken-attr-quote": '<img """><script>alert(1)</script>">',
    "broken-tag-in-tag": "<div <script>alert(1)</script>>text</div>",
    "unclosed-bold-handler": "<b onmouseover=alert(1)>bold and never closed",
    "mxss-noscript": '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "mxss-math-style": "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
    "comment-trick": "<!--><script>alert(1)</script>--> <!-- <img src=x onerror=alert(1)> -->",
    "textarea-title": "<textarea><script>alert(1)</script></textarea><title><img src=x onerror=alert(1)></title>",
    "handler-on-allowed-tag": '<a href="https://example.com/ok" onclick="alert(1)" onmouseover="alert(2)">ok link</a>',
}

BENIGN = ("Plain **bold** and *emphasis* with a [link](https://example.com/page), an autolink "
          "<https://example.org/auto>, [mail](mailto:ada@example.com), [relative](/note/other) "
          'and <em>raw em</em> plus <a href="https://example.net/raw" title="t">a raw link</a>.')
BENIGN_HREFS = {"https://example.com/page", "https://example.org/auto", "mailto:ada@example.com",
                f"{SITE_URL}/note/other", "https://example.net/raw"}

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "poster", "cite", "background", "data", "srcset",
                  "xlink:href", "longdesc", "ping", "codebase", "dynsrc", "lowsrc", "srcdoc"}
FORBIDDEN_IN_CONTENT = {"script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "form",
                        "button", "textarea", "select", "base", "meta", "link", "noscript", "template", "title"}


def url_scheme(value):
    cleaned = re.sub(r"[\x00-\x20\x7f]", "", value).lower()  # browsers ignore these inside schemes
    m = re.match(r"([a-z][a-z0-9+.\-]*):", cleaned)
    return m.group(1) if m else None


def unsafe_markup(html, whole_document):
    """What a browser could run or be restyled by; an empty list when safe."""
    found = []
    if "<script" in html.lower():
        found.append("raw '<script'")
    for tag, attrs, _ in Tags(html).tags:
        if tag == "script" or (not whole_document and tag in FORBIDDEN_IN_CONTENT):
            found.append(f"<{tag}>")
        if tag == "input" and not whole_document and attrs.get("type") != "checkbox":
            found.append(f"<input type={attrs.get('type')!r}>")
        for name, value in attrs.items():
            if name.startswith("on"):
                found.append(f"<{tag} {name}>")
            if name == "style":
                found.append(f"<{tag} style>")
            if name in URL_ATTRIBUTES and url_scheme(value) not in (None, "http", "https", "mailto"):
                found.append(f"<{tag} {name}={value!r}>")
    return found


def test_html_in_notes_is_sanitized_on_permalinks_and_home(start_site):
    notes = [Note(slug, f"Payload {slug}.\n\n{text}", BASE_TIME + i) for i, (slug, text) in enumerate(PAYLOADS.items())]
    assert len(notes) > PER_PAGE  # home spans two pages: check both
    site = start_site(notes)
    failures = {}
    for n in notes:
        path = f"/note/{n.slug}"
        html = site.page(path)
        content = the_h_entry(html, path)["content"][0]["html"]
        bad = unsafe_markup(html, whole_document=True) + unsafe_markup(content, whole_document=False)
        if bad:
            failures[path] = bad
    for path in ("/", "/?page=2"):
        html = site.page(path)
        bad = unsafe_markup(html, whole_document=True)
        for e in feed_entries(html, path):
            bad += [f"{e['properties']['url'][0]}: {b}"
                    for b in unsafe_markup(e["properties"]["content"][0]["html"], whole_document=False)]
        if bad:
            failures[path] = bad
    assert not failures, "\n".join(f"{p}: {b}" for p, b in failures.items())


def test_benign_content_survives_sanitizing(start_site):
    site = start_site([Note("benign", BENIGN)])
    for path in ("/note/benign", "/"):
        html = site.page(path)
        [entry] = h_entries(mf2(html, path))
        content = entry["properties"]["content"][0]
        tags = Tags(content["html"])
        hrefs = {urljoin(SITE_URL + path, a["href"]) for a in tags.find("a")}
        assert BENIGN_HREFS <= hrefs, (path, hrefs)
        assert {"strong", "em"} <= {t for t, _, _ in tags.tags}, path
        text = " ".join(content["value"].split())
        for words in ("Plain bold and emphasis", "raw em", "a raw link"):
            assert words in text, (path, words, text)
        assert [a.get("title") for a in tags.find("a") if a["href"] == "https://example.net/raw"] == ["t"]


# --------------------------------------------------------------------------- 7. discovery

def assert_discovery(r, html, extra=()):
    expected = [(SITE_URL + "/micropub", "micropub", None)] + \
               [(SITE_URL + path, "alternate", mime) for mime, path in FEEDS.items()] + list(extra)
    header = parse_link_header(r.getheader("Link"))
    head_links = Tags(html).find("link", head_only=True)
    for url, rel, mime in expected:
        assert any(u == url and rel in p.get("rel", "").split() and (mime is None or p.get("type") == mime)
                   for u, p in header), f"Link header lacks {rel} {url}: {r.getheader('Link')}"
        assert any(a.get("href") == url and rel in rels(a) and (mime is None or a.get("type") == mime)
                   for a in head_links), f"<head> lacks <link rel={rel} href={url}>"
    alternates = [a for a in head_links if "alternate" in rels(a)]
    assert sorted(a.get("type") for a in alternates) == sorted(FEEDS)
    assert all(a.get("title") for a in alternates)


@pytest.mark.parametrize("path", ["/", "/note/discoverable"])
def test_discovery_links_in_header_and_head(start_site, path):
    site = start_site([Note("discoverable", "Find me.")])
    r, html = site.get(path)
    assert r.status == 200
    assert_discovery(r, html)
    assert mf2(html, path)["rels"].get("micropub") == [SITE_URL + "/micropub"]


def test_token_endpoint_is_advertised_when_configured(start_site):
    token = "https://tokens.example/token"
    site = start_site([Note("discoverable", "Find me.")], env={"TOKEN_ENDPOINT": token})
    for path in ("/", "/note/discoverable"):
        r, html = site.get(path)
        assert_discovery(r, html, extra=[(token, "token_endpoint", None)])

