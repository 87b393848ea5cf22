"""PAGE_CACHE_SIZE (issue 11): the page cache is bounded in bytes and may be
switched off, and a permalink that is not in it — read with its tags and
stored rendering in one query — is the same page, with the same validators,
as one that is; list pages assembled from entries kept in memory are the
same pages as those built by a worker, and follow writes."""
import pytest
import mf2py

from conftest import run_cli
from test_public_site import SITE_URL, Note, numbered_notes, start_site  # noqa: F401 (fixture)

TAGS = [("zebra", "Zebra"), ("ünïcode-tag", "Ünïcode Tag"), ("apple", "Apple")]


def tag(site, slug, tags):
    """Tags in this order, written as the tag tables hold them (import has no tag syntax)."""
    with site.db() as db, db:
        (note_id,) = db.execute("SELECT id FROM notes WHERE slug = ?", (slug,)).fetchone()
        for position, (name, display) in enumerate(tags):
            db.execute("INSERT OR IGNORE INTO tags (name, display_name) VALUES (?, ?)", (name, display))
            (tag_id,) = db.execute("SELECT id FROM tags WHERE name = ?", (name,)).fetchone()
            db.execute("INSERT INTO note_tags (note_id, tag_id, position) VALUES (?, ?, ?)", (note_id, tag_id, position))


def categories(html, slug):
    items = mf2py.parse(doc=html, url=f"{SITE_URL}/note/{slug}")["items"]
    entry = next(i for i in items if "h-entry" in i["type"])
    return entry["properties"].get("category", [])


@pytest.mark.parametrize("size", ["0", "64K", "8M"])
def test_permalinks_are_the_same_pages_whatever_the_cache_holds(start_site, size):
    notes = numbered_notes(40)
    site = start_site(notes, env={"PAGE_CACHE_SIZE": size})
    tag(site, "note-03", TAGS)
    first = {}
    for n in notes:
        r, text = site.get_dated(f"/note/{n.slug}")
        assert r.status == 200 and n.text in text
        first[n.slug] = (r.getheader("ETag"), text)
    for n in notes:  # again: from the cache where it kept the page, built anew where not
        r, text = site.get(f"/note/{n.slug}")
        assert (r.getheader("ETag"), text) == first[n.slug], n.slug
        r, _ = site.get(f"/note/{n.slug}", headers={"If-None-Match": first[n.slug][0]})
        assert r.status == 304
    # Tags come in the order given, each once, shown as written.
    assert categories(first["note-03"][1], "note-03") == ["Zebra", "Ünïcode Tag", "Apple"]
    assert categories(first["note-04"][1], "note-04") == []


def entry_slugs(html, path):
    items = mf2py.parse(doc=html, url=SITE_URL + path)["items"]
    feed = next(i for i in items if "h-feed" in i["type"])
    return [c["properties"]["url"][0].rsplit("/", 1)[1] for c in feed.get("children", [])]


@pytest.mark.parametrize("size", ["0", "16K", "8M"])
def test_list_pages_are_the_same_pages_whatever_the_cache_holds(start_site, size):
    """Home and tag pages are assembled from each note's entry and the
    listing kept in memory — on a worker the first time, from memory on the
    I/O thread after: the same bytes, validators and notes in order, whatever
    PAGE_CACHE_SIZE keeps (16K: a few entries only)."""
    notes = numbered_notes(50)
    site = start_site(notes, env={"PAGE_CACHE_SIZE": size})
    for n in notes[::2]:
        tag(site, n.slug, [("even", "Even Ones")])
    paths = ["/", "/?page=2", "/?page=3", "/tag/even", "/tag/even?page=2"]
    first = {p: site.get(p) for p in paths}
    order = [n.slug for n in sorted(notes, key=lambda n: n.mtime, reverse=True)]
    assert entry_slugs(first["/"][1], "/") == order[:20]
    assert entry_slugs(first["/?page=3"][1], "/") == order[40:]
    even = [s for s in order if int(s[-2:]) % 2 == 0]
    assert entry_slugs(first["/tag/even"][1], "/tag/even") == even[:20]
    assert entry_slugs(first["/tag/even?page=2"][1], "/tag/even") == even[20:]
    assert "Notes tagged Even Ones" in first["/tag/even?page=2"][1]
    for _ in range(2):
        for p in paths:
            r, text = site.get(p)
            assert r.status == 200 and text == first[p][1], p
            assert r.getheader("ETag") == first[p][0].getheader("ETag"), p
    assert site.get("/?page=4")[0].status == 404
    assert site.get("/tag/even?page=3")[0].status == 404


def test_list_pages_kept_in_memory_follow_another_processes_write(start_site):
    notes = numbered_notes(30)
    site = start_site(notes)
    for n in notes:
        tag(site, n.slug, [("all", "All")])
    order = [n.slug for n in sorted(notes, key=lambda n: n.mtime, reverse=True)]
    for p in ("/?page=2", "/tag/all?page=2"):
        site.get(p)
        assert entry_slugs(site.page(p), p.split("?")[0]) == order[20:]  # now from memory
    assert order[0] in site.page("/feed.xml")
    # Another process unpublishes the newest note: page 2 starts one later —
    # on the very next request (the server watches SQLite's WAL index).
    with site.db() as db, db:
        db.execute("UPDATE notes SET published = 0 WHERE slug = ?", (order[0],))
    for p in ("/?page=2", "/tag/all?page=2"):
        assert entry_slugs(site.page(p), p.split("?")[0]) == order[21:], p
    assert order[0] not in site.page("/feed.xml")


def test_unknown_and_deleted_permalinks_without_a_cache(start_site):
    site = start_site([Note("kept", "Still here."), Note("gone", "Deleted soon.")], deleted=["gone"],
                      env={"PAGE_CACHE_SIZE": "0"})
    assert site.get("/note/nothing")[0].status == 404
    assert site.get("/note/gone")[0].status == 410
    assert "Still here." in site.page("/note/kept")


@pytest.mark.parametrize("bad", ["-1", "lots", "1T"])
def test_a_malformed_page_cache_size_is_a_configuration_error(tmp_path, bad):
    done = run_cli(tmp_path, ["serve"], {"DEV_MODE": "true", "PAGE_CACHE_SIZE": bad, "PORT": "0"})
    assert done.returncode == 2, done.stderr
    assert "PAGE_CACHE_SIZE" in done.stderr
