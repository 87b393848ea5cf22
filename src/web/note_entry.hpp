// A note's HTML built without the template engine: its entry on a list page
// and its permalink page's content.
//
// Contract: note_entry_html() returns exactly the bytes that
// templates/note_entry.mustache renders over note_data() (web/note_view.hpp),
// without the final newline — same escaping as kainjow's ({{x}}: & < > " '
// as &amp; &lt; &gt; &quot; &apos;), same lines (a section that renders
// nothing leaves its line's indentation and newline: kainjow drops a
// whitespace-only line only when a section on it was rendered). The
// template stays the source of truth: tests/unit/test_note_entry.cpp builds
// entries both ways for notes with every kind of field and requires equal
// bytes, so a change to the template without the same change here fails.
// Why: through the template engine an entry cost ~10 µs (a third of ~0.6 ms
// a page: a data map of ~15 strings per note, copied; bench/results/
// 2026-12-07-pages-3.md); escaping and concatenation cost far less, so a
// list page whose entries are not all kept can be built on the I/O thread
// (web/note_list_page.hpp).
#pragma once

#include <string>
#include <vector>

#include "notes/notes_service.hpp"
#include "notes/rendered_note.hpp"
#include "web/site.hpp"

namespace starpunk::web {

std::string note_entry_html(const Site& site, const notes::Note& note, const std::vector<notes::Tag>& tags,
                            const std::vector<notes::NotePhoto>& photos, const notes::RenderedNote& rendered);

// The permalink page's content: exactly what templates/note.mustache renders
// over note_data() and the site's fields (render_page), final newline
// included; the same contract, tied by the same test. Why: the template
// engine and note_data were ~16 % of a permalink built off the page cache
// (bench/results/2026-12-07-pages-6.md).
std::string note_article_html(const Site& site, const notes::Note& note, const std::vector<notes::Tag>& tags,
                              const std::vector<notes::NotePhoto>& photos, const notes::RenderedNote& rendered);

// A made-up note's permalink content (note_article_html: a heading, a
// paragraph with a link, two tags, the dates and author): the markup every
// permalink of this site repeats, which the page cache compresses kept
// permalinks against (LayoutFrame::dictionary). Deterministic for a site.
std::string sample_note_article(const Site& site);

}  // namespace starpunk::web
