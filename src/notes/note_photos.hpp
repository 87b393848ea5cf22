// Photos on notes (issue 14, part 2). A note has zero or more photos, in
// order, each with alt text:
//   * a stored image — an upload media/ processed and keeps (media_id set;
//     url is its site path, "/media/YYYY/MM/<hash>.<ext>");
//   * an external image — an absolute http(s) URL a Micropub client gave
//     (media_id unset). It is linked, never fetched by the server.
//
// Table (migration 013, owned by notes/): note_photos(note_id, position,
// media_id NULL, url, alt). NotesService writes a note's photos in the same
// transaction as its row (create, update with NoteChange::photos) and
// publishes NoteChanges, so no cache serves a note with stale photos. Reads
// (NotesService::photos_of) join the `media` and `media_variants` rows that
// media/ owns, read-only, to give each stored photo its type, size and
// srcset variants; media rows never change once written (content-addressed).
//
// Invariants checked by validate_photos() before anything is written:
//   1. exactly one kind per photo: media_id with a "/media/" site path, or no
//      media_id with an http:// or https:// URL (no other scheme, no
//      whitespace, control characters or characters RFC 3986 never allows
//      unencoded: " < > \ ^ ` { | });
//   2. at most kMaxPhotosPerNote photos; alt at most kPhotoAltMaxChars
//      characters (cut at a character boundary), control characters removed.
// Pure functions here; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace starpunk::notes {

inline constexpr std::size_t kMaxPhotosPerNote = 20;
inline constexpr std::size_t kPhotoAltMaxChars = 1000;
inline constexpr std::size_t kPhotoUrlMaxBytes = 2048;

// A photo as a writer gives it.
struct NewPhoto {
    std::optional<std::int64_t> media_id;  // a stored image (media/)
    std::string url;                       // "/media/…" for a stored image, else http(s)://…
    std::string alt;
    bool operator==(const NewPhoto&) const = default;
};

// A narrower copy of a stored photo (srcset).
struct PhotoVariant {
    std::string url;  // site path "/media/…"
    int width = 0;
    int height = 0;
};

// A photo as read back.
struct NotePhoto {
    std::optional<std::int64_t> media_id;
    std::string url;  // site path for stored images, absolute URL for external ones
    std::string alt;
    // Stored images only (from the media row): type, dimensions, bytes of the
    // full-size file, and its narrower variants by increasing width.
    std::string type;
    int width = 0;
    int height = 0;
    std::uint64_t bytes = 0;
    std::vector<PhotoVariant> variants;

    bool stored() const { return media_id.has_value(); }
};

// True for an absolute http:// or https:// URL with a host, at most
// kPhotoUrlMaxBytes, without whitespace, control or unsafe characters
// (invariant 1).
bool is_external_photo_url(std::string_view url);

// The photos, checked and tidied (invariants 1 and 2); invalid_input naming
// the first bad photo otherwise.
Result<std::vector<NewPhoto>> validate_photos(std::vector<NewPhoto> photos);

}  // namespace starpunk::notes
