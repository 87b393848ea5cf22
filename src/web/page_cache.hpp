// Rendered public pages kept in memory, so a page that has not changed is
// answered from memory on the I/O thread (issue 4: as fast as a static server).
//
// Invariants:
//   1. Every entry was built from the database state of one generation. The
//      cache subscribes to the notes change notification (notes/changes.hpp):
//      every write through this process invalidates it (generation + 1,
//      entries dropped) before the write returns, and store() refuses a page
//      built under an older generation, so a page built concurrently with a
//      write is never kept.
//   2. Writes by other processes (starpunk import, a second server) arrive
//      through the same notification, which find() polls: on the next request
//      where the probe watches the WAL index (the server's database is in WAL
//      mode), else at most the probe interval
//      (NotesService::Options::external_check, 1 s) late.
//   3. At most `budget_bytes` of pages (their bytes or framed parts, key,
//      validators and what holding them costs, see entry_bytes()) and list
//      entries together; a page larger than a quarter
//      of the budget is not kept.
//      When full, entries go by CLOCK (second chance): a hit marks its entry,
//      the sweep spares a marked entry once and drops the first unmarked one,
//      so pages asked for again (home, feeds' neighbours, recent notes) stay
//      while a crawl's one-off pages pass through. Budget 0: nothing is kept.
// Thread-safe: lookups take a shared lock only (the mark is an atomic).
#pragma once

#include <atomic>
#include <cstdint>
#include <ctime>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "notes/changes.hpp"
#include "web/layout_frame.hpp"

namespace starpunk::web {

struct CachedPage {
    int status = 200;
    // The bytes: `body`; or, for a page in the public layout kept as its own
    // parts (make_framed_page), `frame` with `framed_title` and the content
    // in its slots — assembled for each response (bytes()). The frame is the
    // same for every such page, and the content is kept LZ4-compressed
    // against the frame's dictionary (a sample permalink's markup), so a
    // permalink costs the cache a few hundred bytes instead of its ~3.1 KB.
    std::shared_ptr<const std::string> body;
    std::shared_ptr<const LayoutFrame> frame;
    std::string framed_title;  // HTML-escaped, the whole <title>
    // content_bytes == 0: the content itself (compressing did not make it
    // smaller); else its LZ4 block, which decompresses to content_bytes.
    std::string framed_content;
    std::uint32_t content_bytes = 0;
    std::time_t last_modified_at = 0;  // 0: no Last-Modified
    // "ETag: …\r\n" then, when there is a date, "Last-Modified: …\r\n"
    // (http::header_line): the response's validators as one block; its first
    // etag_line_bytes are the ETag alone. The only copy of either value.
    std::string validator_lines;
    std::size_t etag_line_bytes = 0;
    // What the ETag was made from: content_hash() of the bytes, or the
    // fingerprint given to make_cached_page.
    std::uint64_t fingerprint = 0;

    // The strong, quoted ETag; the HTTP-date of Last-Modified (empty when none).
    std::string_view etag() const;
    std::string_view last_modified() const;
    // The whole body (a copy): `*body`, or the framed parts assembled.
    std::string bytes() const;
    // A framed page's content, decompressed (a copy).
    std::string content() const;
};

class PageCache {
public:
    // `changes` must outlive the cache.
    explicit PageCache(notes::NoteChanges& changes, std::size_t budget_bytes = 8u << 20);

    // The page, or nullptr when it must be built.
    std::shared_ptr<const CachedPage> find(const std::string& key);
    // The generation to pass to store(); read it before reading the database.
    uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
    void store(const std::string& key, std::shared_ptr<const CachedPage> page, uint64_t built_at_generation);
    void invalidate();

    // Entries: a note's fragment of list pages (web/note_view.hpp), by note
    // id, kept under the same budget, clock and generation rules as pages.
    void store_entry(int64_t id, std::string html, uint64_t built_at_generation);
    // Appends the entries of `ids` to `out` in order, `separator` between
    // them, when every one is kept: true. Else `out` is left as it was and
    // the answer is false. One shared lock for them all, nothing copied but
    // the HTML itself. `digest`, when given, is set to entries_digest() of
    // the entries appended (their hashes are kept with them).
    bool append_entries(const std::vector<int64_t>& ids, char separator, std::string& out,
                        std::uint64_t* digest = nullptr);

    // What a page counts against the budget (also what tests reason with).
    static std::size_t entry_bytes(const std::string& key, const CachedPage& page);
    // What an entry counts against it.
    static std::size_t entry_bytes(const std::string& html);
    std::size_t bytes() const;
    std::size_t size() const;

private:
    // What the entry index holds: where the entry's bytes are, so a list
    // page's lookups reach them (and the slot's mark) without a chain of
    // dependent reads. Valid while the entry is indexed (a slot's html is
    // set once, and cleared only after its index entry is erased).
    struct EntryRef {
        std::size_t slot = 0;
        const char* data = nullptr;
        std::size_t size = 0;
        std::uint64_t hash = 0;  // content_hash() of the bytes
    };
    struct Slot {
        std::string key;       // a page's key; empty for an entry or a free slot
        int64_t entry_id = 0;  // an entry's note id; 0 for a page or a free slot
        std::shared_ptr<const CachedPage> page;  // a page
        std::string html;                        // an entry
        std::size_t bytes = 0;
        std::atomic<bool> referenced{false};
        bool in_use() const { return !key.empty() || entry_id != 0; }
    };
    void evict_one();  // under the unique lock; bytes_ > 0
    // Under the unique lock, generation checked: a slot for `bytes` more, room made.
    Slot& take_slot(std::size_t bytes, std::size_t& at);

    notes::NoteChanges& changes_;
    const std::size_t budget_;
    mutable std::shared_mutex mutex_;
    std::unordered_map<std::string, std::size_t> index_;  // page key -> slot
    std::unordered_map<int64_t, EntryRef> entry_index_;     // note id -> its slot and bytes
    std::vector<std::unique_ptr<Slot>> slots_;            // the clock
    std::vector<std::size_t> free_slots_;
    std::size_t hand_ = 0;
    std::size_t bytes_ = 0;
    std::atomic<uint64_t> generation_{1};
    notes::NoteChanges::Subscription subscription_;  // last: unsubscribes before the rest goes
};

// Builds a CachedPage: strong ETag from the body's hash; Last-Modified from
// `last_modified_at` (none when 0).
std::shared_ptr<const CachedPage> make_cached_page(int status, std::string body, std::time_t last_modified_at);
// The same with the ETag made from `fingerprint` instead of hashing the body:
// a hash of what the body was assembled from, the same for the same parts in
// every process (a list page: its frame, number and entries_digest), so
// different bytes get a different ETag as surely as by hashing them.
std::shared_ptr<const CachedPage> make_cached_page(int status, std::string body, std::time_t last_modified_at,
                                                   std::uint64_t fingerprint);

// The hash ETags are made from (XXH3, 64 bits): the same for the same bytes
// in every process and version of the library.
std::uint64_t content_hash(std::string_view bytes);
// A fingerprint of entries in order, from their content_hash()es: what
// PageCache::append_entries reports for the entries it appends.
std::uint64_t entries_digest(const std::vector<std::uint64_t>& entry_hashes);
// A 200 page kept as `frame` with `escaped_title` and `content` in its slots,
// the content compressed against frame->dictionary when that makes it smaller;
// its validators are those make_cached_page gives the assembled bytes.
std::shared_ptr<const CachedPage> make_framed_page(std::shared_ptr<const LayoutFrame> frame, std::string escaped_title,
                                                   std::string content, std::time_t last_modified_at);

}  // namespace starpunk::web
