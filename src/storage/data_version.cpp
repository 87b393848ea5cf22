#include "storage/data_version.hpp"

#include "storage/sqlite.hpp"

namespace starpunk::storage {

DataVersionProbe::DataVersionProbe(std::string database_path, std::chrono::milliseconds interval)
    : database_path_(std::move(database_path)), interval_(interval) {}

DataVersionProbe::~DataVersionProbe() = default;

bool DataVersionProbe::changed(bool fresh) {
    const int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
    if (!fresh && now < next_check_ns_.load(std::memory_order_relaxed)) return false;
    std::unique_lock lock(mutex_, std::defer_lock);
    if (fresh) {
        lock.lock();
    } else if (!lock.try_lock()) {
        return false;
    }
    next_check_ns_.store(now + interval_.count(), std::memory_order_relaxed);
    if (!connection_) {
        auto c = Connection::open(database_path_, {0.2, true, false});
        if (!c) return false;
        connection_ = std::move(*c);
    }
    auto stmt = connection_->prepare("PRAGMA data_version");
    if (!stmt) return false;
    auto row = (*stmt)->step();
    if (!row.ok() || !*row) return false;
    const int64_t version = (*stmt)->integer(0);
    (*stmt)->reset();
    const bool moved = version_ != -1 && version != version_;
    version_ = version;
    return moved;
}

}  // namespace starpunk::storage
