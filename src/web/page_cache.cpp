#include "web/page_cache.hpp"

#include <fmt/format.h>
#include <lz4.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <utility>

// Header-only: the functions are inlined here, nothing to link (libxxhash-dev).
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "http/conditional.hpp"
#include "http/response.hpp"
#include "util/strings.hpp"

namespace starpunk::web {

namespace {

// A strong validator names these exact bytes: a 64-bit hash of the body (or
// of the parts it was assembled from: make_cached_page's fingerprint) and its
// length. Not a secret and not an integrity check — it only has to differ
// between two versions of one URL — so XXH3 (fixed seed, the same in every
// process and version of the library, so validators survive a restart; tens
// of GB/s) instead of SHA-256, which cost more than the rest of building a
// permalink, or std::hash, which was 9 % of a list page built on the I/O
// thread (bench/results/2026-12-07-pages-6.md).
std::string strong_etag(std::uint64_t hash, std::size_t size) { return fmt::format("\"{:016x}-{:x}\"", hash, size); }

}  // namespace

std::uint64_t content_hash(std::string_view bytes) { return XXH3_64bits(bytes.data(), bytes.size()); }

std::uint64_t entries_digest(const std::vector<std::uint64_t>& entry_hashes) {
    return XXH3_64bits(entry_hashes.data(), entry_hashes.size() * sizeof(std::uint64_t));
}

PageCache::PageCache(notes::NoteChanges& changes, std::size_t budget_bytes)
    : changes_(changes), budget_(budget_bytes), subscription_(changes.subscribe([this] { invalidate(); })) {}

std::size_t PageCache::entry_bytes(const std::string& key, const CachedPage& page) {
    // What a kept page costs besides its strings' bytes: its slot, the page
    // and its control block, the index node and bucket, and the allocator's
    // header on each of them and on the page's strings. Counted, not guessed
    // low, because the budget is what bounds resident memory: a permalink kept
    // as its parts is ~1.4 KB of bytes, so this is a fifth of its cost.
    constexpr std::size_t kOverhead = sizeof(Slot) + sizeof(CachedPage) + 16 + 64 + 6 * 16;
    // Capacities, not sizes: a string built by appending holds up to twice
    // its length (make_framed_page and store_entry shrink theirs).
    return kOverhead + key.capacity() + (page.body ? page.body->capacity() : 0) + page.framed_title.capacity() +
           page.framed_content.capacity() + page.validator_lines.capacity();
}

std::size_t PageCache::entry_bytes(const std::string& html) {
    // Its slot and the clock's pointer to it (the vector holds up to twice
    // its size), its index node and bucket, an allocator header on the slot,
    // the node and the HTML: ~230 bytes, a sixth of a ~1.2 KB entry. Counted
    // in full for the reason above (at 100,000 notes and random tag pages,
    // counted as 120, a full 16 MiB cache held ~19 MB of malloc's memory).
    constexpr std::size_t kHeader = 16;
    constexpr std::size_t kOverhead = sizeof(Slot) + kHeader + 2 * sizeof(void*) +
                                      sizeof(void*) + sizeof(std::pair<const int64_t, EntryRef>) + kHeader +
                                      2 * sizeof(void*) + kHeader;
    return kOverhead + html.capacity();
}

std::shared_ptr<const CachedPage> PageCache::find(const std::string& key) {
    changes_.poll();
    if (budget_ == 0) return nullptr;
    std::shared_lock lock(mutex_);
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    Slot& slot = *slots_[it->second];
    if (!slot.referenced.load(std::memory_order_relaxed)) slot.referenced.store(true, std::memory_order_relaxed);
    return slot.page;
}

void PageCache::evict_one() {
    // Each pass over a marked slot clears its mark, so two turns of the clock
    // find a victim whatever the marks.
    for (;;) {
        if (hand_ >= slots_.size()) hand_ = 0;
        Slot& slot = *slots_[hand_];
        const std::size_t at = hand_++;
        if (!slot.in_use()) continue;
        if (slot.referenced.exchange(false, std::memory_order_relaxed)) continue;
        if (slot.entry_id != 0) entry_index_.erase(slot.entry_id);
        else index_.erase(slot.key);
        bytes_ -= slot.bytes;
        slot.key.clear();
        slot.entry_id = 0;
        slot.page.reset();
        std::string().swap(slot.html);
        slot.bytes = 0;
        free_slots_.push_back(at);
        return;
    }
}

void PageCache::store(const std::string& key, std::shared_ptr<const CachedPage> page, uint64_t built_at_generation) {
    const std::size_t bytes = entry_bytes(key, *page);
    if (budget_ == 0 || bytes > budget_ / 4) return;
    std::unique_lock lock(mutex_);
    if (built_at_generation != generation_.load(std::memory_order_acquire)) return;
    if (auto it = index_.find(key); it != index_.end()) {  // built twice concurrently: keep the newer
        Slot& slot = *slots_[it->second];
        bytes_ = bytes_ - slot.bytes + bytes;
        slot.page = std::move(page);
        slot.bytes = bytes;
    } else {
        std::size_t at = 0;
        Slot& slot = take_slot(bytes, at);
        slot.key = key;
        slot.page = std::move(page);
        index_.emplace(key, at);
    }
    while (bytes_ > budget_) evict_one();  // a replacement grew past the budget
}

PageCache::Slot& PageCache::take_slot(std::size_t bytes, std::size_t& at) {
    while (bytes_ + bytes > budget_ && bytes_ > 0) evict_one();
    if (!free_slots_.empty()) {
        at = free_slots_.back();
        free_slots_.pop_back();
    } else {
        at = slots_.size();
        slots_.push_back(std::make_unique<Slot>());
    }
    Slot& slot = *slots_[at];
    slot.bytes = bytes;
    slot.referenced.store(false, std::memory_order_relaxed);
    bytes_ += bytes;
    return slot;
}

void PageCache::store_entry(int64_t id, std::string html, uint64_t built_at_generation) {
    html.shrink_to_fit();
    const std::size_t bytes = entry_bytes(html);
    if (budget_ == 0 || id == 0 || bytes > budget_ / 4) return;
    std::unique_lock lock(mutex_);
    if (built_at_generation != generation_.load(std::memory_order_acquire)) return;
    if (entry_index_.contains(id)) return;  // built twice concurrently: the same bytes
    const std::uint64_t hash = content_hash(html);
    std::size_t at = 0;
    Slot& slot = take_slot(bytes, at);
    slot.entry_id = id;
    slot.html = std::move(html);
    entry_index_.emplace(id, EntryRef{at, slot.html.data(), slot.html.size(), hash});
}

bool PageCache::append_entries(const std::vector<int64_t>& ids, char separator, std::string& out,
                               std::uint64_t* digest) {
    changes_.poll();
    if (budget_ == 0) return ids.empty();
    std::shared_lock lock(mutex_);
    // Every lookup first, then the copies. The entries of a list page are
    // scattered over the cache (random pages, cold in the CPU's caches): the
    // lookups do not depend on each other, so their misses overlap, each
    // index entry says where its bytes and slot are (fetched ahead), and one
    // reservation holds the whole (perf: the lookups interleaved with the
    // copies stalled on each miss in turn).
    std::vector<const EntryRef*> found;
    found.reserve(ids.size());
    std::size_t total = 0;
    for (int64_t id : ids) {
        auto it = entry_index_.find(id);
        if (it == entry_index_.end()) return false;
        const EntryRef& ref = it->second;
        __builtin_prefetch(ref.data);
        __builtin_prefetch(&slots_[ref.slot]->referenced);
        found.push_back(&ref);
        total += ref.size + 1;
    }
    out.reserve(out.size() + total);
    std::vector<std::uint64_t> hashes;
    if (digest) hashes.reserve(found.size());
    bool first = true;
    for (const EntryRef* ref : found) {
        Slot& slot = *slots_[ref->slot];
        if (!slot.referenced.load(std::memory_order_relaxed)) slot.referenced.store(true, std::memory_order_relaxed);
        if (!first) out.push_back(separator);
        out.append(ref->data, ref->size);
        if (digest) hashes.push_back(ref->hash);
        first = false;
    }
    if (digest) *digest = entries_digest(hashes);
    return true;
}

void PageCache::invalidate() {
    std::unique_lock lock(mutex_);
    generation_.fetch_add(1, std::memory_order_acq_rel);
    index_.clear();
    entry_index_.clear();
    slots_.clear();
    free_slots_.clear();
    hand_ = 0;
    bytes_ = 0;
}

std::size_t PageCache::bytes() const {
    std::shared_lock lock(mutex_);
    return bytes_;
}

std::size_t PageCache::size() const {
    std::shared_lock lock(mutex_);
    return index_.size() + entry_index_.size();
}

namespace {

constexpr std::string_view kEtagName = "ETag: ";
constexpr std::string_view kLastModifiedName = "Last-Modified: ";

// The validators of `body`: a strong ETag from its hash; Last-Modified from
// `last_modified_at` (none when 0).
void set_validators(CachedPage& page, std::uint64_t hash, std::size_t size, std::time_t last_modified_at) {
    page.fingerprint = hash;
    page.last_modified_at = last_modified_at > 0 ? last_modified_at : 0;
    page.validator_lines = http::header_line("ETag", strong_etag(hash, size));
    page.etag_line_bytes = page.validator_lines.size();
    if (page.last_modified_at > 0) {
        http::append_header_line(page.validator_lines, "Last-Modified", http::format_http_date(last_modified_at));
    }
}

// The value of the line "<name>value\r\n" at the start of `lines`.
std::string_view line_value(std::string_view lines, std::string_view name) {
    if (lines.size() < name.size() + 2) return {};
    return lines.substr(name.size(), lines.size() - name.size() - 2);
}

// Replaces the page's content by its LZ4 block against the frame's
// dictionary when that is smaller. The dictionary is the frame's (fixed for
// its lifetime, and every page that uses it holds the frame).
void compress_content(CachedPage& page) {
    const std::string& content = page.framed_content;
    if (content.empty() || content.size() > static_cast<std::size_t>(LZ4_MAX_INPUT_SIZE)) return;
    const std::string& dict = page.frame->dictionary;
    LZ4_stream_t stream;
    LZ4_initStream(&stream, sizeof(stream));
    if (!dict.empty()) LZ4_loadDict(&stream, dict.data(), static_cast<int>(dict.size()));
    std::string packed(static_cast<std::size_t>(LZ4_compressBound(static_cast<int>(content.size()))), '\0');
    const int n = LZ4_compress_fast_continue(&stream, content.data(), packed.data(), static_cast<int>(content.size()),
                                             static_cast<int>(packed.size()), 1);
    if (n <= 0 || static_cast<std::size_t>(n) >= content.size()) return;
    packed.resize(static_cast<std::size_t>(n));
    packed.shrink_to_fit();
    page.content_bytes = static_cast<std::uint32_t>(content.size());
    page.framed_content = std::move(packed);
}

}  // namespace

std::string_view CachedPage::etag() const {
    return line_value(std::string_view(validator_lines).substr(0, etag_line_bytes), kEtagName);
}

std::string_view CachedPage::last_modified() const {
    return line_value(std::string_view(validator_lines).substr(etag_line_bytes), kLastModifiedName);
}

std::string CachedPage::content() const {
    if (content_bytes == 0) return framed_content;
    std::string out(content_bytes, '\0');
    const std::string& dict = frame->dictionary;
    const int n = LZ4_decompress_safe_usingDict(framed_content.data(), out.data(), static_cast<int>(framed_content.size()),
                                                static_cast<int>(out.size()), dict.data(), static_cast<int>(dict.size()));
    // Only make_framed_page writes the block, from these bytes: a mismatch is
    // memory corruption, not input to recover from.
    if (n != static_cast<int>(content_bytes)) std::abort();
    return out;
}

std::string CachedPage::bytes() const {
    if (body) return *body;
    if (!frame) return {};
    if (content_bytes == 0) return assemble(*frame, framed_title, framed_content);
    return assemble(*frame, framed_title, content());
}

std::shared_ptr<const CachedPage> make_cached_page(int status, std::string body, std::time_t last_modified_at,
                                                   std::uint64_t fingerprint) {
    auto page = std::make_shared<CachedPage>();
    page->status = status;
    set_validators(*page, fingerprint, body.size(), last_modified_at);
    page->body = std::make_shared<const std::string>(std::move(body));
    return page;
}

std::shared_ptr<const CachedPage> make_cached_page(int status, std::string body, std::time_t last_modified_at) {
    const std::uint64_t hash = content_hash(body);
    return make_cached_page(status, std::move(body), last_modified_at, hash);
}

std::shared_ptr<const CachedPage> make_framed_page(std::shared_ptr<const LayoutFrame> frame, std::string escaped_title,
                                                   std::string content, std::time_t last_modified_at) {
    auto page = std::make_shared<CachedPage>();
    page->frame = std::move(frame);
    page->framed_title = std::move(escaped_title);
    page->framed_content = std::move(content);
    // Kept for long and counted by capacity: no room left over from building.
    page->framed_title.shrink_to_fit();
    page->framed_content.shrink_to_fit();
    const std::string assembled = page->bytes();
    set_validators(*page, content_hash(assembled), assembled.size(), last_modified_at);
    page->validator_lines.shrink_to_fit();
    compress_content(*page);
    return page;
}

}  // namespace starpunk::web
