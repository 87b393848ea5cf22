// The one "notes changed" notification. Everything that keeps something
// derived from notes in memory (the page cache, the search result cache, feed
// caches) subscribes here instead of being invalidated by hand.
//
// Raised (publish) by:
//   * NotesService after every committed write of this process (create,
//     update, soft delete, restore, purge, recovery, index rebuild) — before
//     the write returns to its caller, so a reader that starts after a write
//     returned never sees a cache from before it;
//   * poll(), when the storage/ data_version probe saw a commit by another
//     connection (another process): on the next poll where the probe watches
//     the WAL index (the server's database, always in WAL mode), otherwise at
//     most `interval` late.
//
// Invariants: generation() grows by one on every publish, before listeners
// run; a value derived from the database is fresh only if generation() is
// unchanged between reading it before the database and storing the value
// (the race with a concurrent write then drops the value rather than keeping
// it stale). Listeners run on the publishing thread, must be quick, must not
// throw and must not subscribe or unsubscribe.
// Thread-safe. A Subscription may outlive the NoteChanges it came from.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace starpunk::storage {
class DataVersionProbe;
}

namespace starpunk::notes {

class NoteChanges {
    struct Registry;

public:
    using Listener = std::function<void()>;

    // Unsubscribes when destroyed.
    class Subscription {
    public:
        Subscription() = default;
        Subscription(Subscription&&) noexcept = default;
        Subscription& operator=(Subscription&&) noexcept;
        ~Subscription();

    private:
        friend class NoteChanges;
        Subscription(std::weak_ptr<Registry> registry, uint64_t id) : registry_(std::move(registry)), id_(id) {}
        void reset();
        std::weak_ptr<Registry> registry_;
        uint64_t id_ = 0;
    };

    // Without a database path, only this process's writes are noticed.
    explicit NoteChanges(std::string database_path = {},
                         std::chrono::milliseconds interval = std::chrono::milliseconds(1000));
    ~NoteChanges();
    NoteChanges(const NoteChanges&) = delete;
    NoteChanges& operator=(const NoteChanges&) = delete;

    [[nodiscard]] Subscription subscribe(Listener listener);
    void publish();
    uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
    // Publishes when another connection committed since the last poll. When
    // the probe watches the WAL index, every poll is fresh and costs a few
    // loads from shared memory until a commit moves the header; otherwise at
    // most one probe read per interval and one atomic load between. `fresh`
    // reads the probe now; a fresh poll, and any poll that saw the header
    // move, returns only after the publish it or a concurrent poll caused (a
    // request that starts after another process's commit sees that commit).
    void poll(bool fresh = false);
    // True when polls cost no SQLite read until something committed.
    bool polls_are_cheap() const;

private:
    std::shared_ptr<Registry> registry_;
    std::unique_ptr<storage::DataVersionProbe> probe_;
    std::mutex poll_mutex_;  // held from probe read to publish
    std::atomic<uint64_t> generation_{1};
};

}  // namespace starpunk::notes
