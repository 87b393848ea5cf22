// Micropub request bodies (SPEC §5.2): the three encodings of a POST turned
// into one shape, and a create turned into the note it asks for.
//
// parse_post() reads
//   * application/x-www-form-urlencoded and multipart/form-data: `h`, `action`,
//     `url`, `access_token` are envelope fields; every other field is a
//     property. `name[]` and `name` both append to property `name`;
//     `content[html]` is HTML content; any other `a[b]` (nested objects in
//     form syntax) is ignored. Multipart file parts are ignored (there is no
//     media endpoint yet) and counted.
//   * application/json (or +json): `{"type": ["h-entry"], "properties": {…}}`
//     or `{"action": …, "url": …}`. Property values are arrays (a bare scalar
//     is taken as a one-element array, leniently); each element is a string
//     (text), `{"html": …}` (HTML; wins over a `value` beside it) or
//     `{"value": …}` (text). Nested mf2 objects (`{"type": […], …}`), numbers,
//     booleans and nulls are ignored, never fatal.
// Errors: invalid_input (malformed body, wrong type, type other than h-entry,
// unsupported Content-Type), too_large (a multipart/form field over its
// limit). Never throws.
//
// build_create() validates a create and produces the notes::NewNote:
//   * body = content, else summary, else name (the first non-blank value of
//     each; HTML values are sanitised first). None -> invalid_input.
//   * HTML (`{"html": …}`, `content[html]`) passes render::sanitize_html before
//     storage, is made blank-line-free (a blank line would end cmark's raw
//     HTML block; such newlines become `&#10;`, which renders identically) and
//     is wrapped in <div>…</div>, so the stored note is one raw HTML block that
//     Markdown rendering passes through untouched. Markdown/plain text is
//     stored exactly as sent.
//   * a non-blank `name` with a content/summary body that does not already
//     start with it becomes a leading "# name" heading (Markdown-escaped), so
//     it is the note's title and p-name; when the body *is* the name it is
//     stored as plain text.
//   * post-status: published (default) | draft; anything else -> invalid_input
//     (a client asking for a status we do not know must not publish).
//     visibility: public (default) | unlisted | private; the last two store a
//     draft (visible only to the admin) rather than publishing; anything else
//     -> invalid_input.
//   * published: parse_timestamp() forms (ISO 8601 / RFC 3339 date-time with
//     Z or an offset, or a date) -> created_at; unparseable -> invalid_input
//     naming the value.
//   * mp-slug -> custom slug with CustomSlugPolicy::fall_back (an unusable slug
//     never fails the create).
//   * category values are returned but not stored (no tags table yet).
// Pure functions; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "notes/notes_service.hpp"
#include "util/result.hpp"

namespace starpunk::micropub {

struct Value {
    std::string text;   // for html values: the HTML as sent (not yet sanitised)
    bool html = false;
};

struct PostRequest {
    std::optional<std::string> action;        // "update", "delete", …: not a create
    std::optional<std::string> url;           // the action's target
    std::map<std::string, std::vector<Value>, std::less<>> properties;
    std::optional<std::string> access_token;  // form field; never a property
    std::size_t ignored_files = 0;            // multipart file parts dropped

    // First value of a property, if any.
    const Value* first(std::string_view property) const;
};

Result<PostRequest> parse_post(std::string_view content_type_header, std::string_view body);

struct CreateRequest {
    notes::NewNote note;
    std::vector<std::string> categories;  // accepted, not stored (no tags table yet)
    bool private_visibility = false;      // visibility unlisted/private stored as a draft
};

Result<CreateRequest> build_create(const PostRequest& request);

// HTML as the note body: sanitised, blank lines removed, one <div> block.
// Empty when nothing survives sanitising.
std::string html_note_body(std::string_view html);

// `text` as a one-line Markdown ATX heading ("# …") whose rendered text is
// `text` with its whitespace collapsed.
std::string markdown_heading(std::string_view text);

}  // namespace starpunk::micropub
