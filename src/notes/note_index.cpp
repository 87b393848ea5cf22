#include "notes/note_index.hpp"

#include <fmt/format.h>

#include "notes/note_rows.hpp"
#include "notes/note_text.hpp"
#include "storage/migrations.hpp"

namespace starpunk::notes {

using storage::Connection;

namespace {

Error no_index() { return make_error(ErrorCode::unsupported, "there is no search index (SQLite without FTS5)"); }

// A new entry; the note must have none.
Status insert_entry(Connection& c, const Note& n, std::string_view content) {
    auto ins = c.prepare("INSERT INTO notes_fts (rowid, slug, title, content) VALUES (?1, ?2, ?3, ?4)");
    if (!ins) return std::move(ins).error();
    return (*ins)->bind(1, n.id).bind(2, n.slug).bind(3, note_title(content)).bind(4, content).run();
}

}  // namespace

Status NoteIndex::write(Connection& c, const Note& n, std::string_view content) {
    if (!storage::fts5_available()) return {};
    auto del = c.prepare("DELETE FROM notes_fts WHERE rowid = ?1");
    if (!del) return std::move(del).error();
    if (auto st = (*del)->bind(1, n.id).run(); !st) return st;
    return insert_entry(c, n, content);
}

Result<bool> NoteIndex::available() const {
    if (!storage::fts5_available()) return false;
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    return storage::table_exists(**lease, "notes_fts");
}

Result<bool> NoteIndex::needs_rebuild() const {
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto stmt = (*lease)->prepare("SELECT EXISTS (SELECT 1 FROM notes), EXISTS (SELECT 1 FROM notes_fts)");
    if (!stmt) return std::move(stmt).error();
    auto row = (*stmt)->step();
    if (!row) return std::move(row).error();
    const bool needed = *row && (*stmt)->integer(0) != 0 && (*stmt)->integer(1) == 0;
    (*stmt)->reset();
    return needed;
}

Result<std::vector<IndexMatch>> NoteIndex::matches(std::string_view fts_expression, bool include_drafts,
                                                   int64_t limit) const {
    if (!storage::fts5_available()) return no_index();
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    // CROSS JOIN keeps notes_fts the outer loop, so FTS5 walks matches in
    // rowid order and the LIMIT stops the walk (no sort of all matches).
    auto stmt = (*lease)->prepare(
        "SELECT n.id, bm25(notes_fts, 0, 10.0, 1.0) FROM notes_fts CROSS JOIN notes n ON n.id = notes_fts.rowid "
        "WHERE notes_fts MATCH ?1 AND n.deleted_at IS NULL AND (?2 OR n.published = 1) "
        "ORDER BY notes_fts.rowid DESC LIMIT ?3");
    if (!stmt) return std::move(stmt).error();
    (*stmt)->bind(1, fts_expression).bind(2, include_drafts ? 1 : 0).bind(3, limit);
    std::vector<IndexMatch> out;
    auto rows = (*stmt)->each_row([&](const storage::Statement& r) { out.push_back({r.integer(0), r.real(1)}); });
    if (!rows) return std::move(rows).error();
    return out;
}

Result<std::optional<IndexedNote>> NoteIndex::entry(int64_t id, bool include_drafts, std::size_t prefix_chars) const {
    if (!storage::fts5_available()) return no_index();
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto stmt = (*lease)->prepare(fmt::format(
        "SELECT {}, f.title, substr(f.content, 1, ?3) FROM notes n, notes_fts f "
        "WHERE n.id = ?1 AND f.rowid = ?1 AND n.deleted_at IS NULL AND (?2 OR n.published = 1)",
        kNoteColumns));
    if (!stmt) return std::move(stmt).error();
    (*stmt)->bind(1, id).bind(2, include_drafts ? 1 : 0).bind(3, static_cast<int64_t>(prefix_chars));
    auto row = (*stmt)->step();
    if (!row) return std::move(row).error();
    if (!*row) return std::optional<IndexedNote>();
    IndexedNote out{read_note(**stmt), (*stmt)->text(10), (*stmt)->text(11)};
    (*stmt)->reset();
    return std::optional<IndexedNote>(std::move(out));
}

Result<IndexRebuildReport> NoteIndex::rebuild(const Progress& progress) {
    if (!storage::fts5_available()) return no_index();
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    Connection& c = **lease;
    auto tx = storage::Transaction::begin(c);
    if (!tx) return std::move(tx).error();

    // Dropping and re-creating the table (from its own stored definition) is
    // several times faster than deleting 100,000 entries one by one.
    std::string create_sql;
    {
        auto stmt = c.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'notes_fts'");
        if (!stmt) return std::move(stmt).error();
        auto row = (*stmt)->step();
        if (!row) return std::move(row).error();
        if (!*row) return make_error(ErrorCode::io, "the notes_fts table is missing");
        create_sql = (*stmt)->text(0);
        (*stmt)->reset();
    }
    if (auto st = c.exec("DROP TABLE notes_fts"); !st) return std::move(st).error();
    if (auto st = c.exec(create_sql); !st) return std::move(st).error();

    auto stmt = c.prepare(fmt::format("SELECT {} FROM notes n ORDER BY n.id", kNoteColumns));
    if (!stmt) return std::move(stmt).error();
    auto read = read_notes(**stmt);
    if (!read) return std::move(read).error();
    const std::vector<Note> all = std::move(*read);
    IndexRebuildReport report;
    std::size_t done = 0;
    for (const auto& n : all) {
        auto content = notes_.read_content(n);
        if (content) {
            if (auto st = insert_entry(c, n, *content); !st) return std::move(st).error();
            ++report.indexed;
        } else {
            report.failed.push_back(n.slug + ": " + content.error().message);
        }
        if (progress) progress(++done, all.size());
    }
    // One b-tree per term instead of many small segments: faster queries.
    if (auto st = c.exec("INSERT INTO notes_fts (notes_fts) VALUES ('optimize')"); !st) return std::move(st).error();
    if (auto st = tx->commit(); !st) return std::move(st).error();
    notes_.changes().publish();
    return report;
}

}  // namespace starpunk::notes
