// The order of the public listings — published notes, and published notes
// with one tag — newest first, kept in memory as note ids, so page N of a
// listing and its page count cost a slice of a vector instead of counting and
// skipping thousands of rows (issue 11: random /?page=N and /tag/<tag>?page=N).
//
// Invariants (the same as every cache derived from notes, notes/changes.hpp):
//   1. A listing is stored only if no change was published between reading
//      the generation and storing it; every publish drops every listing. So a
//      listing is never older than the last write this process saw.
//   2. Writes of other processes reach it through NoteChanges::poll(), which
//      get() calls first (as late as the page cache's, web/page_cache.hpp).
//   3. At most kMaxListings listings are kept (the home listing and the most
//      recently asked tags); ids cost 8 bytes a note (800 KB at 100,000).
// Thread-safe; loading happens outside the lock (two concurrent first
// requests may both load; the second store is a no-op).
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "notes/changes.hpp"
#include "util/result.hpp"

namespace starpunk::notes {

class ListingCache {
public:
    using Ids = std::shared_ptr<const std::vector<int64_t>>;
    using Loader = std::function<Result<std::vector<int64_t>>()>;
    static constexpr std::size_t kMaxListings = 64;

    // `changes` must outlive the cache.
    explicit ListingCache(NoteChanges& changes);

    // The ids of listing `key`, newest first: from memory, or from `load`.
    Result<Ids> get(const std::string& key, const Loader& load);
    // The same from memory only: nullptr when not kept (never loads).
    Ids find(const std::string& key);

private:
    void clear();

    NoteChanges& changes_;
    std::mutex mutex_;
    std::list<std::string> order_;  // most recently used first
    struct Entry {
        Ids ids;
        std::list<std::string>::iterator position;
    };
    std::unordered_map<std::string, Entry> listings_;
    NoteChanges::Subscription subscription_;  // last: unsubscribes before the rest goes
};

}  // namespace starpunk::notes
