"""Issue 12 item 1: a note's Markdown renders within a budget whatever cmark-gfm
does. A write that cannot render in bounded time is refused with a 4xx that
says why; a note planted before (here: imported, which does not check) is shown
as escaped text, and never stalls other requests.
"""
import json
import os
import threading
import time

from conftest import run_cli
from test_admin import DEV_ENV, Admin
from test_micropub import assert_error, count_notes, env, mock, post_form, post_json  # noqa: F401 (mock: a fixture)


# Sanitizer builds render up to 4x slower (and the worker's CPU budget is 4x).
SLOW = 4 if "ASAN_OPTIONS" in os.environ else 1


def wide_table(columns=3000, rows=2000):
    return "|" + "a|" * columns + "\n|" + "-|" * columns + "\n" + "x\n" * rows


def brackets(n=50000):
    return "x " + "![[]()" * n


def test_micropub_refuses_a_note_that_cannot_render_in_bounded_time(make_server, mock):
    s = make_server(env(mock))
    token = mock.grant()
    before = count_notes(s)
    for content in (wide_table(), brackets()):
        started = time.monotonic()
        r, body = post_form(s, {"h": "entry", "content": content}, token)
        doc = assert_error(r, body, 400, "invalid_request")
        assert "cannot be rendered within the limits" in doc["error_description"], doc
        assert time.monotonic() - started < 10 * SLOW
    r, body = post_json(s, {"type": ["h-entry"], "properties": {"content": [wide_table()]}}, token)
    assert_error(r, body, 400, "invalid_request")
    assert count_notes(s) == before
    r, body = post_form(s, {"h": "entry", "content": "| a | b |\n|---|---|\n| 1 | 2 |"}, token)
    assert r.status == 201, body


def test_the_admin_form_refuses_it_and_keeps_what_was_typed(make_server):
    admin = Admin(make_server(DEV_ENV))
    r, body = admin.post("/admin/new", {"content": brackets(), "slug": "", "published": "1"})
    assert 400 <= r.status < 500, (r.status, body[:300])
    assert "cannot be rendered within the limits" in body
    assert "![[]()![[]()" in body  # the text is still in the form
    _, listing = admin.get("/admin/")
    assert "No notes yet" in listing or 'class="slug"' not in listing


def test_a_planted_note_is_shown_as_text_and_never_stalls_other_requests(make_server, tmp_path):
    planted = tmp_path / "import"
    planted.mkdir()
    (planted / "wide.md").write_text("# Planted <b>\n\n" + wide_table())
    (planted / "plain.md").write_text("An *ordinary* note")
    s = make_server()
    # Imported while the server runs (the import does not check rendering).
    r = run_cli(tmp_path, ["import", str(planted)], env={"DATA_PATH": str(s.data)})
    assert r.returncode == 0, r.stdout + r.stderr

    results = {}

    def fetch(path):
        started = time.monotonic()
        resp, body = s.request("GET", path)
        results[path] = (resp.status, body.decode(), time.monotonic() - started)

    readers = [threading.Thread(target=fetch, args=(p,)) for p in ("/", "/feed.xml", "/feed.json", "/feed.atom")]
    for t in readers:
        t.start()
    time.sleep(0.05)
    fetch("/health")
    for t in readers:
        t.join()
    for path, (status, _, took) in results.items():
        assert status == 200, path
        assert took < 10 * SLOW, (path, took)  # unbounded, the home page took 25 s of CPU and 1.6 GB
    home = results["/"][1]
    assert "# Planted &lt;b&gt;" in home  # escaped text, no markup from the note
    assert "<b>" not in home.split("Planted", 1)[1][:50]
    assert "<em>ordinary</em>" in home  # other notes render as usual
    items = json.loads(results["/feed.json"][1])["items"]
    assert any("Planted &lt;b&gt;" in i["content_html"] for i in items)
    assert "shown as plain text" in s.output()
