#include "storage/pool.hpp"

#include <chrono>

namespace starpunk::storage {

ConnectionPool::Lease::~Lease() {
    if (pool_ && conn_) pool_->release(std::move(conn_));
}

ConnectionPool::Lease& ConnectionPool::Lease::operator=(Lease&& other) noexcept {
    if (this != &other) {
        if (pool_ && conn_) pool_->release(std::move(conn_));
        pool_ = std::move(other.pool_);
        conn_ = std::move(other.conn_);
    }
    return *this;
}

Result<std::shared_ptr<ConnectionPool>> ConnectionPool::open(Options options) {
    if (options.size < 1) options.size = 1;
    std::shared_ptr<ConnectionPool> pool(new ConnectionPool(std::move(options)));
    auto conn = Connection::open(pool->options_.path, {pool->options_.timeout_seconds});
    if (!conn) return std::move(conn).error();
    if (pool->options_.observer) (*conn)->set_observer(pool->options_.observer);
    pool->idle_.push_back({std::move(*conn), false});
    pool->open_count_ = 1;
    pool->stats_.created = 1;
    return pool;
}

Result<ConnectionPool::Lease> ConnectionPool::acquire() {
    std::unique_lock lock(mutex_);
    if (!idle_.empty()) {
        Idle idle = std::move(idle_.back());
        idle_.pop_back();
        ++stats_.hits;
        if (idle.served_before) ++stats_.reused;
        return Lease(shared_from_this(), std::move(idle.conn));
    }
    ++stats_.misses;
    if (open_count_ < options_.size) {
        ++open_count_;
        lock.unlock();
        auto conn = Connection::open(options_.path, {options_.timeout_seconds});
        lock.lock();
        if (!conn) {
            --open_count_;
            return std::move(conn).error();
        }
        if (options_.observer) (*conn)->set_observer(options_.observer);
        ++stats_.created;
        return Lease(shared_from_this(), std::move(*conn));
    }
    ++stats_.waits;
    auto start = std::chrono::steady_clock::now();
    bool got = available_.wait_for(lock, std::chrono::duration<double>(options_.timeout_seconds),
                                   [&] { return !idle_.empty(); });
    stats_.wait_time_ms +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (!got) return make_error(ErrorCode::io, "database busy: no connection became free in time");
    Idle idle = std::move(idle_.back());
    idle_.pop_back();
    if (idle.served_before) ++stats_.reused;
    return Lease(shared_from_this(), std::move(idle.conn));
}

Result<ConnectionPool::Lease> ConnectionPool::try_acquire() {
    std::lock_guard lock(mutex_);
    if (idle_.empty()) return make_error(ErrorCode::busy, "no idle database connection");
    Idle idle = std::move(idle_.back());
    idle_.pop_back();
    ++stats_.hits;
    if (idle.served_before) ++stats_.reused;
    return Lease(shared_from_this(), std::move(idle.conn));
}

void ConnectionPool::release(std::unique_ptr<Connection> conn) {
    {
        std::lock_guard lock(mutex_);
        idle_.push_back({std::move(conn), true});
    }
    available_.notify_one();
}

PoolStats ConnectionPool::stats() const {
    std::lock_guard lock(mutex_);
    PoolStats s = stats_;
    s.size = options_.size;
    s.idle = static_cast<int>(idle_.size());
    s.in_use = open_count_ - s.idle;
    return s;
}

}  // namespace starpunk::storage
