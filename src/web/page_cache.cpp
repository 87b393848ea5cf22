#include "web/page_cache.hpp"

#include "http/conditional.hpp"
#include "util/crypto.hpp"
#include "util/strings.hpp"

namespace starpunk::web {

PageCache::PageCache(notes::NoteChanges& changes, size_t capacity)
    : changes_(changes), capacity_(capacity), subscription_(changes.subscribe([this] { invalidate(); })) {}

std::shared_ptr<const CachedPage> PageCache::find(const std::string& key) {
    changes_.poll();
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

std::shared_ptr<const CachedPage> make_cached_page(int status, std::string body, std::string last_modified) {
    auto page = std::make_shared<CachedPage>();
    page->status = status;
    page->etag = "\"" + to_hex(sha256(body)).substr(0, 20) + "\"";
    page->body = std::make_shared<const std::string>(std::move(body));
    page->last_modified = std::move(last_modified);
    page->last_modified_at = http::parse_http_date(page->last_modified).value_or(0);
    return page;
}

}  // namespace starpunk::web
