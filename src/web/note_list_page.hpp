// A paged h-feed of notes (templates/home.mustache): the home page and each
// tag's page. 20 notes a page, ?page=N, 404 past the last page.
//
// A list page is assembled from each note's entry (web/note_view.hpp:
// note_entries, kept in the page cache) and the listing's ids (kept in memory
// by notes/): so any page of a list costs the same, whichever it is. Where:
//   * on the I/O thread (note_list_is_cached): when the page itself, or the
//     listing's ids, are in memory: the kept entries, and the missing ones
//     built from one read through an idle pooled connection
//     (note_entries_now; an entry is escaping and concatenation, not the
//     template engine: web/note_entry.hpp) — no worker hop;
//   * on a worker (note_list_page): everything else (the listing not loaded
//     yet, a missing note with photos or not yet rendered, no idle
//     connection); it reads what is missing and keeps it for the next request.
// Both assemble the page the same way, so it is the same bytes whichever
// thread built it. Only page 1 of a list is kept whole in the page cache
// (other pages are assembled again, which keeps the cache's bytes for entries
// that serve every page).
#pragma once

#include <string>

#include "http/request.hpp"
#include "http/response.hpp"
#include "web/site.hpp"

namespace starpunk::web {

inline constexpr int64_t kNotesPerPage = 20;

struct NoteListSpec {
    std::string cache_key;   // unique per list; the page number is appended
    std::string path;        // the list's path ("/", "/tag/x"): page links are path?page=N
    std::string feed_title;  // the h-feed's p-name
    std::string page_title;  // <title> part; empty on the home page
    std::string tag;         // the tag's normalised name; empty: every published note
};

// ?page=N of the request -> N (1 when absent); nullopt when malformed.
std::optional<int64_t> requested_page(const http::Request& req);

// The cache key of page `page` of a list.
std::string note_list_key(std::string_view list_key, int64_t page);

// On the I/O thread: true when the page could be answered from memory (set
// in req.prepared, a CachedPage); false when a worker must build it or
// answer 404 — never touches the database.
bool note_list_is_cached(const Site& site, http::Request& req, int64_t page, const NoteListSpec& spec);

// The page, from memory or built. `empty_is_404`: a list with no notes at all
// answers 404 (a tag nobody sees).
http::Response note_list_page(const Site& site, const http::Request& req, int64_t page, const NoteListSpec& spec,
                              bool empty_is_404 = false);

}  // namespace starpunk::web
