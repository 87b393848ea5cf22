// The cheap health probe behind GET /health (SPEC §8, first tier): the database
// answers SELECT 1 and the data directory exists.
//
// Contract: healthy() never blocks on another caller and never waits for a
// busy pool: it uses its own connection, re-checks at most once per `ttl`, and
// a caller that finds a check already running gets the last result. So /health
// stays an in-memory answer under load and cannot pile up behind the database.
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "storage/sqlite.hpp"

namespace starpunk::monitoring {

class HealthProbe {
public:
    HealthProbe(std::string database_path, std::string data_path,
                std::chrono::milliseconds ttl = std::chrono::milliseconds(1000));
    bool healthy();

private:
    bool check_now();
    std::string database_path_;
    std::string data_path_;
    std::chrono::milliseconds ttl_;
    std::mutex mutex_;
    std::unique_ptr<storage::Connection> conn_;
    std::atomic<bool> last_{false};
    std::atomic<int64_t> checked_at_ns_{0};
};

}  // namespace starpunk::monitoring
