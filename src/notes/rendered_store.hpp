// Rendered notes kept in the database (table note_html, migration 012), so a
// page or feed never runs Markdown for a note that was rendered once — not
// after a restart, not when the memory cache (notes/note_renderer.hpp) has let
// it go.
//
// Invariants:
//   1. A row is a derived copy: it is used only while its content_hash and
//      format equal the note's current content_hash and kRenderedFormat, so a
//      stale or foreign row can cost a render, never show wrong content.
//   2. Writes through NotesService store the note's rendering in the same
//     transaction as its row (the write gate rendered it anyway). Notes
//     written without a renderer (command-line tools) or rendered by an older
//     format are found by stale() and stored by the server's start-up pass
//     (NoteRenderer::store_missing); reads never write (a write here is a
//     commit other processes' change probes see, which would empty every
//     cache on every read).
//   3. Degraded renderings (over budget, shown as text) are never stored:
//      after a restart such a note gets one more bounded attempt.
//   4. The row goes with the note's row (trigger note_html_purge).
// Thread-safe: each call takes its own pooled connection.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "notes/note_tags.hpp"
#include "notes/notes_service.hpp"
#include "notes/rendered_note.hpp"
#include "storage/pool.hpp"
#include "storage/sqlite.hpp"
#include "util/result.hpp"

namespace starpunk::notes {

// What a permalink shows, read at once (RenderedStore::for_page).
struct NoteForPage {
    Note note;
    std::vector<Tag> tags;
    std::optional<RenderedNote> rendering;  // nullopt: not stored, or stale
    // Whether the note has photos (NotesService::photos_of reads them; most
    // notes have none, so the permalink does not join them in).
    bool has_photos = false;
};

class RenderedStore {
public:
    explicit RenderedStore(std::shared_ptr<storage::ConnectionPool> pool) : pool_(std::move(pool)) {}

    // The stored rendering of this version of the note, if there is one.
    Result<std::optional<RenderedNote>> find(const Note& note) const;
    // The note with this slug (deleted notes included), its tags in order and
    // its stored rendering when current — one statement, one read transaction
    // (permalinks: three round trips cost most of a page that is not cached).
    // not_found when no note has the slug. Without `wait`, busy instead of
    // waiting when no pooled connection is idle (ConnectionPool::try_acquire).
    Result<NoteForPage> for_page(std::string_view slug, bool wait = true) const;
    // The same for the notes with these ids, in the order given (list pages),
    // one statement: notes that no longer exist are left out. Photos are not
    // read (has_photos says whether there are any).
    Result<std::vector<NoteForPage>> for_list(const std::vector<int64_t>& ids, bool wait = true) const;
    // Stored renderings of several notes at once (one query): note id -> rendering,
    // only for notes whose stored copy is current.
    Result<std::unordered_map<int64_t, RenderedNote>> find_many(const std::vector<Note>& notes) const;
    // Notes after `after_id` (by id, at most `limit`) whose stored rendering is
    // missing or not current.
    Result<std::vector<Note>> stale(int64_t after_id, std::size_t limit) const;
    // Stores each rendering as that of its note's content, in one transaction,
    // unless the note's content has changed meanwhile (then that one is
    // skipped). Degraded ones are not stored (invariant 3).
    Status put_many(const std::vector<std::pair<Note, RenderedNote>>& renderings) const;

    // The columns read_current() maps, in its order, for queries that join
    // note_html to notes (alias h): NotesService::get_for_page.
    static constexpr std::string_view kJoinColumns = "h.content_hash, h.format, h.title, h.name, h.excerpt, h.html";
    // The rendering in kJoinColumns' columns from `first` on, when it is that of
    // `note` as it is now (invariant 1); nullopt when absent (NULLs) or stale.
    static std::optional<RenderedNote> read_current(const storage::Statement& s, int first, const Note& note);

    // Replaces the note's rendering inside the caller's transaction on `c`
    // (NotesService's writes).
    static Status write(storage::Connection& c, int64_t note_id, std::string_view content_hash,
                        const RenderedNote& rendered);

private:
    std::shared_ptr<storage::ConnectionPool> pool_;
};

}  // namespace starpunk::notes
