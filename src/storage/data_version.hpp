// Notices commits made through other database connections — another process
// (starpunk import, a second server) or another connection of this one.
//
// Two ways, the first when it is available:
//   * The WAL index. In WAL mode (how every StarPunk connection opens the
//     database) every commit rewrites the WAL-index header at the start of
//     the "<db>-shm" file, which every connection of every process maps
//     (https://sqlite.org/walformat.html §2.1). The probe reads SQLite's own
//     mapping of it (its connection's VFS xShmMap; the file is never opened
//     here, which would drop SQLite's POSIX locks on it when closed) and
//     compares the header with the one it saw at its last read:
//     a few loads from shared memory, no lock, no system call — so a check can
//     run on every request and a commit by another process is seen by the
//     very next one. Only when the header moved is PRAGMA data_version read
//     (the authority; the header is only the cue). As a backstop data_version
//     is also read at least once per `interval` however quiet the header.
//   * Otherwise (no WAL index: the mapping could not be made) PRAGMA
//     data_version alone, at most once per `interval` unless `fresh`.
//
// Contract: changed() is true when data_version moved since the previous
// read (never on the first one). quiet() is true only when the WAL-index
// header is the one of the last read and the interval has not run out — then
// changed() would be false; it never blocks and never touches SQLite. A
// probe that cannot open or read the database reports no change (the caller
// keeps what it has; the next check tries again). Thread-safe: concurrent
// changed() calls that are not `fresh` and find the probe busy return false
// at once; a `fresh` one waits for the read in progress.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace starpunk::storage {

class Connection;

class DataVersionProbe {
public:
    struct Options {
        std::chrono::milliseconds interval{1000};
        bool use_wal_index = true;  // false: data_version alone (tests of that path)
    };
    DataVersionProbe(std::string database_path, Options options);
    DataVersionProbe(std::string database_path, std::chrono::milliseconds interval)
        : DataVersionProbe(std::move(database_path), Options{interval, true}) {}
    ~DataVersionProbe();
    DataVersionProbe(const DataVersionProbe&) = delete;
    DataVersionProbe& operator=(const DataVersionProbe&) = delete;

    bool changed(bool fresh = false);
    bool quiet() const;
    // True once the WAL index is mapped: every check is then as fresh as a
    // `fresh` one, for the price of quiet().
    bool watches_wal_index() const { return wal_index_ready_.load(std::memory_order_acquire); }

private:
    class WalIndexView;
    // The WAL-index header's fingerprint now; nullopt while a writer is
    // rewriting it (its two copies differ) or without a view.
    std::optional<uint64_t> header_fingerprint() const;
    int64_t now_ns() const;

    const std::string database_path_;
    const Options options_;
    std::atomic<int64_t> next_check_ns_{0};
    std::atomic<bool> wal_index_ready_{false};
    std::atomic<uint64_t> seen_fingerprint_{0};  // of the header at the last data_version read
    std::mutex mutex_;  // guards the fields below and the reads
    std::unique_ptr<Connection> connection_;
    std::unique_ptr<WalIndexView> view_;  // set once (under mutex_), then read without it
    int64_t version_ = -1;
};

}  // namespace starpunk::storage
