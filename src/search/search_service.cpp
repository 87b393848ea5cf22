#include "search/search_service.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "notes/note_text.hpp"
#include "search/query.hpp"
#include "search/text_match.hpp"
#include "storage/migrations.hpp"

namespace starpunk::search {

using storage::Connection;
using storage::Statement;

std::string_view mode_name(Mode mode) { return mode == Mode::fts ? "fts5" : "fallback"; }

// Ranked id lists of recent FTS queries (see the header, "Bounded cost" 2).
struct SearchService::Cache {
    struct Ranked {
        std::vector<int64_t> ids;  // best first, at most max_ranked
        bool exact = true;         // false: more notes matched than were ranked
    };

    Cache(std::string path, std::size_t cap) : database_path(std::move(path)), capacity(cap) {}

    // PRAGMA data_version on the dedicated connection; -1 when it cannot be
    // read (then nothing is cached or served from the cache).
    int64_t data_version() {
        std::lock_guard lock(mutex);
        if (!probe) {
            auto c = Connection::open(database_path, {1.0, true, false});
            if (!c) return -1;
            probe = std::move(*c);
        }
        auto stmt = probe->prepare("PRAGMA data_version");
        if (!stmt) return -1;
        auto row = (*stmt)->step();
        if (!row.ok() || !*row) return -1;
        int64_t v = (*stmt)->integer(0);
        (*stmt)->reset();
        return v;
    }

    std::shared_ptr<const Ranked> find(const std::string& key, int64_t version) {
        std::lock_guard lock(mutex);
        auto it = entries.find(key);
        if (it == entries.end()) return nullptr;
        if (it->second.version != version) {
            lru.erase(it->second.position);
            entries.erase(it);
            return nullptr;
        }
        lru.splice(lru.begin(), lru, it->second.position);
        return it->second.ranked;
    }

    void store(const std::string& key, int64_t version, std::shared_ptr<const Ranked> ranked) {
        std::lock_guard lock(mutex);
        if (auto it = entries.find(key); it != entries.end()) {
            lru.erase(it->second.position);
            entries.erase(it);
        }
        while (!lru.empty() && entries.size() >= capacity) {
            entries.erase(lru.back());
            lru.pop_back();
        }
        lru.push_front(key);
        entries.emplace(key, Entry{version, std::move(ranked), lru.begin()});
    }

    struct Entry {
        int64_t version;
        std::shared_ptr<const Ranked> ranked;
        std::list<std::string>::iterator position;  // in lru
    };
    const std::string database_path;
    const std::size_t capacity;
    std::mutex mutex;
    std::unique_ptr<Connection> probe;
    std::unordered_map<std::string, Entry> entries;
    std::list<std::string> lru;  // most recently used first
};

namespace {

constexpr int64_t kFallbackBatch = 200;
// Excerpts need only the start of a note (search/text_match.hpp).
constexpr int kContentPrefixChars = static_cast<int>(kExcerptSourceBytes);

std::string title_or_slug(std::string title, const std::string& slug) { return title.empty() ? slug : title; }

Status validate(const Query& q) {
    if (q.limit < 1 || q.limit > kMaxLimit) {
        return make_error(ErrorCode::invalid_input, fmt::format("limit must be between 1 and {}", kMaxLimit));
    }
    if (q.offset < 0) return make_error(ErrorCode::invalid_input, "offset must not be negative");
    return {};
}

}  // namespace

SearchService::SearchService(std::shared_ptr<storage::ConnectionPool> pool, const notes::NotesService& notes,
                             Options options, Mode mode, const std::string& database_path)
    : pool_(std::move(pool)), notes_(notes), options_(options), mode_(mode) {
    if (mode_ == Mode::fts && options_.cache_entries > 0) {
        cache_ = std::make_unique<Cache>(database_path, options_.cache_entries);
    }
}

SearchService::~SearchService() = default;

Result<std::unique_ptr<SearchService>> SearchService::open(std::shared_ptr<storage::ConnectionPool> pool,
                                                           const notes::NotesService& notes, Options options) {
    auto lease = pool->acquire();
    if (!lease) return std::move(lease).error();
    std::string path = (*lease)->path();
    Mode mode = Mode::fts;
    if (options.force_fallback) {
        mode = Mode::fallback;
    } else if (!storage::fts5_available()) {
        spdlog::info("search: SQLite has no FTS5; searching by scanning note files");
        mode = Mode::fallback;
    } else {
        auto exists = storage::table_exists(**lease, "notes_fts");
        if (!exists) return std::move(exists).error();
        if (!*exists) {
            spdlog::warn("search: the notes_fts table is missing (database migrated without FTS5); "
                         "searching by scanning note files");
            mode = Mode::fallback;
        }
    }
    options.max_ranked = std::max<int64_t>(1, options.max_ranked);
    return std::unique_ptr<SearchService>(new SearchService(std::move(pool), notes, options, mode, path));
}

Result<Results> SearchService::search(const Query& query) const {
    if (auto st = validate(query); !st) return std::move(st).error();
    auto parsed = parse_query(query.text);
    if (!parsed) return std::move(parsed).error();
    return mode_ == Mode::fts ? search_fts(query, *parsed) : search_fallback(query, *parsed);
}

Result<Results> SearchService::search_fts(const Query& query, const ParsedQuery& parsed) const {
    Results results;
    results.mode = Mode::fts;
    if (parsed.fts_expression.empty()) return results;  // only punctuation: nothing can match

    // 1. The ranked id list: from the cache, or ranked now.
    const std::string key = std::string(query.include_drafts ? "a:" : "p:") + parsed.fts_expression;
    const int64_t version = cache_ ? cache_->data_version() : -1;
    std::shared_ptr<const Cache::Ranked> ranked = version >= 0 ? cache_->find(key, version) : nullptr;
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    Connection& c = **lease;
    if (!ranked) {
        // CROSS JOIN keeps notes_fts the outer loop, so FTS5 walks matches in
        // rowid order and the LIMIT stops the walk (no sort of all matches).
        auto stmt = c.prepare(
            "SELECT n.id, bm25(notes_fts, 0, 10.0, 1.0) FROM notes_fts CROSS JOIN notes n ON n.id = notes_fts.rowid "
            "WHERE notes_fts MATCH ?1 AND n.deleted_at IS NULL AND (?2 OR n.published = 1) "
            "ORDER BY notes_fts.rowid DESC LIMIT ?3");
        if (!stmt) return std::move(stmt).error();
        (*stmt)->bind(1, parsed.fts_expression).bind(2, query.include_drafts ? 1 : 0).bind(3, options_.max_ranked + 1);
        std::vector<std::pair<int64_t, double>> scored;
        while (true) {
            auto row = (*stmt)->step();
            if (!row) {
                // The expression is built from quoted phrases only, so FTS5
                // should never reject it; if it ever does, the reader gets "no
                // results" (SPEC §7: never a 500 for query syntax).
                if (row.error().message.find("fts5") != std::string::npos) {
                    spdlog::warn("search: FTS5 rejected the expression {}: {}", parsed.fts_expression,
                                 row.error().message);
                    return results;
                }
                return std::move(row).error();
            }
            if (!*row) break;
            scored.emplace_back((*stmt)->integer(0), (*stmt)->real(1));
        }
        auto fresh = std::make_shared<Cache::Ranked>();
        if (static_cast<int64_t>(scored.size()) > options_.max_ranked) {
            fresh->exact = false;
            scored.pop_back();  // the oldest: fetched only to know that more exist
        }
        // bm25: lower is better. Equal scores: newest (highest id) first.
        std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) {
            return a.second != b.second ? a.second < b.second : a.first > b.first;
        });
        fresh->ids.reserve(scored.size());
        for (const auto& s : scored) fresh->ids.push_back(s.first);
        ranked = fresh;
        if (version >= 0) cache_->store(key, version, fresh);
    }
    results.total = static_cast<int64_t>(ranked->ids.size());
    results.total_exact = ranked->exact;

    // 2. The page: details and excerpts for its notes only. The filters are
    // checked again (a change between ranking and now drops the note).
    auto detail = c.prepare(
        "SELECT n.slug, n.created_at, n.published, f.title, substr(f.content, 1, ?3) "
        "FROM notes n, notes_fts f WHERE n.id = ?1 AND f.rowid = ?1 AND n.deleted_at IS NULL "
        "AND (?2 OR n.published = 1)");
    if (!detail) return std::move(detail).error();
    ExcerptOptions excerpt;
    excerpt.word_start_only = true;
    const auto size = static_cast<int64_t>(ranked->ids.size());
    for (int64_t i = query.offset; i < size && i < query.offset + query.limit; ++i) {
        const int64_t id = ranked->ids[static_cast<std::size_t>(i)];
        (*detail)->bind(1, id).bind(2, query.include_drafts ? 1 : 0).bind(3, kContentPrefixChars);
        auto row = (*detail)->step();
        if (!row) return std::move(row).error();
        if (!*row) continue;
        Hit h;
        h.id = id;
        h.slug = (*detail)->text(0);
        h.published_at = parse_timestamp((*detail)->text(1)).value_or(Timestamp{});
        h.published = (*detail)->integer(2) != 0;
        h.title = title_or_slug((*detail)->text(3), h.slug);
        std::string content = (*detail)->text(4);
        (*detail)->reset();
        h.excerpt_html = highlight_excerpt(excerpt_source(content), parsed.fts_words, excerpt);
        h.path = "/note/" + h.slug;
        results.hits.push_back(std::move(h));
    }
    return results;
}

Result<Results> SearchService::search_fallback(const Query& query, const ParsedQuery& parsed) const {
    Results results;
    results.mode = Mode::fallback;
    std::vector<std::u32string> needles;
    for (const auto& t : parsed.terms) needles.push_back(fold(t));
    // One more match than the page needs tells whether another page exists.
    const int64_t wanted = query.offset + query.limit + 1;
    int64_t found = 0;
    bool reached_end = false;
    std::string after_created = "\x7f";  // keyset position: sorts after every timestamp
    int64_t after_id = INT64_MAX;
    while (found < wanted && !reached_end) {
        // A batch of rows, then the lease goes back before any file is read
        // (read_content may need a connection of its own).
        std::vector<notes::Note> batch;
        {
            auto lease = pool_->acquire();
            if (!lease) return std::move(lease).error();
            // Walks idx_notes_created_at from the keyset position; the unary
            // '+' keeps the planner off the deleted_at/published indexes (which
            // would mean sorting every note for each batch).
            auto stmt = (*lease)->prepare(
                "SELECT id, slug, file_path, published, created_at, content_hash, pending_hash FROM notes "
                "WHERE +deleted_at IS NULL AND (?1 OR +published = 1) AND (created_at, id) < (?2, ?3) "
                "ORDER BY created_at DESC, id DESC LIMIT ?4");
            if (!stmt) return std::move(stmt).error();
            (*stmt)->bind(1, query.include_drafts ? 1 : 0).bind(2, after_created).bind(3, after_id);
            (*stmt)->bind(4, kFallbackBatch);
            while (true) {
                auto row = (*stmt)->step();
                if (!row) return std::move(row).error();
                if (!*row) break;
                notes::Note n;
                n.id = (*stmt)->integer(0);
                n.slug = (*stmt)->text(1);
                n.file_path = (*stmt)->text(2);
                n.published = (*stmt)->integer(3) != 0;
                after_created = (*stmt)->text(4);
                after_id = n.id;
                n.created_at = parse_timestamp(after_created).value_or(Timestamp{});
                n.content_hash = (*stmt)->optional_text(5).value_or("");
                n.pending_hash = (*stmt)->optional_text(6);
                batch.push_back(std::move(n));
            }
        }
        reached_end = static_cast<int64_t>(batch.size()) < kFallbackBatch;
        for (const auto& n : batch) {
            auto content = notes_.read_content(n);
            if (!content) {
                spdlog::warn("search: note {} skipped: {}", n.slug, content.error().message);
                continue;
            }
            if (!contains_all(fold(*content), needles)) continue;
            ++found;
            if (found > query.offset && found <= query.offset + query.limit) {
                Hit h;
                h.id = n.id;
                h.slug = n.slug;
                h.title = title_or_slug(notes::note_title(*content), n.slug);
                h.excerpt_html = highlight_excerpt(excerpt_source(*content), parsed.terms);
                h.published_at = n.created_at;
                h.published = n.published;
                h.path = "/note/" + n.slug;
                results.hits.push_back(std::move(h));
            }
            if (found >= wanted) break;
        }
    }
    results.total = found;
    results.total_exact = found < wanted;
    return results;
}

Result<bool> SearchService::index_needs_rebuild() const {
    if (mode_ != Mode::fts) return false;
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto stmt = (*lease)->prepare(
        "SELECT EXISTS (SELECT 1 FROM notes), EXISTS (SELECT 1 FROM notes_fts)");
    if (!stmt) return std::move(stmt).error();
    auto row = (*stmt)->step();
    if (!row) return std::move(row).error();
    bool needed = *row && (*stmt)->integer(0) != 0 && (*stmt)->integer(1) == 0;
    (*stmt)->reset();
    return needed;
}

Result<RebuildReport> SearchService::rebuild(const Progress& progress) {
    if (mode_ != Mode::fts) {
        return make_error(ErrorCode::unsupported, "search runs without an index (no FTS5 or SEARCH_FORCE_FALLBACK)");
    }
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

    std::vector<notes::Note> all;
    {
        auto stmt = c.prepare("SELECT id, slug, file_path, content_hash, pending_hash FROM notes ORDER BY id");
        if (!stmt) return std::move(stmt).error();
        while (true) {
            auto row = (*stmt)->step();
            if (!row) return std::move(row).error();
            if (!*row) break;
            notes::Note n;
            n.id = (*stmt)->integer(0);
            n.slug = (*stmt)->text(1);
            n.file_path = (*stmt)->text(2);
            n.content_hash = (*stmt)->optional_text(3).value_or("");
            n.pending_hash = (*stmt)->optional_text(4);
            all.push_back(std::move(n));
        }
    }
    auto insert = c.prepare("INSERT INTO notes_fts (rowid, slug, title, content) VALUES (?1, ?2, ?3, ?4)");
    if (!insert) return std::move(insert).error();
    RebuildReport report;
    std::size_t done = 0;
    for (const auto& n : all) {
        auto content = notes_.read_content(n);
        if (content) {
            (*insert)->bind(1, n.id).bind(2, n.slug).bind(3, notes::note_title(*content)).bind(4, *content);
            auto st = (*insert)->run();
            if (!st) return std::move(st).error();
            ++report.indexed;
        } else {
            report.failed.push_back(n.slug + ": " + content.error().message);
        }
        if (progress) progress(++done, all.size());
    }
    // One b-tree per term instead of many small segments: faster queries.
    if (auto st = c.exec("INSERT INTO notes_fts (notes_fts) VALUES ('optimize')"); !st) return std::move(st).error();
    if (auto st = tx->commit(); !st) return std::move(st).error();
    return report;
}

}  // namespace starpunk::search
