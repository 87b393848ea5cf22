// The note write protocol (SPEC §2.3). A note is a file plus a row.
//
// Invariants, true after a crash (kill -9) at any instant followed by recover():
//   I1. Every row's file exists.
//   I2. Every row's file hashes to the row's content_hash.
//   I3. No final name ever holds a torn file (storage/atomic_write.hpp).
//   I4. A failed write or fsync fails the operation; nothing is retried into a
//       false success.
//
// Create — file first, row second:
//   1. choose the slug (taken = a row with that slug, deleted ones included, or
//      a file already at the target path);
//   2. write the file atomically (temp, fsync, no-replace rename, fsync
//      directory): a create never overwrites an existing file — if another
//      writer got there first, pick another slug;
//   3. insert the row and its search-index entry in one transaction.
//   A crash between 2 and 3 leaves an orphan file: never a row without a file
//   (I1). recover() and `starpunk check` report orphans; nothing deletes them
//   silently. If 3 fails, the file is removed again (compensation); if 2 fails
//   after its rename (the directory's fsync), the helper has removed it.
//
// All writes in this process take one mutex (a single author writes rarely);
// across processes the no-replace rename, the UNIQUE slug and the conditional
// confirm below decide.
//
// Update — announce, write, confirm:
//   1. set pending_hash = hash(new content) and pending_change = the rest of
//      the change (flag, tags, summary, photos, dates, updated_at; JSON) on the
//      row (committed);
//   2. write the file atomically;
//   3. set content_hash = pending_hash, clear pending_hash and pending_change,
//      apply the rest of the change and the index entry, in one transaction —
//      only if pending_hash is still ours.
//   A crash after 1 leaves a row whose file matches either content_hash (step 2
//   never renamed) or pending_hash (it did). settle() — run by recover() at
//   start-up and before the next update — makes content_hash the one that
//   matches and clears pending_hash, so I2 holds; it accepts the new hash only
//   after fsyncing the directory, so the rename it relies on is durable.
//   I5. An update is all or nothing after a crash: settle() drops
//       pending_change with the old file and applies it with the new one, so
//       the new content never stands with the old flag, tags or summary (an
//       unpublish must not leave the new text public).
//   A failed write withdraws the announcement only when the old file is
//   certainly still in place. The failed request still reports its failure
//   (I4). Readers accept either hash while an update is in flight.
//
// Delete is soft (deleted_at); restore clears it. Purge deletes the row first
// (the FTS trigger drops the index entry), then the file: a crash in between
// leaves an orphan file, never a row without a file.
#include "notes/notes_service.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include <set>
#include <unordered_map>
#include <unordered_set>

#include "notes/listing_cache.hpp"
#include "notes/note_index.hpp"
#include "notes/note_rows.hpp"
#include "notes/note_text.hpp"
#include "notes/rendered_store.hpp"
#include "storage/atomic_write.hpp"
#include "storage/migrations.hpp"
#include "util/crypto.hpp"

namespace starpunk::notes {

using storage::Connection;
using storage::Statement;
using storage::Transaction;

namespace {

Result<Note> query_one(Connection& c, std::string_view where, const std::function<void(Statement&)>& bind) {
    auto stmt = c.prepare(fmt::format("SELECT {} FROM notes n WHERE {}", kNoteColumns, where));
    if (!stmt) return std::move(stmt).error();
    bind(**stmt);
    auto row = (*stmt)->step();
    if (!row) return std::move(row).error();
    if (!*row) return make_error(ErrorCode::not_found, "no such note");
    Note n = read_note(**stmt);
    (*stmt)->reset();
    return n;
}

Result<Note> by_id(Connection& c, int64_t id) {
    return query_one(c, "id = ?1", [&](Statement& s) { s.bind(1, id); });
}

// "2026/11/<slug>.md" from created_at (UTC).
std::string relative_path_for(std::string_view slug, Timestamp created_at) {
    using namespace std::chrono;
    year_month_day ymd{floor<days>(created_at)};
    return fmt::format("{:04}/{:02}/{}.md", static_cast<int>(ymd.year()),
                       static_cast<unsigned>(ymd.month()), slug);
}

std::string_view visibility_filter(Visibility visibility) {
    return visibility == Visibility::published ? "n.deleted_at IS NULL AND n.published = 1"
           : visibility == Visibility::all     ? "n.deleted_at IS NULL"
                                               : "n.deleted_at IS NOT NULL";
}

// Replaces a note's tags, inside the caller's transaction.
Status write_tags(Connection& c, int64_t note_id, const std::vector<Tag>& tags) {
    auto clear = c.prepare("DELETE FROM note_tags WHERE note_id = ?1");
    if (!clear) return std::move(clear).error();
    if (auto st = (*clear)->bind(1, note_id).run(); !st) return st;
    if (tags.empty()) return {};
    auto upsert = c.prepare("INSERT INTO tags (name, display_name) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING");
    auto find = c.prepare("SELECT id FROM tags WHERE name = ?1");
    auto link = c.prepare("INSERT INTO note_tags (note_id, tag_id, position) VALUES (?1, ?2, ?3)");
    if (!upsert) return std::move(upsert).error();
    if (!find) return std::move(find).error();
    if (!link) return std::move(link).error();
    int64_t position = 0;
    for (const Tag& t : tags) {
        if (auto st = (*upsert)->bind(1, t.name).bind(2, t.display).run(); !st) return st;
        (*find)->bind(1, t.name);
        auto row = (*find)->step();
        if (!row) return std::move(row).error();
        if (!*row) return make_error(ErrorCode::io, "a tag vanished while it was being saved");
        const int64_t tag_id = (*find)->integer(0);
        (*find)->reset();
        if (auto st = (*link)->bind(1, note_id).bind(2, tag_id).bind(3, position++).run(); !st) return st;
    }
    return {};
}

// Replaces a note's photos, inside the caller's transaction. A media id that
// does not exist fails the foreign key: invalid_input.
Status write_photos(Connection& c, int64_t note_id, const std::vector<NewPhoto>& photos) {
    auto clear = c.prepare("DELETE FROM note_photos WHERE note_id = ?1");
    if (!clear) return std::move(clear).error();
    if (auto st = (*clear)->bind(1, note_id).run(); !st) return st;
    if (photos.empty()) return {};
    auto known = c.prepare("SELECT 1 FROM media WHERE id = ?1");
    auto insert = c.prepare("INSERT INTO note_photos (note_id, position, media_id, url, alt) VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!known) return std::move(known).error();
    if (!insert) return std::move(insert).error();
    int64_t position = 0;
    for (const NewPhoto& p : photos) {
        if (p.media_id) {
            (*known)->bind(1, *p.media_id);
            auto row = (*known)->step();
            (*known)->reset();
            if (!row) return std::move(row).error();
            if (!*row) return make_error(ErrorCode::invalid_input, "a photo names an image that is not stored here");
        }
        Statement& ins = **insert;
        ins.bind(1, note_id).bind(2, position++).bind(4, p.url).bind(5, p.alt);
        if (p.media_id) {
            ins.bind(3, *p.media_id);
        } else {
            ins.bind_null(3);
        }
        if (auto st = ins.run(); !st) return st;
    }
    return {};
}

// Everything an update changes besides the content. update() applies it in
// its confirm step; when content changes it is also stored with the
// announcement (notes.pending_change), so that settle() can finish the whole
// update if a crash comes after the file's rename (I5).
struct MetadataChange {
    Timestamp updated_at{};
    std::optional<bool> published;
    std::optional<Timestamp> created_at;
    std::optional<std::vector<std::string>> tags;         // as written
    std::optional<std::optional<std::string>> summary;    // set, or clear (nullopt inside)
    std::optional<std::vector<NewPhoto>> photos;          // already validated
};

std::string encode_change(const MetadataChange& m) {
    nlohmann::json j;
    j["updated_at"] = format_db_time(m.updated_at);
    if (m.published) j["published"] = *m.published;
    if (m.created_at) j["created_at"] = format_db_time(*m.created_at);
    if (m.tags) j["tags"] = *m.tags;
    if (m.summary) j["summary"] = *m.summary ? nlohmann::json(**m.summary) : nlohmann::json(nullptr);
    if (m.photos) {
        auto photos = nlohmann::json::array();
        for (const NewPhoto& p : *m.photos) {
            photos.push_back({{"media_id", p.media_id ? nlohmann::json(*p.media_id) : nlohmann::json(nullptr)},
                              {"url", p.url},
                              {"alt", p.alt}});
        }
        j["photos"] = std::move(photos);
    }
    return j.dump();
}

// encode_change()'s inverse; an io error for anything else (a damaged row).
Result<MetadataChange> decode_change(std::string_view text) {
    auto damaged = [&] {
        return make_error(ErrorCode::io, "the interrupted update's recorded change (pending_change) is unreadable");
    };
    auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return damaged();
    try {
        MetadataChange m;
        auto updated = parse_timestamp(j.at("updated_at").get<std::string>());
        if (!updated) return damaged();
        m.updated_at = *updated;
        if (j.contains("published")) m.published = j["published"].get<bool>();
        if (j.contains("created_at")) {
            auto created = parse_timestamp(j["created_at"].get<std::string>());
            if (!created) return damaged();
            m.created_at = *created;
        }
        if (j.contains("tags")) m.tags = j["tags"].get<std::vector<std::string>>();
        if (j.contains("summary")) {
            m.summary = j["summary"].is_null() ? std::optional<std::string>()
                                                : std::optional<std::string>(j["summary"].get<std::string>());
        }
        if (j.contains("photos")) {
            std::vector<NewPhoto> photos;
            for (const auto& p : j["photos"]) {
                NewPhoto photo;
                if (!p.at("media_id").is_null()) photo.media_id = p["media_id"].get<std::int64_t>();
                photo.url = p.at("url").get<std::string>();
                photo.alt = p.at("alt").get<std::string>();
                photos.push_back(std::move(photo));
            }
            m.photos = std::move(photos);
        }
        return m;
    } catch (const nlohmann::json::exception&) {
        return damaged();
    }
}

// Applies `m` to note `id`, inside the caller's transaction.
Status apply_change(Connection& c, int64_t id, const MetadataChange& m) {
    const std::optional<std::string> created =
        m.created_at ? std::optional(format_db_time(*m.created_at)) : std::nullopt;
    auto stmt = c.prepare(
        "UPDATE notes SET published = COALESCE(?2, published), updated_at = ?3, created_at = COALESCE(?4, created_at) "
        "WHERE id = ?1");
    if (!stmt) return std::move(stmt).error();
    Statement& s = **stmt;
    s.bind(1, id);
    if (m.published) {
        s.bind(2, *m.published ? 1 : 0);
    } else {
        s.bind_null(2);
    }
    // created_at is written only when it changes (a 1.x row's stored text is
    // kept byte for byte otherwise).
    if (auto st = s.bind(3, format_db_time(m.updated_at)).bind_optional(4, created).run(); !st) return st;
    if (m.tags) {
        if (auto st = write_tags(c, id, make_tags(*m.tags)); !st) return st;
    }
    if (m.photos) {
        if (auto st = write_photos(c, id, *m.photos); !st) return st;
    }
    if (m.summary) {
        auto sum = c.prepare("UPDATE notes SET summary = ?2 WHERE id = ?1");
        if (!sum) return std::move(sum).error();
        if (auto st = (*sum)->bind(1, id).bind_optional(2, *m.summary).run(); !st) return st;
    }
    return {};
}

// "[1,2,3]" for json_each().
template <typename Range, typename Id>
std::string json_ids(const Range& items, Id id) {
    std::string ids = "[";
    for (const auto& item : items) {
        if (ids.size() > 1) ids.push_back(',');
        ids += std::to_string(id(item));
    }
    ids.push_back(']');
    return ids;
}

}  // namespace

Note read_note(const Statement& s, int first) {
    Note n;
    n.id = s.integer(first);
    n.slug = s.text(first + 1);
    n.file_path = s.text(first + 2);
    n.published = s.integer(first + 3) != 0;
    n.created_at = parse_timestamp(s.text(first + 4)).value_or(Timestamp{});
    n.updated_at = parse_timestamp(s.text(first + 5)).value_or(n.created_at);
    if (auto d = s.optional_text(first + 6)) n.deleted_at = parse_timestamp(*d).value_or(Timestamp{});
    n.content_hash = s.optional_text(first + 7).value_or("");
    n.pending_hash = s.optional_text(first + 8);
    n.summary = s.optional_text(first + 9);
    return n;
}

NotesService::NotesService(std::shared_ptr<storage::ConnectionPool> pool, storage::FileSystem& fs, const Clock& clock,
                           Options options)
    : pool_(std::move(pool)),
      fs_(fs),
      clock_(clock),
      options_(std::move(options)),
      changes_(pool_->path(), options_.external_check),
      index_(std::make_unique<NoteIndex>(pool_, *this)),
      rendered_(std::make_unique<RenderedStore>(pool_)),
      listings_(std::make_unique<ListingCache>(changes_)) {
    while (options_.notes_path.size() > 1 && options_.notes_path.back() == '/') options_.notes_path.pop_back();
}

Result<std::vector<Note>> read_notes(Statement& s) {
    std::vector<Note> out;
    auto rows = s.each_row([&](const Statement& r) { out.push_back(read_note(r)); });
    if (!rows) return std::move(rows).error();
    return out;
}

namespace {

// The total and one page (newest first) of the notes "FROM … WHERE …" selects;
// `param`, when given, is bound to ?1.
Result<NotePage> query_page(Connection& c, const std::string& from_where, std::optional<std::string_view> param,
                            int64_t limit, int64_t offset) {
    NotePage page;
    auto count = c.prepare("SELECT COUNT(*) " + from_where);
    if (!count) return std::move(count).error();
    if (param) (*count)->bind(1, *param);
    if (auto row = (*count)->step(); !row) return std::move(row).error();
    page.total = (*count)->integer(0);
    (*count)->reset();
    auto stmt = c.prepare(fmt::format("SELECT {} {} ORDER BY n.created_at DESC, n.id DESC LIMIT ?2 OFFSET ?3",
                                      kNoteColumns, from_where));
    if (!stmt) return std::move(stmt).error();
    if (param) (*stmt)->bind(1, *param);
    (*stmt)->bind(2, std::max<int64_t>(0, limit)).bind(3, std::max<int64_t>(0, offset));
    auto notes = read_notes(**stmt);
    if (!notes) return std::move(notes).error();
    page.notes = std::move(*notes);
    return page;
}

// The ids of the notes `from_where` selects, newest first: a listing for
// ListingCache.
Result<std::vector<int64_t>> query_ids(Connection& c, const std::string& from_where,
                                       std::optional<std::string_view> param) {
    auto stmt = c.prepare("SELECT n.id " + from_where + " ORDER BY n.created_at DESC, n.id DESC");
    if (!stmt) return std::move(stmt).error();
    Statement& s = **stmt;
    if (param) s.bind(1, *param);
    std::vector<int64_t> ids;
    auto rows = s.each_row([&](const Statement& r) { ids.push_back(r.integer(0)); });
    if (!rows) return std::move(rows).error();
    return ids;
}

// Notes [offset, offset + limit) of a listing, in the listing's order. A note
// gone since the listing was read (a purge racing this page) is left out.
Result<NotePage> slice_of(Connection& c, const std::vector<int64_t>& ids, int64_t limit, int64_t offset) {
    NotePage page;
    page.total = static_cast<int64_t>(ids.size());
    offset = std::max<int64_t>(0, offset);
    if (limit <= 0 || offset >= page.total) return page;
    const auto first = ids.begin() + offset;
    const auto last = ids.begin() + std::min<int64_t>(page.total, offset + limit);
    std::string sql = fmt::format("SELECT {} FROM notes n WHERE n.id IN (?1", kNoteColumns);
    for (int i = 2; i <= last - first; ++i) sql += fmt::format(", ?{}", i);
    sql += ")";
    auto stmt = c.prepare(sql);
    if (!stmt) return std::move(stmt).error();
    int index = 1;
    for (auto it = first; it != last; ++it) (*stmt)->bind(index++, *it);
    auto notes = read_notes(**stmt);
    if (!notes) return std::move(notes).error();
    std::unordered_map<int64_t, Note*> by_id;
    for (auto& n : *notes) by_id.emplace(n.id, &n);
    for (auto it = first; it != last; ++it) {
        if (auto found = by_id.find(*it); found != by_id.end()) page.notes.push_back(std::move(*found->second));
    }
    return page;
}

}  // namespace

NotesService::~NotesService() = default;

Result<std::string> NotesService::absolute_path(const Note& note) const {
    std::string_view rel = note.file_path;
    // StarPunk 1.1 may have stored paths relative to DATA_PATH ("notes/2024/…")
    // or absolute under NOTES_PATH; both resolve to the same file.
    if (rel.starts_with(options_.notes_path + "/")) rel.remove_prefix(options_.notes_path.size() + 1);
    if (rel.starts_with("notes/")) rel.remove_prefix(6);
    bool bad = rel.empty() || rel.front() == '/' || rel.find('\0') != std::string_view::npos;
    for (size_t pos = 0; !bad && pos <= rel.size();) {
        size_t slash = rel.find('/', pos);
        std::string_view seg = rel.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
        bad = seg.empty() || seg == "." || seg == "..";
        if (slash == std::string_view::npos) break;
        pos = slash + 1;
    }
    if (bad) {
        return make_error(ErrorCode::invalid_input,
                          fmt::format("note {} has a file path outside the notes directory", note.slug));
    }
    return options_.notes_path + "/" + std::string(rel);
}

Result<std::optional<RenderedNote>> NotesService::validate_content(const std::string& content) const {
    if (content.find_first_not_of(" \t\r\n\f\v") == std::string::npos) {
        return make_error(ErrorCode::invalid_input, "the note is empty; write something first");
    }
    if (content.size() > options_.max_content_bytes) {
        return make_error(ErrorCode::too_large, fmt::format("the note is {} bytes; at most {} bytes are allowed",
                                                            content.size(), options_.max_content_bytes));
    }
    if (!options_.render) return std::optional<RenderedNote>();
    auto rendered = options_.render(content);
    if (!rendered) return std::move(rendered).error();
    return std::optional<RenderedNote>(std::move(rendered.value()));
}

Result<Note> NotesService::create(const NewNote& input) {
    auto rendered = validate_content(input.content);
    if (!rendered) return std::move(rendered).error();
    const std::vector<Tag> tags = make_tags(input.tags);
    auto photos = validate_photos(input.photos);
    if (!photos) return std::move(photos).error();
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    Connection& c = **lease;
    Timestamp created = input.created_at.value_or(clock_.now());

    // Creates in this process take turns (they are rare); across processes the
    // no-replace rename and the UNIQUE slug constraint decide, and the loser
    // picks another slug.
    std::lock_guard write_lock(write_mutex_);
    for (int attempt = 0;; ++attempt) {
        // 1. slug
        auto exists = [&](std::string_view candidate) -> Result<bool> {
            auto stmt = c.prepare("SELECT 1 FROM notes WHERE slug = ?1");
            if (!stmt) return std::move(stmt).error();
            (*stmt)->bind(1, candidate);
            auto row = (*stmt)->step();
            (*stmt)->reset();
            if (!row) return row;
            if (*row) return true;
            return fs_.exists(options_.notes_path + "/" + relative_path_for(candidate, created));
        };
        auto slug = choose_slug(input.custom_slug, input.content, created, exists, input.slug_policy);
        if (!slug) return std::move(slug).error();

        // 2. file (never over an existing one)
        Note n;
        n.slug = slug->slug;
        n.file_path = relative_path_for(n.slug, created);
        n.published = input.published;
        n.created_at = created;
        n.updated_at = created;
        n.content_hash = sha256_hex(input.content);
        n.summary = input.summary;
        std::string abs = options_.notes_path + "/" + n.file_path;
        if (auto st = fs_.create_dirs(storage::parent_dir(abs)); !st) return std::move(st).error();
        auto written = storage::write_file_atomically(fs_, abs, input.content, storage::WriteMode::create_new);
        if (!written) {
            if (written.error().code == ErrorCode::conflict && attempt < 5) continue;  // lost a race for the slug
            return std::move(written).error();
        }

        // 3. row + index
        auto insert = [&]() -> Status {
            auto tx = Transaction::begin(c);
            if (!tx) return std::move(tx).error();
            auto stmt = c.prepare(
                "INSERT INTO notes (slug, file_path, published, created_at, updated_at, content_hash, summary) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
            if (!stmt) return std::move(stmt).error();
            auto st = (*stmt)
                          ->bind(1, n.slug)
                          .bind(2, n.file_path)
                          .bind(3, n.published ? 1 : 0)
                          .bind(4, format_db_time(n.created_at))
                          .bind(5, format_db_time(n.updated_at))
                          .bind(6, n.content_hash)
                          .bind_optional(7, input.summary)
                          .run();
            if (!st) return st;
            n.id = c.last_insert_rowid();
            if (st = NoteIndex::write(c, n, input.content); !st) return st;
            if (*rendered) {
                if (st = RenderedStore::write(c, n.id, n.content_hash, **rendered); !st) return st;
            }
            if (st = write_tags(c, n.id, tags); !st) return st;
            if (st = write_photos(c, n.id, *photos); !st) return st;
            return tx->commit();
        };
        if (auto st = insert(); !st) {
            if (auto rm = fs_.remove(abs); !rm) {
                spdlog::error("could not remove {} after a failed insert: {}", n.file_path, rm.error().message);
            }
            if (st.error().code == ErrorCode::conflict && attempt < 5) continue;  // slug taken meanwhile
            return std::move(st).error();
        }
        if (slug->used_timestamp_fallback) {
            spdlog::warn("note content gave no usable slug; using timestamp slug {}", n.slug);
        }
        if (slug->custom_rejected) {
            spdlog::info("requested slug not used ({}); using {}", slug->custom_rejected_reason, n.slug);
        }
        changes_.publish();
        return n;
    }
}

Result<Note> NotesService::get_by_slug(std::string_view slug) const {
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    return query_one(**lease, "slug = ?1", [&](Statement& s) { s.bind(1, slug); });
}

Result<Note> NotesService::get_by_id(int64_t id) const {
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    return by_id(**lease, id);
}

Result<bool> NotesService::has_content_hash(std::string_view content_hash) const {
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto stmt = (*lease)->prepare("SELECT 1 FROM notes WHERE content_hash = ?1 LIMIT 1");
    if (!stmt) return std::move(stmt).error();
    (*stmt)->bind(1, content_hash);
    auto row = (*stmt)->step();
    (*stmt)->reset();
    return row;
}

namespace {

std::string list_from_where(Visibility visibility) {
    return fmt::format("FROM notes n WHERE {}", visibility_filter(visibility));
}

// From the tag's links (idx_note_tags_tag) to the notes; ?1 is the tag's name.
std::string tagged_from_where(Visibility visibility) {
    return fmt::format("FROM tags t JOIN note_tags nt ON nt.tag_id = t.id JOIN notes n ON n.id = nt.note_id "
                       "WHERE t.name = ?1 AND {}",
                       visibility_filter(visibility));
}

std::string listing_key(std::string_view tag) { return tag.empty() ? "published" : "tag:" + std::string(tag); }

}  // namespace

Result<NotePage> NotesService::list(Visibility visibility, int64_t limit, int64_t offset) const {
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    const std::string from_where = list_from_where(visibility);
    if (visibility != Visibility::published) return query_page(**lease, from_where, std::nullopt, limit, offset);
    auto ids = listings_->get(listing_key({}), [&] { return query_ids(**lease, from_where, std::nullopt); });
    if (!ids) return std::move(ids).error();
    return slice_of(**lease, **ids, limit, offset);
}

Result<std::optional<ListingPage>> NotesService::published_listing(std::string_view tag, int64_t limit, int64_t offset,
                                                                   bool memory_only) const {
    const std::string key = listing_key(tag);
    ListingCache::Ids ids = listings_->find(key);
    if (!ids) {
        if (memory_only) return std::optional<ListingPage>();
        auto lease = pool_->acquire();
        if (!lease) return std::move(lease).error();
        auto loaded = listings_->get(key, [&] {
            return tag.empty() ? query_ids(**lease, list_from_where(Visibility::published), std::nullopt)
                               : query_ids(**lease, tagged_from_where(Visibility::published), tag);
        });
        if (!loaded) return std::move(loaded).error();
        ids = std::move(*loaded);
    }
    ListingPage page;
    page.total = static_cast<int64_t>(ids->size());
    offset = std::max<int64_t>(0, offset);
    if (limit > 0 && offset < page.total) {
        page.ids.assign(ids->begin() + offset, ids->begin() + std::min<int64_t>(page.total, offset + limit));
    }
    return std::optional<ListingPage>(std::move(page));
}

Result<std::vector<Note>> NotesService::notes_by_ids(const std::vector<int64_t>& ids) const {
    if (ids.empty()) return std::vector<Note>{};
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto page = slice_of(**lease, ids, static_cast<int64_t>(ids.size()), 0);
    if (!page) return std::move(page).error();
    return std::move(page->notes);
}

Result<NoteCounts> NotesService::counts() const {
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto stmt = (*lease)->prepare(
        "SELECT deleted_at IS NOT NULL, published, COUNT(*) FROM notes GROUP BY deleted_at IS NOT NULL, published");
    if (!stmt) return std::move(stmt).error();
    NoteCounts counts;
    auto rows = (*stmt)->each_row([&](const Statement& r) {
        int64_t n = r.integer(2);
        if (r.integer(0) != 0) counts.deleted += n;
        else if (r.integer(1) != 0) counts.published += n;
        else counts.drafts += n;
    });
    if (!rows) return std::move(rows).error();
    return counts;
}

Result<std::vector<Note>> NotesService::newest(Visibility visibility, int64_t limit) const {
    auto batch = walk_newest(visibility, NoteCursor{}, limit);
    if (!batch) return std::move(batch).error();
    return std::move(batch->notes);
}

Result<NoteBatch> NotesService::walk_newest(Visibility visibility, const NoteCursor& from, int64_t limit) const {
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    Connection& c = **lease;
    // Walks idx_notes_created_at from the cursor, newest first, stopping at the
    // limit: the unary '+' keeps the planner off the published/deleted_at
    // indexes, which would make it collect and sort every matching note. The
    // trash is small and has its own index.
    std::string_view where = visibility == Visibility::published ? "+deleted_at IS NULL AND +published = 1"
                             : visibility == Visibility::all     ? "+deleted_at IS NULL"
                                                                 : "deleted_at IS NOT NULL";
    auto stmt = c.prepare(fmt::format(
        "SELECT {} FROM notes n WHERE {} AND (created_at, id) < (?2, ?3) ORDER BY created_at DESC, id DESC LIMIT ?1",
        kNoteColumns, where));
    if (!stmt) return std::move(stmt).error();
    (*stmt)->bind(1, std::max<int64_t>(0, limit)).bind(2, from.created_at_).bind(3, from.id_);
    NoteBatch batch;
    batch.next = from;
    auto rows = (*stmt)->each_row([&](const Statement& r) {
        batch.notes.push_back(read_note(r));
        batch.next.created_at_ = r.text(4);  // as stored: the walk orders by the stored text
        batch.next.id_ = batch.notes.back().id;
    });
    if (!rows) return std::move(rows).error();
    batch.end = static_cast<int64_t>(batch.notes.size()) < limit;
    return batch;
}

Result<std::vector<Tag>> NotesService::tags_of(int64_t note_id) const {
    Note n;
    n.id = note_id;
    auto all = tags_of(std::vector<Note>{n});
    if (!all) return std::move(all).error();
    auto it = all->find(note_id);
    return it == all->end() ? std::vector<Tag>{} : std::move(it->second);
}

Result<std::map<int64_t, std::vector<Tag>>> NotesService::tags_of(const std::vector<Note>& notes) const {
    std::map<int64_t, std::vector<Tag>> out;
    if (notes.empty()) return out;
    std::string ids = "[";
    for (const auto& n : notes) {
        if (ids.size() > 1) ids.push_back(',');
        ids += std::to_string(n.id);
    }
    ids.push_back(']');
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto stmt = (*lease)->prepare(
        "SELECT nt.note_id, t.name, t.display_name FROM note_tags nt JOIN tags t ON t.id = nt.tag_id "
        "WHERE nt.note_id IN (SELECT value FROM json_each(?1)) ORDER BY nt.note_id, nt.position");
    if (!stmt) return std::move(stmt).error();
    (*stmt)->bind(1, ids);
    auto rows = (*stmt)->each_row([&](const Statement& r) { out[r.integer(0)].push_back(Tag{r.text(1), r.text(2)}); });
    if (!rows) return std::move(rows).error();
    return out;
}

Result<Tag> NotesService::find_tag(std::string_view name) const {
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto stmt = (*lease)->prepare("SELECT name, display_name FROM tags WHERE name = ?1");
    if (!stmt) return std::move(stmt).error();
    (*stmt)->bind(1, name);
    auto row = (*stmt)->step();
    if (!row) return std::move(row).error();
    if (!*row) return make_error(ErrorCode::not_found, "no such tag");
    Tag t{(*stmt)->text(0), (*stmt)->text(1)};
    (*stmt)->reset();
    return t;
}

Result<NotePage> NotesService::list_tagged(std::string_view tag_name, Visibility visibility, int64_t limit,
                                           int64_t offset) const {
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    const std::string from_where = tagged_from_where(visibility);
    if (visibility != Visibility::published) return query_page(**lease, from_where, tag_name, limit, offset);
    auto ids = listings_->get(listing_key(tag_name), [&] { return query_ids(**lease, from_where, tag_name); });
    if (!ids) return std::move(ids).error();
    return slice_of(**lease, **ids, limit, offset);
}

Result<std::vector<TagCount>> NotesService::tags_in_use(Visibility visibility) const {
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto stmt = (*lease)->prepare(fmt::format(
        "SELECT t.name, t.display_name, COUNT(*) FROM tags t JOIN note_tags nt ON nt.tag_id = t.id "
        "JOIN notes n ON n.id = nt.note_id WHERE {} GROUP BY t.id ORDER BY t.name",
        visibility_filter(visibility)));
    if (!stmt) return std::move(stmt).error();
    std::vector<TagCount> out;
    auto rows = (*stmt)->each_row([&](const Statement& r) {
        out.push_back({Tag{r.text(0), r.text(1)}, r.integer(2)});
    });
    if (!rows) return std::move(rows).error();
    return out;
}

Result<std::vector<NotePhoto>> NotesService::photos_of(int64_t note_id) const {
    Note n;
    n.id = note_id;
    auto all = photos_of(std::vector<Note>{n});
    if (!all) return std::move(all).error();
    auto it = all->find(note_id);
    return it == all->end() ? std::vector<NotePhoto>{} : std::move(it->second);
}

Result<std::map<int64_t, std::vector<NotePhoto>>> NotesService::photos_of(const std::vector<Note>& notes) const {
    std::map<int64_t, std::vector<NotePhoto>> out;
    if (notes.empty()) return out;
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    Connection& c = **lease;
    auto stmt = c.prepare(
        "SELECT p.note_id, p.media_id, p.url, p.alt, m.type, m.width, m.height, m.bytes FROM note_photos p "
        "LEFT JOIN media m ON m.id = p.media_id "
        "WHERE p.note_id IN (SELECT value FROM json_each(?1)) ORDER BY p.note_id, p.position");
    if (!stmt) return std::move(stmt).error();
    (*stmt)->bind(1, json_ids(notes, [](const Note& n) { return n.id; }));
    std::map<int64_t, std::vector<NotePhoto*>> by_media;
    auto rows = (*stmt)->each_row([&](const Statement& r) {
        NotePhoto p;
        if (!r.is_null(1)) p.media_id = r.integer(1);
        p.url = r.text(2);
        p.alt = r.text(3);
        if (p.media_id) {
            p.type = r.optional_text(4).value_or("");
            p.width = static_cast<int>(r.integer(5));
            p.height = static_cast<int>(r.integer(6));
            p.bytes = static_cast<std::uint64_t>(r.integer(7));
        }
        out[r.integer(0)].push_back(std::move(p));
    });
    if (!rows) return std::move(rows).error();
    for (auto& [id, list] : out) {
        for (auto& p : list) {
            if (p.media_id) by_media[*p.media_id].push_back(&p);
        }
    }
    if (by_media.empty()) return out;
    auto variants = c.prepare(
        "SELECT media_id, path, width, height FROM media_variants WHERE media_id IN (SELECT value FROM json_each(?1)) "
        "ORDER BY media_id, width");
    if (!variants) return std::move(variants).error();
    (*variants)->bind(1, json_ids(by_media, [](const auto& entry) { return entry.first; }));
    auto variant_rows = (*variants)->each_row([&](const Statement& r) {
        PhotoVariant v{"/media/" + r.text(1), static_cast<int>(r.integer(2)), static_cast<int>(r.integer(3))};
        for (NotePhoto* p : by_media[r.integer(0)]) p->variants.push_back(v);
    });
    if (!variant_rows) return std::move(variant_rows).error();
    return out;
}

Result<std::map<int64_t, std::vector<Note>>> NotesService::notes_using_media(const std::vector<int64_t>& media_ids) const {
    std::map<int64_t, std::vector<Note>> out;
    if (media_ids.empty()) return out;
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto stmt = (*lease)->prepare(fmt::format(
        "SELECT DISTINCT p.media_id, {} FROM note_photos p JOIN notes n ON n.id = p.note_id "
        "WHERE p.media_id IN (SELECT value FROM json_each(?1)) ORDER BY p.media_id, n.created_at DESC, n.id DESC",
        kNoteColumns));
    if (!stmt) return std::move(stmt).error();
    (*stmt)->bind(1, json_ids(media_ids, [](int64_t id) { return id; }));
    auto rows = (*stmt)->each_row([&](const Statement& r) { out[r.integer(0)].push_back(read_note(r, 1)); });
    if (!rows) return std::move(rows).error();
    return out;
}

Result<std::string> NotesService::read_content(const Note& note) const {
    auto path = absolute_path(note);
    if (!path) return std::move(path).error();
    // No symlinks between NOTES_PATH and the file (SPEC §2.1); the file itself
    // is opened without following one.
    for (size_t slash = path->find('/', options_.notes_path.size() + 1); slash != std::string::npos;
         slash = path->find('/', slash + 1)) {
        auto link = fs_.is_symlink(path->substr(0, slash));
        if (!link) return std::move(link).error();
        if (*link) {
            return make_error(ErrorCode::invalid_input,
                              fmt::format("note {}: its file is reached through a symlink; refusing to follow it", note.slug));
        }
    }
    auto content = fs_.read_file(*path);
    if (!content) return std::move(content).error();
    if (note.content_hash.empty()) return content;  // StarPunk 1.0 rows may lack a hash
    std::string actual = sha256_hex(*content);
    auto matches = [&](const Note& n) {
        return actual == n.content_hash || (n.pending_hash && actual == *n.pending_hash);
    };
    if (matches(note)) return content;
    // An update may have been confirmed since `note` was read: look once more.
    if (auto fresh = get_by_id(note.id); fresh && matches(*fresh)) return content;
    return make_error(ErrorCode::io, fmt::format("note {}: file content does not match its recorded hash", note.slug));
}

Result<Note> NotesService::settle(Connection& c, const Note& note) {
    if (!note.pending_hash) return note;
    auto path = absolute_path(note);
    if (!path) return std::move(path).error();
    auto content = fs_.read_file(*path);
    if (!content) return std::move(content).error();
    std::string actual = sha256_hex(*content);
    if (actual != *note.pending_hash && actual != note.content_hash) {
        return make_error(ErrorCode::io,
                          fmt::format("note {}: file matches neither its recorded nor its pending hash", note.slug));
    }
    const bool replaced = actual == *note.pending_hash;
    // The rest of the change goes with the new file, and is dropped with the old one (I5).
    std::optional<MetadataChange> rest;
    if (replaced) {
        auto q = c.prepare("SELECT pending_change FROM notes WHERE id = ?1");
        if (!q) return std::move(q).error();
        (*q)->bind(1, note.id);
        auto row = (*q)->step();
        if (!row) return std::move(row).error();
        std::optional<std::string> recorded = *row ? (*q)->optional_text(0) : std::nullopt;
        (*q)->reset();
        if (recorded) {
            auto decoded = decode_change(*recorded);
            if (!decoded) return std::move(decoded).error();
            rest = std::move(*decoded);
        }
        // The new file is in place; make its rename durable before the row says
        // so, or a power loss could bring the old file back under a new hash.
        if (auto st = fs_.sync_dir(storage::parent_dir(*path)); !st) return std::move(st).error();
    }
    auto tx = Transaction::begin(c);
    if (!tx) return std::move(tx).error();
    auto stmt = c.prepare("UPDATE notes SET content_hash = ?2, pending_hash = NULL, pending_change = NULL WHERE id = ?1");
    if (!stmt) return std::move(stmt).error();
    if (auto st = (*stmt)->bind(1, note.id).bind(2, actual).run(); !st) return std::move(st).error();
    Note settled = note;
    settled.content_hash = actual;
    settled.pending_hash.reset();
    if (replaced) {
        if (auto st = NoteIndex::write(c, settled, *content); !st) return std::move(st).error();
        if (rest) {
            if (auto st = apply_change(c, note.id, *rest); !st) return std::move(st).error();
        }
    }
    if (auto st = tx->commit(); !st) return std::move(st).error();
    if (!rest) return settled;
    return by_id(c, note.id);  // with the flag, dates and summary the change set
}

Result<Note> NotesService::update(int64_t id, const NoteChange& change) {
    std::optional<std::vector<NewPhoto>> photos;
    if (change.photos) {
        auto checked = validate_photos(*change.photos);
        if (!checked) return std::move(checked).error();
        photos = std::move(*checked);
    }
    std::optional<RenderedNote> rendered;
    if (change.content) {
        auto checked = validate_content(*change.content);
        if (!checked) return std::move(checked).error();
        rendered = std::move(*checked);
    }
    std::lock_guard write_lock(write_mutex_);
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    Connection& c = **lease;
    auto current = by_id(c, id);
    if (!current) return current;
    auto settled = settle(c, *current);  // a previous interrupted update first
    if (!settled) return settled;
    Note n = std::move(*settled);
    auto path = absolute_path(n);  // refuse before touching anything
    if (!path) return std::move(path).error();
    Timestamp now = clock_.now();
    const MetadataChange rest{now, change.published, change.created_at, change.tags, change.summary, photos};

    std::optional<std::string> new_hash;
    if (change.content && sha256_hex(*change.content) != n.content_hash) new_hash = sha256_hex(*change.content);
    if (new_hash) {
        // 1. announce
        auto announce = c.prepare("UPDATE notes SET pending_hash = ?2, pending_change = ?3 WHERE id = ?1");
        if (!announce) return std::move(announce).error();
        if (auto st = (*announce)->bind(1, id).bind(2, *new_hash).bind(3, encode_change(rest)).run(); !st)
            return std::move(st).error();
        // 2. write
        if (auto st = storage::write_file_atomically(fs_, *path, *change.content); !st) {
            // If the old file is certainly still there, withdraw the announcement;
            // otherwise leave it for settle() (next update or start-up), which only
            // accepts the new hash once its rename is durable.
            auto on_disk = fs_.read_file(*path);
            if (on_disk && sha256_hex(*on_disk) == n.content_hash) {
                if (auto withdraw = c.prepare("UPDATE notes SET pending_hash = NULL, pending_change = NULL WHERE id = ?1 AND pending_hash = ?2")) {
                    (void)(*withdraw)->bind(1, id).bind(2, *new_hash).run();
                }
            } else {
                changes_.publish();  // the new file may be in place: readers accept either hash
            }
            return std::move(st).error();
        }
    }
    // 3. confirm
    auto tx = Transaction::begin(c);
    if (!tx) return std::move(tx).error();
    bool published = change.published.value_or(n.published);
    if (new_hash) {
        auto stmt = c.prepare(
            "UPDATE notes SET content_hash = ?2, pending_hash = NULL, pending_change = NULL "
            "WHERE id = ?1 AND pending_hash = ?2");
        if (!stmt) return std::move(stmt).error();
        if (auto st = (*stmt)->bind(1, id).bind(2, *new_hash).run(); !st) return std::move(st).error();
        if (c.changes() == 0) {
            // Another process announced its own update meanwhile: leave the row to
            // settle() rather than claim a hash the file may not have.
            return make_error(ErrorCode::conflict, "the note was changed elsewhere while saving; reload and try again");
        }
        n.content_hash = *new_hash;
        if (auto ist = NoteIndex::write(c, n, *change.content); !ist) return std::move(ist).error();
        if (rendered) {
            if (auto rst = RenderedStore::write(c, id, n.content_hash, *rendered); !rst) return std::move(rst).error();
        }
    }
    if (auto st = apply_change(c, id, rest); !st) return std::move(st).error();
    if (auto st = tx->commit(); !st) return std::move(st).error();
    changes_.publish();
    n.pending_hash.reset();
    n.published = published;
    n.updated_at = now;
    if (change.created_at) n.created_at = *change.created_at;
    if (change.summary) n.summary = *change.summary;
    return n;
}

Result<Note> NotesService::soft_delete(int64_t id) {
    std::lock_guard write_lock(write_mutex_);
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    Connection& c = **lease;
    auto n = by_id(c, id);
    if (!n || n->is_deleted()) return n;
    auto stmt = c.prepare("UPDATE notes SET deleted_at = ?2 WHERE id = ?1");
    if (!stmt) return std::move(stmt).error();
    Timestamp now = clock_.now();
    if (auto st = (*stmt)->bind(1, id).bind(2, format_db_time(now)).run(); !st) return std::move(st).error();
    changes_.publish();
    n->deleted_at = now;
    return n;
}

Result<Note> NotesService::restore(int64_t id) {
    std::lock_guard write_lock(write_mutex_);
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    Connection& c = **lease;
    auto n = by_id(c, id);
    if (!n || !n->is_deleted()) return n;
    auto stmt = c.prepare("UPDATE notes SET deleted_at = NULL WHERE id = ?1");
    if (!stmt) return std::move(stmt).error();
    if (auto st = (*stmt)->bind(1, id).run(); !st) return std::move(st).error();
    changes_.publish();
    n->deleted_at.reset();
    return n;
}

Status NotesService::purge(int64_t id) {
    std::lock_guard write_lock(write_mutex_);
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    Connection& c = **lease;
    auto n = by_id(c, id);
    if (!n) return std::move(n).error();
    if (!n->is_deleted()) return make_error(ErrorCode::conflict, "only notes in the trash can be purged; delete it first");
    auto path = absolute_path(*n);
    if (!path) return std::move(path).error();
    auto stmt = c.prepare("DELETE FROM notes WHERE id = ?1");
    if (!stmt) return std::move(stmt).error();
    if (auto st = (*stmt)->bind(1, id).run(); !st) return st;
    changes_.publish();
    if (auto st = fs_.remove(*path); !st && st.error().code != ErrorCode::not_found) return st;
    return fs_.sync_dir(storage::parent_dir(*path));
}

Result<IntegrityReport> NotesService::check(CheckDepth depth) const {
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    Connection& c = **lease;
    IntegrityReport report;
    std::set<std::string> known;
    // Newest changes first, so a quick check hashes the notes most likely to
    // have been touched (by an editor on the server, a bad restore, …).
    auto stmt = c.prepare(fmt::format("SELECT {} FROM notes n ORDER BY n.updated_at DESC, n.id DESC", kNoteColumns));
    if (!stmt) return std::move(stmt).error();
    auto rows = (*stmt)->each_row([&](const Statement& r) {
        Note n = read_note(r);
        ++report.notes_checked;
        auto path = absolute_path(n);
        if (!path) {
            report.problems.push_back({n.slug, n.file_path, path.error().message});
            return;
        }
        known.insert(path->substr(options_.notes_path.size() + 1));
        if (depth == CheckDepth::quick && report.notes_hashed >= kQuickHashedNotes) {
            auto present = fs_.exists(*path);
            if (!present) {
                report.problems.push_back({n.slug, n.file_path, present.error().message});
            } else if (!*present) {
                report.problems.push_back({n.slug, n.file_path, "missing file"});
            }
            return;
        }
        ++report.notes_hashed;
        auto content = fs_.read_file(*path);
        if (!content) {
            report.problems.push_back(
                {n.slug, n.file_path, content.error().code == ErrorCode::not_found ? "missing file" : content.error().message});
            return;
        }
        std::string actual = sha256_hex(*content);
        // A row announcing an update whose file already has the new content is
        // consistent: start-up settles it (see the protocol above).
        bool matches_pending = n.pending_hash && actual == *n.pending_hash;
        if (!matches_pending && !n.content_hash.empty() && actual != n.content_hash) {
            report.problems.push_back({n.slug, n.file_path, "hash mismatch"});
        }
    });
    if (!rows) return std::move(rows).error();
    auto files = fs_.list_files(options_.notes_path);
    if (!files) return std::move(files).error();
    for (const auto& f : *files) {
        if (f.ends_with(storage::kTempSuffix)) {
            report.problems.push_back({"", f, "stale temporary file"});
        } else if (f.ends_with(".md") && !known.contains(f)) {
            report.problems.push_back({"", f, "orphan file (no database row)"});
        }
    }
    return report;
}

Result<StartupReport> NotesService::recover() {
    StartupReport report;
    auto files = fs_.list_files(options_.notes_path);
    if (!files) return std::move(files).error();
    for (const auto& f : *files) {
        if (!f.ends_with(storage::kTempSuffix)) continue;
        std::string abs = options_.notes_path + "/" + f;
        if (auto st = fs_.remove(abs); !st) return std::move(st).error();
        ++report.stale_temp_files_removed;
    }
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    Connection& c = **lease;
    // Only what is needed to spot orphans and interrupted updates: this runs on
    // every start-up, over every note.
    std::vector<int64_t> pending;
    std::unordered_set<std::string> known;
    {
        auto stmt = c.prepare("SELECT id, slug, file_path, pending_hash IS NOT NULL FROM notes");
        if (!stmt) return std::move(stmt).error();
        Note probe;
        auto rows = (*stmt)->each_row([&](const Statement& r) {
            probe.slug = r.text(1);
            probe.file_path = r.text(2);
            if (auto p = absolute_path(probe)) known.insert(p->substr(options_.notes_path.size() + 1));
            if (r.integer(3) != 0) pending.push_back(r.integer(0));
        });
        if (!rows) return std::move(rows).error();
    }
    for (int64_t id : pending) {
        auto n = by_id(c, id);
        if (!n) return std::move(n).error();
        auto s = settle(c, *n);
        if (!s) {
            report.unsettled.push_back(n->slug + ": " + s.error().message);
            continue;
        }
        ++report.pending_updates_settled;
    }
    for (const auto& f : *files) {
        if (f.ends_with(".md") && !known.contains(f)) report.orphan_files.push_back(f);
    }
    if (report.pending_updates_settled > 0) changes_.publish();
    return report;
}

}  // namespace starpunk::notes
