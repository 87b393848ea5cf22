// Categories as tags (SPEC §5.2, issue 10). A tag has a display name — the
// spelling first written, trimmed, whitespace collapsed — and a normalised
// name used for matching and URLs (/tag/<name>): the display name case-folded
// (Unicode), with whitespace and '/' turned into '-'. "IndieWeb", "indieweb"
// and " INDIEWEB " are one tag; its display name stays "IndieWeb" if that was
// written first.
//
// Tables (migration 006): tags(id, name UNIQUE, display_name) and
// note_tags(note_id, tag_id, position). NotesService writes a note's tags in
// the same transaction as its row; the reads are NotesService methods.
// Pure functions here; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace starpunk::notes {

inline constexpr std::size_t kTagMaxChars = 64;      // longer display names are cut (at a character)
inline constexpr std::size_t kMaxTagsPerNote = 50;   // further categories are dropped

struct Tag {
    std::string name;     // normalised: matching and URLs
    std::string display;  // as written (first spelling)
    bool operator==(const Tag&) const = default;
};

// The tag for a category as written; nullopt when nothing visible remains
// (blank, only control characters or separators).
std::optional<Tag> make_tag(std::string_view written);

// Tags for a list of categories as written: blanks dropped, duplicates (by
// name) dropped keeping the first spelling and position, at most
// kMaxTagsPerNote.
std::vector<Tag> make_tags(const std::vector<std::string>& written);

}  // namespace starpunk::notes
