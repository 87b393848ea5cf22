// The one reader of `notes` rows (internal to notes/): every query that
// returns notes selects kNoteColumns and maps the row with read_note().
#pragma once

#include <string_view>
#include <vector>

#include "notes/notes_service.hpp"
#include "storage/sqlite.hpp"

namespace starpunk::notes {

inline constexpr std::string_view kNoteColumns =
    "n.id, n.slug, n.file_path, n.published, n.created_at, n.updated_at, n.deleted_at, n.content_hash, "
    "n.pending_hash, n.summary";

// Maps kNoteColumns, starting at column `first`, of the current row (the
// table aliased as `n`).
Note read_note(const storage::Statement& s, int first = 0);

// Every remaining row of a statement that selects kNoteColumns first.
Result<std::vector<Note>> read_notes(storage::Statement& s);

}  // namespace starpunk::notes
