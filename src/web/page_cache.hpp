// Rendered public pages kept in memory, so a page that has not changed is
// answered from memory on the I/O thread (issue 4: as fast as a static server).
//
// Invariants:
//   1. Every entry was built from the database state of one generation; a
//      write through this process calls invalidate() (generation + 1, entries
//      dropped), and store() refuses a page built under an older generation, so
//      a page built concurrently with a write is never kept.
//   2. Writes by other processes (starpunk import, a second server) are noticed
//      through SQLite's PRAGMA data_version, polled at most once per
//      `external_check` on a dedicated connection; until then a page may be up
//      to that long out of date.
//   3. At most `capacity` entries; when full, an arbitrary entry is dropped.
// Thread-safe: lookups take a shared lock only.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "storage/sqlite.hpp"

namespace starpunk::web {

struct CachedPage {
    int status = 200;
    std::shared_ptr<const std::string> body;
    std::string etag;           // strong, quoted
    std::string last_modified;  // HTTP-date, may be empty
};

class PageCache {
public:
    explicit PageCache(std::string database_path, size_t capacity = 4096,
                       std::chrono::milliseconds external_check = std::chrono::milliseconds(1000));

    // The page, or nullptr when it must be built.
    std::shared_ptr<const CachedPage> find(const std::string& key);
    // The generation to pass to store(); read it before reading the database.
    uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
    void store(const std::string& key, std::shared_ptr<const CachedPage> page, uint64_t built_at_generation);
    void invalidate();

private:
    void check_external_writes();

    std::string database_path_;
    size_t capacity_;
    std::chrono::milliseconds external_check_;
    std::shared_mutex mutex_;
    std::unordered_map<std::string, std::shared_ptr<const CachedPage>> pages_;
    std::atomic<uint64_t> generation_{1};
    // External-write detection.
    std::mutex probe_mutex_;
    std::unique_ptr<storage::Connection> probe_;
    int64_t data_version_ = -1;
    std::atomic<int64_t> next_check_ns_{0};
};

// Builds a CachedPage: strong ETag from the body's hash.
std::shared_ptr<const CachedPage> make_cached_page(int status, std::string body, std::string last_modified);

}  // namespace starpunk::web
