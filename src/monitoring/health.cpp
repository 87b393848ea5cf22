#include "monitoring/health.hpp"

#include <sys/stat.h>

namespace starpunk::monitoring {

HealthProbe::HealthProbe(std::string database_path, std::string data_path, std::chrono::milliseconds ttl)
    : database_path_(std::move(database_path)), data_path_(std::move(data_path)), ttl_(ttl) {}

bool HealthProbe::healthy() {
    auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    if (checked_at_ns_.load(std::memory_order_relaxed) != 0 &&
        now - checked_at_ns_.load(std::memory_order_relaxed) < std::chrono::nanoseconds(ttl_).count()) {
        return last_.load(std::memory_order_relaxed);
    }
    std::unique_lock lock(mutex_, std::try_to_lock);
    if (!lock.owns_lock()) return last_.load(std::memory_order_relaxed);
    bool ok = check_now();
    last_.store(ok, std::memory_order_relaxed);
    checked_at_ns_.store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
    return ok;
}

bool HealthProbe::check_now() {
    struct stat st{};
    if (::stat(data_path_.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return false;
    if (!conn_) {
        auto c = storage::Connection::open(database_path_, {0.2, false, false});
        if (!c) return false;
        conn_ = std::move(*c);
    }
    auto stmt = conn_->prepare("SELECT 1");
    if (!stmt) {
        conn_.reset();
        return false;
    }
    auto row = (*stmt)->step();
    bool ok = row.ok() && *row && (*stmt)->integer(0) == 1;
    (*stmt)->reset();
    if (!ok) conn_.reset();
    return ok;
}

}  // namespace starpunk::monitoring
