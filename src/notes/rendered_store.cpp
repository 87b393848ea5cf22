#include "notes/rendered_store.hpp"

#include <fmt/format.h>

#include <string>

#include "notes/note_rows.hpp"
#include "notes/notes_service.hpp"

namespace starpunk::notes {
namespace {

constexpr std::string_view kColumns = "note_id, content_hash, format, title, name, excerpt, html";

}  // namespace

std::optional<RenderedNote> RenderedStore::read_current(const storage::Statement& s, int first, const Note& note) {
    if (s.is_null(first) || s.text(first) != note.content_hash || s.integer(first + 1) != kRenderedFormat) {
        return std::nullopt;
    }
    RenderedNote r;
    r.title = s.text(first + 2);
    r.name = s.optional_text(first + 3);
    r.excerpt = s.text(first + 4);
    r.html = s.text(first + 5);
    return r;
}

Result<std::optional<RenderedNote>> RenderedStore::find(const Note& note) const {
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto stmt = (*lease)->prepare(std::string("SELECT ").append(kColumns).append(" FROM note_html WHERE note_id = ?1"));
    if (!stmt) return std::move(stmt).error();
    storage::Statement& s = **stmt;
    s.bind(1, note.id);
    auto row = s.step();
    std::optional<RenderedNote> found;
    if (row && *row) found = read_current(s, 1, note);
    s.reset();
    if (!row) return std::move(row).error();
    return found;
}

namespace {

// Tags travel in one column, notes.tag_list (packed by migration 016's
// triggers, storage/migrations.cpp): name US display, RS between tags.
// make_tag() turns control characters into spaces, so neither separator can
// occur in a stored tag.
constexpr char kUnit = '\x1f';
constexpr char kRecord = '\x1e';

std::vector<Tag> split_tags(std::string_view packed) {
    std::vector<Tag> tags;
    while (!packed.empty()) {
        const auto end = packed.find(kRecord);
        const std::string_view one = packed.substr(0, end);
        if (const auto unit = one.find(kUnit); unit != std::string_view::npos) {
            tags.push_back(Tag{std::string(one.substr(0, unit)), std::string(one.substr(unit + 1))});
        }
        if (end == std::string_view::npos) break;
        packed.remove_prefix(end + 1);
    }
    return tags;
}

}  // namespace

namespace {

// The columns of for_page() and for_list() after kNoteColumns and the
// rendering's: the tags (16), whether the note has photos (17) — kept on the
// note's row by triggers (migration 016), so a page reads one row.
constexpr std::string_view kPageExtras = "n.tag_list, n.has_photos";

NoteForPage read_for_page(const storage::Statement& s) {
    NoteForPage out;
    out.note = read_note(s);
    out.rendering = RenderedStore::read_current(s, 10, out.note);
    if (!s.is_null(16)) out.tags = split_tags(s.text(16));
    out.has_photos = s.integer(17) != 0;
    return out;
}

}  // namespace

Result<NoteForPage> RenderedStore::for_page(std::string_view slug, bool wait) const {
    auto lease = wait ? pool_->acquire() : pool_->try_acquire();
    if (!lease) return std::move(lease).error();
    static const std::string sql =
        fmt::format("SELECT {}, {}, {} FROM notes n LEFT JOIN note_html h ON h.note_id = n.id WHERE n.slug = ?1",
                    kNoteColumns, kJoinColumns, kPageExtras);
    auto stmt = (*lease)->prepare(sql);
    if (!stmt) return std::move(stmt).error();
    storage::Statement& s = **stmt;
    s.bind(1, slug);
    auto row = s.step();
    if (!row) return std::move(row).error();
    if (!*row) {
        s.reset();
        return make_error(ErrorCode::not_found, "no such note");
    }
    NoteForPage out = read_for_page(s);
    s.reset();
    return out;
}

Result<std::vector<NoteForPage>> RenderedStore::for_list(const std::vector<int64_t>& ids, bool wait) const {
    std::vector<NoteForPage> out;
    if (ids.empty()) return out;
    auto lease = wait ? pool_->acquire() : pool_->try_acquire();
    if (!lease) return std::move(lease).error();
    // json_each keeps one statement text whatever the number of ids (one
    // cached prepared statement); its key is the position in the list.
    static const std::string sql = fmt::format(
        "SELECT {}, {}, {} FROM json_each(?1) j JOIN notes n ON n.id = j.value "
        "LEFT JOIN note_html h ON h.note_id = n.id ORDER BY j.key",
        kNoteColumns, kJoinColumns, kPageExtras);
    auto stmt = (*lease)->prepare(sql);
    if (!stmt) return std::move(stmt).error();
    storage::Statement& s = **stmt;
    std::string json = "[";
    for (int64_t id : ids) {
        if (json.size() > 1) json.push_back(',');
        json += std::to_string(id);
    }
    json.push_back(']');
    s.bind(1, json);
    out.reserve(ids.size());
    if (auto st = s.each_row([&](const storage::Statement& r) { out.push_back(read_for_page(r)); }); !st) {
        return std::move(st).error();
    }
    return out;
}

Result<std::unordered_map<int64_t, RenderedNote>> RenderedStore::find_many(const std::vector<Note>& notes) const {
    std::unordered_map<int64_t, RenderedNote> found;
    if (notes.empty()) return found;
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    std::unordered_map<int64_t, const Note*> by_id;
    constexpr std::size_t kChunk = 64;  // bound parameters per statement (a page holds fewer)
    for (std::size_t first = 0; first < notes.size(); first += kChunk) {
        const std::size_t count = std::min(kChunk, notes.size() - first);
        std::string sql = std::string("SELECT ").append(kColumns).append(" FROM note_html WHERE note_id IN (?1");
        for (std::size_t i = 2; i <= count; ++i) sql.append(", ?").append(std::to_string(i));
        sql.append(")");
        auto stmt = (*lease)->prepare(sql);
        if (!stmt) return std::move(stmt).error();
        storage::Statement& s = **stmt;
        for (std::size_t i = 0; i < count; ++i) {
            const Note& n = notes[first + i];
            by_id[n.id] = &n;
            s.bind(static_cast<int>(i + 1), n.id);
        }
        auto st = s.each_row([&](const storage::Statement& r) {
            if (auto it = by_id.find(r.integer(0)); it != by_id.end()) {
                if (auto rendered = read_current(r, 1, *it->second)) found.emplace(it->first, std::move(*rendered));
            }
        });
        if (!st) return std::move(st).error();
    }
    return found;
}

Status RenderedStore::write(storage::Connection& c, int64_t note_id, std::string_view content_hash,
                            const RenderedNote& rendered) {
    if (rendered.degraded) {  // invariant 3: forget any older copy instead
        auto stmt = c.prepare("DELETE FROM note_html WHERE note_id = ?1");
        if (!stmt) return std::move(stmt).error();
        return (*stmt)->bind(1, note_id).run();
    }
    auto stmt = c.prepare(std::string("INSERT OR REPLACE INTO note_html (")
                              .append(kColumns)
                              .append(") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    if (!stmt) return std::move(stmt).error();
    return (*stmt)
        ->bind(1, note_id)
        .bind(2, content_hash)
        .bind(3, kRenderedFormat)
        .bind(4, rendered.title)
        .bind_optional(5, rendered.name)
        .bind(6, rendered.excerpt)
        .bind(7, rendered.html)
        .run();
}

Result<std::vector<Note>> RenderedStore::stale(int64_t after_id, std::size_t limit) const {
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto stmt = (*lease)->prepare(fmt::format(
        "SELECT {} FROM notes n LEFT JOIN note_html h ON h.note_id = n.id WHERE n.id > ?1 AND "
        "(h.note_id IS NULL OR h.content_hash != n.content_hash OR h.format != ?2) ORDER BY n.id LIMIT ?3",
        kNoteColumns));
    if (!stmt) return std::move(stmt).error();
    (*stmt)->bind(1, after_id).bind(2, kRenderedFormat).bind(3, static_cast<int64_t>(limit));
    return read_notes(**stmt);
}

Status RenderedStore::put_many(const std::vector<std::pair<Note, RenderedNote>>& renderings) const {
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    storage::Connection& c = **lease;
    auto tx = storage::Transaction::begin(c);
    if (!tx) return std::move(tx).error();
    // Only a rendering of the note's current content (an edit may have landed
    // since it was read): the EXISTS makes the check and the write one statement.
    auto stmt = c.prepare(std::string("INSERT OR REPLACE INTO note_html (")
                              .append(kColumns)
                              .append(") SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE EXISTS "
                                      "(SELECT 1 FROM notes WHERE id = ?1 AND content_hash = ?2)"));
    if (!stmt) return std::move(stmt).error();
    for (const auto& [note, rendered] : renderings) {
        if (rendered.degraded) continue;
        auto st = (*stmt)
                      ->bind(1, note.id)
                      .bind(2, note.content_hash)
                      .bind(3, kRenderedFormat)
                      .bind(4, rendered.title)
                      .bind_optional(5, rendered.name)
                      .bind(6, rendered.excerpt)
                      .bind(7, rendered.html)
                      .run();
        if (!st) return st;
    }
    return tx->commit();
}

}  // namespace starpunk::notes
