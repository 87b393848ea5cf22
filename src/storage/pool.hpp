// A fixed-size pool of SQLite connections (SPEC §9 statistics).
//
// Contract: acquire() returns a Lease holding one connection for the caller's
// exclusive use; the connection returns to the pool when the Lease is destroyed.
// When all `size` connections are in use, acquire() waits up to `timeout` and
// then fails with ErrorCode::io ("database busy"). Connections are opened
// lazily, up to `size`. Thread-safe.
//
// Statistics: created/closed count connections opened/closed; hits are acquires
// served at once by an idle connection, misses those that had to open one or
// wait; reused counts acquires served by a connection that had been used
// before; waits and wait_time_ms count acquires that had to wait.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/sqlite.hpp"

namespace starpunk::storage {

struct PoolStats {
    int size = 0;
    int idle = 0;
    int in_use = 0;
    uint64_t created = 0;
    uint64_t reused = 0;
    uint64_t closed = 0;
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t waits = 0;
    double wait_time_ms = 0;
};

class ConnectionPool : public std::enable_shared_from_this<ConnectionPool> {
public:
    struct Options {
        std::string path;
        int size = 5;
        double timeout_seconds = 10.0;
        StatementObserver observer;  // installed on every connection
    };

    class Lease {
    public:
        Lease(std::shared_ptr<ConnectionPool> pool, std::unique_ptr<Connection> conn)
            : pool_(std::move(pool)), conn_(std::move(conn)) {}
        Lease(Lease&&) noexcept = default;
        // Returns the connection this lease held (if any) before taking over.
        Lease& operator=(Lease&& other) noexcept;
        ~Lease();
        Connection& operator*() const { return *conn_; }
        Connection* operator->() const { return conn_.get(); }

    private:
        std::shared_ptr<ConnectionPool> pool_;
        std::unique_ptr<Connection> conn_;
    };

    // Opens one connection at once to prove the database is usable.
    static Result<std::shared_ptr<ConnectionPool>> open(Options options);

    Result<Lease> acquire();
    // An idle connection at once, or ErrorCode::busy — never waits and never
    // opens one (for threads that must not block: the HTTP I/O threads).
    Result<Lease> try_acquire();
    PoolStats stats() const;
    const std::string& path() const { return options_.path; }

private:
    explicit ConnectionPool(Options options) : options_(std::move(options)) {}
    void release(std::unique_ptr<Connection> conn);

    Options options_;
    mutable std::mutex mutex_;
    std::condition_variable available_;
    struct Idle {
        std::unique_ptr<Connection> conn;
        bool served_before = false;  // for the `reused` statistic
    };
    std::vector<Idle> idle_;
    int open_count_ = 0;
    PoolStats stats_;
};

}  // namespace starpunk::storage
