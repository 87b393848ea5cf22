// A paged h-feed of notes (templates/home.mustache): the home page and each
// tag's page. 20 notes a page, ?page=N, kept in the page cache (the notes
// change notification empties it), 404 past the last page.
#pragma once

#include <functional>
#include <string>

#include "http/request.hpp"
#include "http/response.hpp"
#include "notes/notes_service.hpp"
#include "web/site.hpp"

namespace starpunk::web {

inline constexpr int64_t kNotesPerPage = 20;

struct NoteListSpec {
    std::string cache_key;   // unique per list; the page number is appended
    std::string path;        // the list's path ("/", "/tag/x"): page links are path?page=N
    std::string feed_title;  // the h-feed's p-name
    std::string page_title;  // <title> part; empty on the home page
    bool tag_page = false;
    // One page of the list (limit, offset).
    std::function<Result<notes::NotePage>(int64_t limit, int64_t offset)> load;
};

// ?page=N of the request -> N (1 when absent); nullopt when malformed.
std::optional<int64_t> requested_page(const http::Request& req);

// The cache key of page `page` of a list.
std::string note_list_key(std::string_view list_key, int64_t page);

// The page, from the cache or built (and cached). `empty_is_404`: a list with
// no notes at all answers 404 (a tag nobody sees).
http::Response note_list_page(const Site& site, const http::Request& req, int64_t page, const NoteListSpec& spec,
                              bool empty_is_404 = false);

}  // namespace starpunk::web
