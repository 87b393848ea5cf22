// Micropub request bodies (SPEC §5.2): the three encodings of a POST turned
// into one shape, and a create turned into the note it asks for.
//
// parse_post() reads
//   * application/x-www-form-urlencoded and multipart/form-data: `h`, `action`,
//     `url`, `access_token` are envelope fields; every other field is a
//     property. `name[]` and `name` both append to property `name`;
//     `content[html]` is HTML content; any other `a[b]` (nested objects in
//     form syntax) is ignored. Multipart file parts are ignored and counted
//     by parse_post(); parse_post_spooled() keeps the `photo` / `photo[]`
//     file parts (uploaded photos, in order) and counts the others.
//   * application/json (or +json): `{"type": ["h-entry"], "properties": {…}}`
//     or `{"action": …, "url": …}`; an update's `replace`/`add`/`delete`
//     operations are parsed strictly: objects (delete: an array of names or
//     an object) whose values are arrays, at least one operation, else
//     invalid_input naming the malformed part. Property values are arrays (a bare scalar
//     is taken as a one-element array, leniently); each element is a string
//     (text), `{"html": …}` (HTML; wins over a `value` beside it) or
//     `{"value": …}` (text; a string `alt` beside it is kept, for photos). Nested mf2 objects (`{"type": […], …}`), numbers,
//     booleans and nulls are ignored, never fatal.
// Errors: invalid_input (malformed body, wrong type, type other than h-entry,
// unsupported Content-Type), too_large (a multipart/form field over its
// limit). Never throws.
//
// build_create() validates a create and produces the notes::NewNote:
//   * body = content, else summary, else name (the first non-blank value of
//     each; HTML values are sanitised first). None -> invalid_input. A
//     summary sent beside content is kept as NewNote::summary (one line of
//     plain text).
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
//   * category values become the note's tags (notes/note_tags.hpp).
//   * photo values (a URL string, or {"value": url, "alt": text}) become
//     NewPhotos without a media id, in order: http(s) URLs only (anything
//     else -> invalid_input). MicropubService links URLs on this site's
//     /media/ to their stored image and keeps others as external URLs; it
//     never fetches them. Uploaded photo files are not part of this step.
// Pure functions; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/multipart.hpp"
#include "notes/notes_service.hpp"
#include "util/result.hpp"

namespace starpunk::micropub {

struct Value {
    std::string text;   // for html values: the HTML as sent (not yet sanitised)
    bool html = false;
    std::string alt;    // JSON {"value": …, "alt": …} (photos); empty when none
};

// The operations of an update (micropub/post_model.hpp).
struct UpdateOps {
    std::map<std::string, std::vector<Value>, std::less<>> replace;
    std::map<std::string, std::vector<Value>, std::less<>> add;
    std::vector<std::string> remove;                                        // delete: ["category"]
    std::map<std::string, std::vector<Value>, std::less<>> remove_values;  // delete: {"category": ["x"]}
};

struct PostRequest {
    std::optional<std::string> action;        // "update", "delete", …: not a create
    std::optional<UpdateOps> update;          // a JSON update's operations
    std::optional<std::string> url;           // the action's target
    std::map<std::string, std::vector<Value>, std::less<>> properties;
    std::optional<std::string> access_token;  // form field; never a property
    std::size_t ignored_files = 0;            // multipart file parts dropped
    std::vector<http::SpooledFile> photo_files;  // parse_post_spooled: `photo` / `photo[]` files, in order
    std::vector<std::string> photo_file_alts;    // `mp-photo-alt` / `mp-photo-alt[]`: alt of each, by index

    // First value of a property, if any.
    const Value* first(std::string_view property) const;
};

Result<PostRequest> parse_post(std::string_view content_type_header, std::string_view body);
// A multipart body already split by http::parse_multipart_file: its fields as
// parse_post reads them, plus the photo files (non-empty `photo` / `photo[]`
// file parts) and their alt texts.
Result<PostRequest> parse_post_spooled(http::SpooledForm form);

struct CreateRequest {
    notes::NewNote note;               // categories in note.tags
    bool private_visibility = false;   // visibility unlisted/private stored as a draft
};

Result<CreateRequest> build_create(const PostRequest& request);

// The pieces build_create() is made of, shared with updates
// (micropub/post_model.hpp):
// The first non-blank value as a note body (HTML values: html_note_body).
std::optional<std::string> first_body(const std::vector<Value>& values);
// The first non-blank plain-text value on one line ("" when none).
std::string first_plain_line(const std::vector<Value>& values);
// `body` under a "# name" heading, unless the name is empty or the body
// already starts with it.
std::string with_name(std::string_view name, std::string body);
// post-status: published -> true, draft -> false, else invalid_input.
Result<bool> parse_post_status(const Value& status);
// published: a date-time (parse_timestamp forms), else invalid_input.
Result<Timestamp> parse_published(const Value& published);
// Non-blank plain-text category values, trimmed.
std::vector<std::string> category_texts(const std::vector<Value>& values);
// Non-blank photo values as photos without a media id (url trimmed, alt as
// given), in order; invalid_input for a value that is not an http(s) URL.
Result<std::vector<notes::NewPhoto>> photo_urls(const std::vector<Value>& values);

// HTML as the note body: sanitised, blank lines removed, one <div> block.
// Empty when nothing survives sanitising.
std::string html_note_body(std::string_view html);

// `text` as a one-line Markdown ATX heading ("# …") whose rendered text is
// `text` with its whitespace collapsed.
std::string markdown_heading(std::string_view text);

}  // namespace starpunk::micropub
