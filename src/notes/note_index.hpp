// The full-text index of notes: the FTS5 table notes_fts (migration 002), one
// entry per note (rowid = the note's id) holding its slug, title and content.
// This is the only code that reads or writes notes_fts; search/ asks it.
//
// Entries are written in the same transaction as the note's row (create,
// update, settle), for deleted notes too (so a restore needs no reindex), and
// dropped with the row (purge; the table's trigger). rebuild() recreates the
// whole index from the note files.
//
// Contract: nothing throws; every method returns a Result (io: the database
// failed). Without FTS5 or without notes_fts, available() is false and the
// other reads fail with unsupported. Thread-safe like NotesService.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "notes/notes_service.hpp"

namespace starpunk::notes {

struct IndexMatch {
    int64_t id = 0;
    double score = 0;  // bm25 with title weighted 10, content 1: lower is better
};

struct IndexedNote {
    Note note;
    std::string title;           // note_title() of the indexed content
    std::string content_prefix;  // the first `prefix_chars` characters of the content
};

struct IndexRebuildReport {
    int64_t indexed = 0;
    std::vector<std::string> failed;  // "slug: why" for notes whose file could not be read (left out)
};

class NoteIndex {
public:
    NoteIndex(std::shared_ptr<storage::ConnectionPool> pool, NotesService& notes)
        : pool_(std::move(pool)), notes_(notes) {}

    // FTS5 is compiled in and notes_fts exists.
    Result<bool> available() const;
    // Notes exist but the index holds no entry at all (a database from before
    // FTS5, or restored without it).
    Result<bool> needs_rebuild() const;

    // Notes whose entry matches the FTS5 expression, not deleted, published
    // unless include_drafts; the most recently added (highest rowid) first, at
    // most `limit` — FTS5 walks matches in rowid order, so the cost is bounded
    // by `limit`, not by how many notes match.
    Result<std::vector<IndexMatch>> matches(std::string_view fts_expression, bool include_drafts, int64_t limit) const;
    // The note and its indexed title and content prefix; nullopt when it no
    // longer exists, is deleted, or is a draft and !include_drafts.
    Result<std::optional<IndexedNote>> entry(int64_t id, bool include_drafts, std::size_t prefix_chars) const;

    // Rebuilds notes_fts from the note files (every note with a row, deleted
    // ones included) in one transaction: readers see the old index until it
    // commits. Files that cannot be read or fail their hash are left out and
    // listed. progress(done, total) after each note. Publishes a change.
    using Progress = std::function<void(std::size_t done, std::size_t total)>;
    Result<IndexRebuildReport> rebuild(const Progress& progress = {});

    // Writes (replaces) a note's entry inside the caller's transaction on `c`;
    // nothing when FTS5 is not compiled in. For NotesService's writes.
    static Status write(storage::Connection& c, const Note& note, std::string_view content);

private:
    std::shared_ptr<storage::ConnectionPool> pool_;
    NotesService& notes_;
};

}  // namespace starpunk::notes
