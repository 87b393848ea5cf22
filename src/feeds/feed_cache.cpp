#include "feeds/feed_cache.hpp"

#include <utility>

namespace starpunk::feeds {

namespace {

size_t slot(Format format) { return static_cast<size_t>(format); }

}  // namespace

FeedCache::FeedCache(std::shared_ptr<const FeedService> service, notes::NoteChanges& changes, size_t max_body_bytes,
                     std::chrono::nanoseconds external_check, Derive derive)
    : service_(std::move(service)),
      changes_(changes),
      max_body_bytes_(max_body_bytes),
      external_check_(external_check),
      derive_(std::move(derive)),
      subscription_(changes.subscribe([this] { invalidate(); })) {}

std::shared_ptr<const CachedFeed> FeedCache::current(Format format) const {
    // Read the generation first: an entry stored after this load carries a
    // generation at least this one, and one stored before is checked against it.
    const uint64_t generation = changes_.generation();
    std::shared_lock lock(mutex_);
    const auto& entry = entries_[slot(format)];
    return entry && entry->generation == generation ? entry : nullptr;
}

void FeedCache::poll_external() {
    if (changes_.polls_are_cheap()) return changes_.poll();  // fresh for the price of a few loads
    using namespace std::chrono;
    const int64_t now = duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count();
    if (now < next_external_check_ns_.load(std::memory_order_relaxed)) return;
    next_external_check_ns_.store(now + external_check_.count(), std::memory_order_relaxed);
    changes_.poll(/*fresh=*/true);
}

std::shared_ptr<const CachedFeed> FeedCache::find(Format format) {
    poll_external();
    return current(format);
}

void FeedCache::invalidate() {
    std::unique_lock lock(mutex_);
    for (auto& entry : entries_) entry.reset();
}

Result<FeedCache::Built> FeedCache::build(Format format) {
    std::lock_guard building(build_mutex_[slot(format)]);
    changes_.poll(/*fresh=*/true);  // a build reads the database anyway
    if (auto entry = current(format)) return Built{std::move(entry), {}, false};

    // Invariant 1: the generation before the database.
    const uint64_t generation = changes_.generation();
    auto prepared = service_->prepare(format);
    if (!prepared) return std::move(prepared).error();
    auto entry = std::make_shared<CachedFeed>();
    entry->format = format;
    entry->generation = generation;
    entry->etag = prepared->etag;
    if (derive_) entry->derived = derive_(*entry);

    auto source = FeedService::stream(service_, std::move(*prepared));
    std::string body;
    bool complete = false;
    while (body.size() <= max_body_bytes_) {
        auto more = source(body);  // appends the next chunk
        if (!more) return std::move(more).error();
        if (!*more) {
            complete = true;
            break;
        }
    }

    Built built;
    built.generated = true;
    if (complete) {
        body.shrink_to_fit();
        entry->body = std::make_shared<const std::string>(std::move(body));
    } else {
        // Invariant 3: too large to keep. Hand the part generated so far to
        // this request's stream, followed by the rest, item by item.
        built.stream = [head = std::make_shared<std::string>(std::move(body)),
                        rest = std::move(source)](std::string& chunk) mutable -> Result<bool> {
            if (head) {
                chunk.append(*head);
                head.reset();
                return true;
            }
            return rest(chunk);
        };
    }
    {
        std::unique_lock lock(mutex_);
        if (changes_.generation() == generation) entries_[slot(format)] = entry;
    }
    built.feed = std::move(entry);
    return built;
}

}  // namespace starpunk::feeds
