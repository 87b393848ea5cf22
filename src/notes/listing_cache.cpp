#include "notes/listing_cache.hpp"

namespace starpunk::notes {

ListingCache::ListingCache(NoteChanges& changes)
    : changes_(changes), subscription_(changes.subscribe([this] { clear(); })) {}

void ListingCache::clear() {
    std::lock_guard lock(mutex_);
    listings_.clear();
    order_.clear();
}

ListingCache::Ids ListingCache::find(const std::string& key) {
    changes_.poll();
    std::lock_guard lock(mutex_);
    if (auto it = listings_.find(key); it != listings_.end()) {
        order_.splice(order_.begin(), order_, it->second.position);
        return it->second.ids;
    }
    return nullptr;
}

Result<ListingCache::Ids> ListingCache::get(const std::string& key, const Loader& load) {
    if (auto kept = find(key)) return kept;
    const uint64_t generation = changes_.generation();  // before the database (invariant 1)
    auto loaded = load();
    if (!loaded) return std::move(loaded).error();
    Ids ids = std::make_shared<const std::vector<int64_t>>(std::move(*loaded));
    std::lock_guard lock(mutex_);
    // clear() runs under this mutex after the generation moved on, so checking
    // the generation here, under the lock, cannot miss a publish.
    if (changes_.generation() == generation && !listings_.contains(key)) {
        order_.push_front(key);
        listings_.emplace(key, Entry{ids, order_.begin()});
        if (listings_.size() > kMaxListings) {
            listings_.erase(order_.back());
            order_.pop_back();
        }
    }
    return ids;
}

}  // namespace starpunk::notes
