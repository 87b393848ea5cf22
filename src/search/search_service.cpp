#include "search/search_service.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "notes/note_index.hpp"
#include "notes/note_text.hpp"
#include "search/query.hpp"
#include "search/text_match.hpp"

namespace starpunk::search {

std::string_view mode_name(Mode mode) { return mode == Mode::fts ? "fts5" : "fallback"; }

// Ranked id lists of recent FTS queries (see the header, "Bounded cost" 2),
// each stamped with the notes change generation read before it was ranked.
struct SearchService::Cache {
    struct Ranked {
        std::vector<int64_t> ids;  // best first, at most max_ranked
        bool exact = true;         // false: more notes matched than were ranked
    };

    explicit Cache(std::size_t cap) : capacity(cap) {}

    std::shared_ptr<const Ranked> find(const std::string& key, uint64_t generation) {
        std::lock_guard lock(mutex);
        auto it = entries.find(key);
        if (it == entries.end()) return nullptr;
        if (it->second.generation != generation) {
            lru.erase(it->second.position);
            entries.erase(it);
            return nullptr;
        }
        lru.splice(lru.begin(), lru, it->second.position);
        return it->second.ranked;
    }

    void store(const std::string& key, uint64_t generation, std::shared_ptr<const Ranked> ranked) {
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
        entries.emplace(key, Entry{generation, std::move(ranked), lru.begin()});
    }

    void clear() {
        std::lock_guard lock(mutex);
        entries.clear();
        lru.clear();
    }

    struct Entry {
        uint64_t generation;
        std::shared_ptr<const Ranked> ranked;
        std::list<std::string>::iterator position;  // in lru
    };
    const std::size_t capacity;
    std::mutex mutex;
    std::unordered_map<std::string, Entry> entries;
    std::list<std::string> lru;  // most recently used first
};

namespace {

constexpr int64_t kFallbackBatch = 200;

Hit hit_for(const notes::Note& n, std::string title, std::string excerpt_html) {
    Hit h;
    h.id = n.id;
    h.slug = n.slug;
    h.title = title.empty() ? n.slug : std::move(title);
    h.excerpt_html = std::move(excerpt_html);
    h.published_at = n.created_at;
    h.published = n.published;
    h.path = "/note/" + n.slug;
    return h;
}

// The positive terms' tokens: what excerpts mark (excluded terms are not in
// a matching note, or not where it matters).
std::vector<std::vector<std::string>> highlight_terms(const ParsedQuery& parsed) {
    std::vector<std::vector<std::string>> out;
    for (const auto& clause : parsed.all) {
        for (const auto& term : clause.any) out.push_back(term.tokens);
    }
    return out;
}

Status validate(const Query& q) {
    if (q.limit < 1 || q.limit > kMaxLimit) {
        return make_error(ErrorCode::invalid_input, fmt::format("limit must be between 1 and {}", kMaxLimit));
    }
    if (q.offset < 0) return make_error(ErrorCode::invalid_input, "offset must not be negative");
    return {};
}

}  // namespace

SearchService::SearchService(const notes::NotesService& notes, Options options, Mode mode)
    : notes_(notes), options_(options), mode_(mode) {
    if (mode_ == Mode::fts && options_.cache_entries > 0) {
        cache_ = std::make_unique<Cache>(options_.cache_entries);
        // Entries of an older generation are never served (see search_fts);
        // dropping them at once frees their memory.
        changed_ = notes_.changes().subscribe([cache = cache_.get()] { cache->clear(); });
    }
}

SearchService::~SearchService() = default;

Result<std::unique_ptr<SearchService>> SearchService::open(const notes::NotesService& notes, Options options) {
    Mode mode = Mode::fts;
    if (options.force_fallback) {
        mode = Mode::fallback;
    } else {
        auto indexed = notes.index().available();
        if (!indexed) return std::move(indexed).error();
        if (!*indexed) {
            spdlog::warn("search: SQLite has no FTS5 or the notes_fts table is missing (database migrated without "
                         "FTS5); searching by scanning note files");
            mode = Mode::fallback;
        }
    }
    options.max_ranked = std::max<int64_t>(1, options.max_ranked);
    return std::unique_ptr<SearchService>(new SearchService(notes, options, mode));
}

Result<Results> SearchService::search(const Query& query) const {
    if (auto st = validate(query); !st) return std::move(st).error();
    auto parsed = parse_query(query.text);
    if (!parsed) return std::move(parsed).error();
    if (!parsed->usable()) {
        // Only exclusions, or nothing but punctuation and operators: no note
        // can match, and the reader is told what to change.
        Results results;
        results.mode = mode_;
        results.hint = parsed->hint;
        return results;
    }
    return mode_ == Mode::fts ? search_fts(query, *parsed) : search_fallback(query, *parsed);
}

Result<Results> SearchService::search_fts(const Query& query, const ParsedQuery& parsed) const {
    Results results;
    results.mode = Mode::fts;

    // 1. The ranked id list: from the cache, or ranked now. The generation is
    // read before the index, so a list ranked across a write is never kept.
    const std::string key = std::string(query.include_drafts ? "a:" : "p:") + parsed.fts_expression;
    notes_.changes().poll(/*fresh=*/true);
    const uint64_t generation = notes_.changes().generation();
    std::shared_ptr<const Cache::Ranked> ranked = cache_ ? cache_->find(key, generation) : nullptr;
    if (!ranked) {
        auto matches = notes_.index().matches(parsed.fts_expression, query.include_drafts, options_.max_ranked + 1);
        if (!matches) {
            // The expression is built from the syntax tree with every term
            // quoted (search/query.hpp), so FTS5 should never reject it; if
            // it ever does, the reader gets "no results" (SPEC §7: never a
            // 500 for query syntax). The tests check matches() directly.
            if (matches.error().message.find("fts5") != std::string::npos) {
                spdlog::warn("search: FTS5 rejected the expression {}: {}", parsed.fts_expression,
                             matches.error().message);
                return results;
            }
            return std::move(matches).error();
        }
        auto& scored = *matches;
        auto fresh = std::make_shared<Cache::Ranked>();
        if (static_cast<int64_t>(scored.size()) > options_.max_ranked) {
            fresh->exact = false;
            scored.pop_back();  // the oldest: fetched only to know that more exist
        }
        // bm25: lower is better. Equal scores: newest (highest id) first.
        std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) {
            return a.score != b.score ? a.score < b.score : a.id > b.id;
        });
        fresh->ids.reserve(scored.size());
        for (const auto& m : scored) fresh->ids.push_back(m.id);
        ranked = fresh;
        if (cache_) cache_->store(key, generation, fresh);
    }
    results.total = static_cast<int64_t>(ranked->ids.size());
    results.total_exact = ranked->exact;

    // 2. The page: details and excerpts for its notes only. The filters are
    // checked again (a change between ranking and now drops the note).
    ExcerptOptions excerpt;
    excerpt.word_start_only = true;
    const auto marked = highlight_terms(parsed);
    const auto size = static_cast<int64_t>(ranked->ids.size());
    for (int64_t i = query.offset; i < size && i < query.offset + query.limit; ++i) {
        auto entry = notes_.index().entry(ranked->ids[static_cast<std::size_t>(i)], query.include_drafts,
                                          kExcerptSourceBytes);
        if (!entry) return std::move(entry).error();
        if (!*entry) continue;
        const notes::Note& n = (*entry)->note;
        results.hits.push_back(hit_for(n, (*entry)->title,
                                       highlight_matches(excerpt_source((*entry)->content_prefix), marked, excerpt)));
    }
    return results;
}

Result<Results> SearchService::search_fallback(const Query& query, const ParsedQuery& parsed) const {
    Results results;
    results.mode = Mode::fallback;
    // The tree over needles: every clause has a needle in the note's words,
    // no excluded needle does (text_match.hpp fold_words: substrings of the
    // folded text with punctuation runs as one space).
    std::vector<std::vector<std::u32string>> all;
    for (const auto& clause : parsed.all) {
        auto& any = all.emplace_back();
        for (const auto& term : clause.any) any.push_back(fold_tokens(term.tokens));
    }
    std::vector<std::u32string> none;
    for (const auto& term : parsed.none) none.push_back(fold_tokens(term.tokens));
    auto matches = [&](const std::u32string& words) {
        auto found = [&](const std::u32string& needle) { return words.find(needle) != std::u32string::npos; };
        return std::ranges::all_of(all, [&](const auto& any) { return std::ranges::any_of(any, found); }) &&
               std::ranges::none_of(none, found);
    };
    const auto marked = highlight_terms(parsed);
    // One more match than the page needs tells whether another page exists.
    const int64_t wanted = query.offset + query.limit + 1;
    int64_t found = 0;
    bool reached_end = false;
    const auto visibility = query.include_drafts ? notes::Visibility::all : notes::Visibility::published;
    notes::NoteCursor cursor;
    while (found < wanted && !reached_end) {
        // A batch of rows (its connection goes back before any file is read),
        // then the files.
        auto batch = notes_.walk_newest(visibility, cursor, kFallbackBatch);
        if (!batch) return std::move(batch).error();
        cursor = batch->next;
        reached_end = batch->end;
        for (const auto& n : batch->notes) {
            auto content = notes_.read_content(n);
            if (!content) {
                spdlog::warn("search: note {} skipped: {}", n.slug, content.error().message);
                continue;
            }
            if (!matches(fold_words(*content))) continue;
            ++found;
            if (found > query.offset && found <= query.offset + query.limit) {
                results.hits.push_back(
                    hit_for(n, notes::note_title(*content), highlight_matches(excerpt_source(*content), marked)));
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
    return notes_.index().needs_rebuild();
}

Result<RebuildReport> SearchService::rebuild(const Progress& progress) {
    if (mode_ != Mode::fts) {
        return make_error(ErrorCode::unsupported, "search runs without an index (no FTS5 or SEARCH_FORCE_FALLBACK)");
    }
    return notes_.index().rebuild(progress);
}

}  // namespace starpunk::search
