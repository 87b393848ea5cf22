#include "notes/changes.hpp"

#include <map>
#include <shared_mutex>

#include "storage/data_version.hpp"

namespace starpunk::notes {

struct NoteChanges::Registry {
    std::shared_mutex mutex;
    uint64_t next_id = 1;
    std::map<uint64_t, Listener> listeners;
};

NoteChanges::Subscription& NoteChanges::Subscription::operator=(Subscription&& other) noexcept {
    if (this != &other) {
        reset();
        registry_ = std::move(other.registry_);
        id_ = other.id_;
        other.id_ = 0;
    }
    return *this;
}

NoteChanges::Subscription::~Subscription() { reset(); }

void NoteChanges::Subscription::reset() {
    if (auto registry = registry_.lock(); registry && id_ != 0) {
        std::unique_lock lock(registry->mutex);
        registry->listeners.erase(id_);
    }
    registry_.reset();
    id_ = 0;
}

NoteChanges::NoteChanges(std::string database_path, std::chrono::milliseconds interval)
    : registry_(std::make_shared<Registry>()) {
    if (!database_path.empty()) {
        probe_ = std::make_unique<storage::DataVersionProbe>(std::move(database_path), interval);
        (void)probe_->changed(/*fresh=*/true);  // learn the current version: later commits count
    }
}

NoteChanges::~NoteChanges() = default;

NoteChanges::Subscription NoteChanges::subscribe(Listener listener) {
    std::unique_lock lock(registry_->mutex);
    const uint64_t id = registry_->next_id++;
    registry_->listeners.emplace(id, std::move(listener));
    return Subscription(registry_, id);
}

void NoteChanges::publish() {
    generation_.fetch_add(1, std::memory_order_acq_rel);
    std::shared_lock lock(registry_->mutex);
    for (const auto& [id, listener] : registry_->listeners) listener();
}

bool NoteChanges::polls_are_cheap() const { return probe_ && probe_->watches_wal_index(); }

void NoteChanges::poll(bool fresh) {
    if (!probe_ || probe_->quiet()) return;  // the usual case: no lock, no SQLite
    std::unique_lock lock(poll_mutex_, std::defer_lock);
    // Watching the WAL index, a moved header is a commit to publish before
    // this request reads on: wait for whoever is publishing it.
    if (fresh || probe_->watches_wal_index()) {
        lock.lock();
    } else if (!lock.try_lock()) {
        return;  // another thread is polling right now
    }
    if (probe_->changed(fresh)) publish();
}

}  // namespace starpunk::notes
