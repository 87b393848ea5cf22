// A stored note seen as a Micropub post, and Micropub updates applied to it
// (SPEC §5.2, issue 10). One mapping in each direction, so q=source and
// action=update agree on what the properties of a note are:
//
//   name       the leading heading's text (notes::leading_heading), if any
//   content    the note without that heading's lines (leading blank lines
//              dropped), exactly as stored: Markdown, or the <div> block an
//              HTML create stored
//   category   the note's tags (display names, in order)
//   post-status published | draft;  published  created_at (RFC 3339)
//   url        SITE_URL/note/<slug>
//
//   summary    the note's summary (one line of plain text), when it has one
//   photo      the note's photos in order: the absolute URL (SITE_URL + the
//              /media/ path for stored images), or {"value": url, "alt": text}
//              when the photo has alt text
//
// Updates (JSON only, as the Micropub spec requires) are replace / add /
// delete operations whose values are arrays. Supported properties: content,
// name, summary, category, post-status, published, photo (values: URLs or
// {"value", "alt"}; delete by URL; a photo kept keeps its stored image; a new
// URL is checked like on create and left without a media id, for
// MicropubService to link if it is on this site's /media/); other properties are
// ignored, as on create. The note is rebuilt only from what changed: an update
// of categories or status leaves the file untouched; a new content under an
// unchanged name keeps the heading's original source lines.
// Pure functions; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "micropub/request.hpp"
#include "notes/notes_service.hpp"
#include "util/result.hpp"

namespace starpunk::micropub {

struct StoredPost {
    notes::Note note;
    std::string content;                 // the file's content
    std::vector<notes::Tag> tags;
    std::vector<notes::NotePhoto> photos;
};

// The mf2 properties of a stored post (q=source): {"content": [...], ...}.
nlohmann::json post_properties(const StoredPost& post, std::string_view site_url);

// The change an update asks for. Errors: invalid_input (a single-valued
// property given two values or added to, an unusable post-status or
// published, a result without content).
Result<notes::NoteChange> build_update(const StoredPost& post, const UpdateOps& ops, std::string_view site_url);

// The slug of SITE_URL/note/<slug>; nullopt for any other URL.
std::optional<std::string> slug_of_url(std::string_view url, std::string_view site_url);

}  // namespace starpunk::micropub
