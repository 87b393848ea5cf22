// How a note appears in templates (home list, permalink): one place that maps a
// Note and its rendering to template fields, so every page marks notes up alike.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "notes/notes_service.hpp"
#include "web/page_cache.hpp"
#include "web/site.hpp"

namespace starpunk::web {

// The template data of templates/note.mustache and note_entry.mustache for a
// note and its rendering. Pages are built without the template engine
// (web/note_entry.hpp); this mapping and the templates stay the source of
// truth that tests/unit/test_note_entry.cpp holds those builders to.
// Fields: url, html, name (only with a real title), summary (when set), draft, published_iso,
// published_human, updated_iso, updated_human, tags [{tag_url, tag}],
// has_tags, photos [{src, alt, has_size, width, height, has_srcset, srcset,
// sizes}] and has_photos. Second: the page title text. Photos come from the
// photo rows, not from the stored rendering (which is the Markdown body only).
std::pair<TemplateData, std::string> note_data(const Site& site, const notes::Note& note,
                                               const std::vector<notes::Tag>& tags,
                                               const std::vector<notes::NotePhoto>& photos, const notes::RenderedNote& r);

// The template list for a note's photos: stored images absolute under
// SITE_URL with width/height and a srcset of their variants plus the full
// size; external URLs as given, without size or srcset.
TemplateData photo_list_data(const Site& site, const std::vector<notes::NotePhoto>& photos);

// A note's entry on a list page: its <article class="h-entry"> as HTML
// (templates/note_entry.mustache over note_data, without a final newline).
// Entries are kept in the page cache by note id (PageCache::store_entry), so
// they follow its invariants (web/page_cache.hpp): dropped by any write,
// never stored from an older generation, counted in PAGE_CACHE_SIZE. From
// memory alone: PageCache::append_entries.
//
// The entries of `ids`, in order: from memory, the others built without the
// template engine (web/note_entry.hpp) from one read of their notes, tags and
// stored renderings (RenderedStore::for_list; photos, and renderings not yet
// stored, are read after) and kept unless a write happened since
// `generation` was read. Empty for a note that no longer exists.
Result<std::vector<std::string>> note_entries(const Site& site, const std::vector<int64_t>& ids, uint64_t generation);
// The same on the I/O thread: only that one read, through an idle pooled
// connection (never waits). nullopt when that is not enough — a missing note
// has photos or no stored rendering, no connection is idle, the read failed —
// and a worker must call note_entries().
std::optional<std::vector<std::string>> note_entries_now(const Site& site, const std::vector<int64_t>& ids,
                                                         uint64_t generation);

// Footnote anchors are numbered per note ("fn-1"); several notes share a page,
// so each note's anchors and the links to them get the slug as a prefix (the
// sanitizer emits exactly these attribute forms). Appends `html` so scoped.
void append_scoped_footnotes(std::string& out, std::string_view html, std::string_view slug);

// Images never wider than the page's column (static/style.css: 42rem).
inline constexpr std::string_view kPhotoSizes = "(max-width: 42rem) 100vw, 42rem";
// A stored photo's srcset: its variants, then the full size, absolute URLs.
std::string photo_srcset(const Site& site, const notes::NotePhoto& photo);

// The note's canonical absolute URL: SITE_URL/note/<slug>.
std::string note_url(const Site& site, const notes::Note& note);

// A tag's page: SITE_URL/tag/<name, percent-encoded>.
std::string tag_url(const Site& site, const notes::Tag& tag);

}  // namespace starpunk::web
