// Full-text search over notes (SPEC §7).
//
// Two modes, chosen once when the service is opened:
//   * fts — the notes' full-text index exists (notes/note_index.hpp: FTS5
//     compiled in, `notes_fts` present). The query's syntax tree
//     (search/query.hpp: words, phrases, OR, NOT, prefix*) becomes an FTS5
//     expression with every term quoted, matched by the index and ranked by its
//     bm25 score (a match in the title weighs ten times one in the content);
//     equal scores go newest first.
//   * fallback — no FTS5, no `notes_fts`, or Options::force_fallback
//     (SEARCH_FORCE_FALLBACK=true): note files are read newest first and
//     matched against the same tree, each term a case-insensitive substring
//     of the note's words (text_match.hpp fold_words: a phrase matches across
//     spaces and punctuation as in FTS5, a prefix* is its word); the scan
//     stops as soon as the requested page is full (plus one match, to know
//     whether another page exists). No ranking beyond recency.
// Both: a query that cannot match anything (only exclusions, only
// punctuation: ParsedQuery::usable() false) gives no hits, total 0 and
// Results::hint. Deleted notes (deleted_at set) never match; drafts match only when
// Query::include_drafts (the requester is the admin).
//
// Bounded cost (SPEC §7, §14: p99 < 20 ms on 100,000 notes, including a term
// in every note). Two measures:
//   1. A cap on the ranked set. FTS5 walks a term's matches in rowid order
//      without sorting; only the kMaxRanked (1,000) most recently added
//      matching, visible notes are scored with bm25 and ranked. A query
//      whose term is in every note therefore ranks 1,000 notes, not the
//      corpus: relevance is exact among the newest 1,000 matches, and older
//      notes beyond them are not reachable for such a broad query (adding a
//      word narrows it). Results::total then says 1,000 with total_exact =
//      false ("1,000+"), and pages end there.
//   2. A small cache of ranked lists (ids only, at most 64 queries, LRU),
//      keyed by (FTS expression, include_drafts) and stamped with the notes
//      change generation (notes/changes.hpp) read before the query ran. A
//      write through this process changes it before the write returns; each
//      query first asks the data_version probe (a fresh poll), so a write by
//      another process (starpunk import) is seen at once too. A list from an
//      older generation is never served, and the cache empties itself on
//      every change. Paging through a result list and
//      repeated queries cost a few point lookups. Fallback mode is not cached.
// Results::total is therefore exact only when total_exact is true: in FTS
// mode when fewer than kMaxRanked notes match; in fallback mode when the scan
// reached the last note.
//
// search/ holds no SQL: rows, the index and change notifications all come
// from notes/ (NotesService::walk_newest, NoteIndex, NoteChanges).
//
// Excerpts: search/text_match.hpp — about 200 characters of the note's
// Markdown source around the first match (whitespace collapsed, from the
// first 16 KiB), every byte HTML-escaped, with only <mark>…</mark> added
// around matches. In FTS mode the content comes from the index (no file
// read); in fallback mode from the file, verified against its hash.
//
// Contract: nothing throws; every method returns a Result. Errors:
// invalid_input (search(): blank, over-long or invalid-UTF-8 query; limit or
// offset out of range), io (the database or a file failed). A note file that
// cannot be read during a fallback scan is skipped with a warning in the log,
// not an error for the reader.
// Thread-safety: search(), mode() and index_needs_rebuild() may be called
// concurrently from any number of threads. rebuild() may run while others
// search (they see the old index until it commits); do not run two rebuilds
// at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "notes/note_index.hpp"
#include "notes/notes_service.hpp"
#include "util/clock.hpp"
#include "util/result.hpp"

namespace starpunk::search {

struct ParsedQuery;

enum class Mode { fts, fallback };

// "fts5" or "fallback" (health checks, logs).
std::string_view mode_name(Mode mode);

inline constexpr int64_t kMaxRanked = 1000;
inline constexpr int64_t kMaxLimit = 100;

struct Query {
    std::string text;             // as typed; parsed by search/query.hpp
    bool include_drafts = false;  // true only for the admin
    int64_t limit = 20;           // 1..kMaxLimit
    int64_t offset = 0;           // >= 0
};

struct Hit {
    int64_t id = 0;
    std::string slug;
    std::string title;         // notes::note_title(content), or the slug when the note has no visible text
    std::string excerpt_html;  // escaped text + <mark> only (see above)
    Timestamp published_at{};  // the note's created_at
    bool published = true;     // false for drafts (only ever returned to the admin)
    std::string path;          // "/note/<slug>"
};

struct Results {
    std::vector<Hit> hits;  // at most limit, best first
    int64_t total = 0;      // matching notes counted (see total_exact)
    bool total_exact = true;  // false: at least `total` notes match (cap reached / scan stopped early)
    Mode mode = Mode::fts;
    std::string hint;  // non-empty when the query cannot match anything (search/query.hpp: !usable()): what to change
};

using RebuildReport = notes::IndexRebuildReport;

class SearchService {
public:
    struct Options {
        bool force_fallback = false;  // SEARCH_FORCE_FALLBACK
        int64_t max_ranked = kMaxRanked;
        std::size_t cache_entries = 64;  // 0 disables the result cache
    };

    // Detects the mode (the index is available and not forced off). Errors:
    // io when the database cannot be asked. `notes` must outlive the service.
    static Result<std::unique_ptr<SearchService>> open(const notes::NotesService& notes, Options options);
    ~SearchService();
    SearchService(const SearchService&) = delete;
    SearchService& operator=(const SearchService&) = delete;

    Mode mode() const { return mode_; }

    Result<Results> search(const Query& query) const;

    // True in FTS mode when notes exist but the index holds no entry at all
    // (a database from before FTS5, or restored without it): start-up then
    // rebuilds it. Always false in fallback mode.
    Result<bool> index_needs_rebuild() const;

    // NoteIndex::rebuild (every note with a row, deleted ones included, in one
    // transaction; unreadable files listed). Errors: unsupported in fallback
    // mode; io when the database fails (nothing changed then).
    using Progress = notes::NoteIndex::Progress;
    Result<RebuildReport> rebuild(const Progress& progress = {});

private:
    struct Cache;
    SearchService(const notes::NotesService& notes, Options options, Mode mode);
    Result<Results> search_fts(const Query& query, const ParsedQuery& parsed) const;
    Result<Results> search_fallback(const Query& query, const ParsedQuery& parsed) const;

    const notes::NotesService& notes_;
    Options options_;
    Mode mode_;
    std::unique_ptr<Cache> cache_;
    notes::NoteChanges::Subscription changed_;  // after cache_: unsubscribes before the cache goes
};

}  // namespace starpunk::search
