#include "web/page_cache.hpp"

#include "util/crypto.hpp"
#include "util/strings.hpp"

namespace starpunk::web {

PageCache::PageCache(std::string database_path, size_t capacity, std::chrono::milliseconds external_check)
    : database_path_(std::move(database_path)), capacity_(capacity), external_check_(external_check) {}

std::shared_ptr<const CachedPage> PageCache::find(const std::string& key) {
    check_external_writes();
    std::shared_lock lock(mutex_);
    auto it = pages_.find(key);
    return it == pages_.end() ? nullptr : it->second;
}

void PageCache::store(const std::string& key, std::shared_ptr<const CachedPage> page, uint64_t built_at_generation) {
    std::unique_lock lock(mutex_);
    if (built_at_generation != generation_.load(std::memory_order_acquire)) return;
    if (pages_.size() >= capacity_ && !pages_.contains(key)) pages_.erase(pages_.begin());
    pages_[key] = std::move(page);
}

void PageCache::invalidate() {
    std::unique_lock lock(mutex_);
    generation_.fetch_add(1, std::memory_order_acq_rel);
    pages_.clear();
}

void PageCache::check_external_writes() {
    auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    if (now < next_check_ns_.load(std::memory_order_relaxed)) return;
    std::unique_lock lock(probe_mutex_, std::try_to_lock);
    if (!lock.owns_lock()) return;
    next_check_ns_.store(now + std::chrono::nanoseconds(external_check_).count(), std::memory_order_relaxed);
    if (!probe_) {
        auto c = storage::Connection::open(database_path_, {0.2, true, false});
        if (!c) return;
        probe_ = std::move(*c);
    }
    auto stmt = probe_->prepare("PRAGMA data_version");
    if (!stmt) return;
    auto row = (*stmt)->step();
    if (!row.ok() || !*row) return;
    int64_t version = (*stmt)->integer(0);
    (*stmt)->reset();
    // data_version changes when *another* connection commits; this process's
    // own writes invalidate explicitly, so any change here is worth a flush.
    if (data_version_ != -1 && version != data_version_) invalidate();
    data_version_ = version;
}

std::shared_ptr<const CachedPage> make_cached_page(int status, std::string body, std::string last_modified) {
    auto page = std::make_shared<CachedPage>();
    page->status = status;
    page->etag = "\"" + to_hex(sha256(body)).substr(0, 20) + "\"";
    page->body = std::make_shared<const std::string>(std::move(body));
    page->last_modified = std::move(last_modified);
    return page;
}

}  // namespace starpunk::web
