// Notices commits made through other database connections — another process
// (starpunk import, a second server) or another connection of this one — by
// polling SQLite's PRAGMA data_version on a dedicated connection.
//
// Contract: changed() is true when data_version moved since the previous
// check that read it (never on the first one); it reads at most once per
// `interval` and otherwise costs one atomic load — unless `fresh`, which
// always reads (waiting for a concurrent reader). A probe that cannot open or
// read the database reports no change (the caller keeps what it has; the next
// check tries again). Thread-safe: concurrent callers that are not `fresh`
// never block — one reads, the others see "no change" until the next interval.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace starpunk::storage {

class Connection;

class DataVersionProbe {
public:
    DataVersionProbe(std::string database_path, std::chrono::milliseconds interval);
    ~DataVersionProbe();
    DataVersionProbe(const DataVersionProbe&) = delete;
    DataVersionProbe& operator=(const DataVersionProbe&) = delete;

    bool changed(bool fresh = false);

private:
    const std::string database_path_;
    const std::chrono::nanoseconds interval_;
    std::atomic<int64_t> next_check_ns_{0};
    std::mutex mutex_;  // guards the fields below
    std::unique_ptr<Connection> connection_;
    int64_t version_ = -1;
};

}  // namespace starpunk::storage
