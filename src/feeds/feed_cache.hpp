// Finished feeds kept in memory, one per format, for the change generation
// they were built at (issue 11): a feed that has not changed is answered —
// 200 with its bytes, or 304 to its ETag — without SQLite, Markdown or
// escaping, on the I/O thread.
//
// Invariants:
//   1. An entry was built from the database state of one NoteChanges
//      generation (notes/changes.hpp): its generation is read before the
//      database, and the entry is stored only if the generation has not moved
//      since, so a feed built across a write is never kept. find() returns an
//      entry only while its generation is the current one; the subscription
//      also drops every entry on each change, so stale bytes do not linger.
//   2. Writes by another process (starpunk import, a second server) count on
//      the next request: find() polls the notes' change probe. Where the
//      probe watches the WAL index (notes/changes.hpp: the server's database
//      is in WAL mode) that poll is fresh and costs a few loads from shared
//      memory. Otherwise it reads PRAGMA data_version fresh (SQLite takes and
//      drops its file locks, ~12 % of a 304's CPU if done on every request)
//      unless another lookup did so less than `external_check` (1 ms) ago.
//      Writes through this process are seen at once (they publish before
//      returning).
//   3. Bounded memory. An entry keeps the body only when the whole document
//      is at most `max_body_bytes`; a larger feed keeps only its validator
//      (ETag), so a 304 still costs a lookup, and every 200 of it is streamed
//      item by item by FeedService as before. While building, at most
//      max_body_bytes plus one chunk are held; past the cap the request that
//      built it streams the rest. At most one build per format runs at a time
//      (concurrent requests for the same missing feed wait for it, then share
//      its entry), so a burst after a write generates each feed once.
//   4. The bytes are exactly what FeedService streams for the same state; the
//      ETag is FeedService::etag_for over the listed notes.
// Contract: nothing throws; build() returns an Error when the notes cannot be
// listed, or a note cannot be read or rendered before the cap is reached.
// Thread-safe: find() takes a shared lock; build() serialises per format.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "feeds/feed_service.hpp"
#include "notes/changes.hpp"

namespace starpunk::feeds {

// A modest feed (the default 50 items of ordinary notes is ~60 KB) fits many
// times over; three formats cost at most 3 MiB.
inline constexpr size_t kDefaultFeedCacheBytes = 1024 * 1024;
inline constexpr std::chrono::nanoseconds kDefaultExternalCheck = std::chrono::milliseconds(1);

struct CachedFeed {
    Format format = Format::rss;
    uint64_t generation = 0;
    std::string etag;                          // weak, W/"…"
    std::shared_ptr<const std::string> body;   // the whole document; null when larger than the cap
    // What the cache's owner derives from the entry once, when it is built
    // (FeedCache's `derive`; web/: the response's header lines).
    std::string derived;
};

class FeedCache {
public:
    // `service` builds the feeds; `changes` (the notes' change notification)
    // must outlive the cache.
    // `derive` (optional) fills each new entry's `derived`, from its format
    // and ETag, before anyone sees the entry.
    using Derive = std::function<std::string(const CachedFeed&)>;
    FeedCache(std::shared_ptr<const FeedService> service, notes::NoteChanges& changes,
              size_t max_body_bytes = kDefaultFeedCacheBytes,
              std::chrono::nanoseconds external_check = kDefaultExternalCheck, Derive derive = {});
    FeedCache(const FeedCache&) = delete;
    FeedCache& operator=(const FeedCache&) = delete;

    // The current entry for `format`, or nullptr when it must be built.
    // Memory and one data_version read only (invariant 2).
    std::shared_ptr<const CachedFeed> find(Format format);

    struct Built {
        std::shared_ptr<const CachedFeed> feed;  // never null
        // Set only when this call built a feed larger than the cap: the whole
        // document, streamed (the part generated so far first, then the rest).
        ChunkSource stream;
        bool generated = false;  // this call generated the feed (a cache miss)
    };
    // The current entry, building it when there is none (invariant 3).
    Result<Built> build(Format format);

    const FeedService& service() const { return *service_; }
    const std::shared_ptr<const FeedService>& service_ptr() const { return service_; }
    size_t max_body_bytes() const { return max_body_bytes_; }
    // Drops every entry (the change listener calls it).
    void invalidate();

private:
    std::shared_ptr<const CachedFeed> current(Format format) const;
    void poll_external();


    std::shared_ptr<const FeedService> service_;
    notes::NoteChanges& changes_;
    size_t max_body_bytes_;
    std::chrono::nanoseconds external_check_;
    Derive derive_;
    std::atomic<int64_t> next_external_check_ns_{0};  // steady_clock
    mutable std::shared_mutex mutex_;  // guards entries_
    std::array<std::shared_ptr<const CachedFeed>, 3> entries_;
    std::array<std::mutex, 3> build_mutex_;  // one build per format at a time
    notes::NoteChanges::Subscription subscription_;  // last: unsubscribes before the rest goes
};

}  // namespace starpunk::feeds
