#include "storage/data_version.hpp"

#include <sqlite3.h>

#include <array>

#include "storage/sqlite.hpp"

namespace starpunk::storage {

namespace {

// The WAL-index header (walformat.html §2.1): 48 bytes, written twice — the
// second copy first, then the first — so a reader that finds the two copies
// equal has read one whole header. It starts the first 32 KiB region.
constexpr std::size_t kHeaderWords = 12;
constexpr int kRegionBytes = 32768;

}  // namespace

// SQLite's own mapping of the WAL index's first region, asked of the probe's
// connection through its VFS (xShmMap, without extending). The file is never
// opened here: closing a descriptor of it would drop every POSIX lock this
// process holds on it — SQLite's included, after which another process
// takes the WAL index for unused and truncates it under our connections (a
// SIGBUS in SQLite's next commit). The mapping lives as long as the
// connection, which the probe keeps until it goes.
class DataVersionProbe::WalIndexView {
public:
    static std::unique_ptr<WalIndexView> open(Connection& connection) {
        sqlite3_file* file = nullptr;
        if (sqlite3_file_control(connection.raw(), "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK || !file ||
            !file->pMethods || file->pMethods->iVersion < 2 || !file->pMethods->xShmMap) {
            return nullptr;
        }
        void volatile* region = nullptr;
        if (file->pMethods->xShmMap(file, 0, kRegionBytes, 0, &region) != SQLITE_OK || !region) return nullptr;
        return std::unique_ptr<WalIndexView>(new WalIndexView(static_cast<const volatile uint32_t*>(region)));
    }
    WalIndexView(const WalIndexView&) = delete;
    WalIndexView& operator=(const WalIndexView&) = delete;

    // FNV-1a over the first copy, when it equals the second.
    std::optional<uint64_t> fingerprint() const {
        std::array<uint32_t, kHeaderWords> first{};
        for (std::size_t i = 0; i < kHeaderWords; ++i) first[i] = load(i);
        uint64_t hash = 1469598103934665603ull;
        for (std::size_t i = 0; i < kHeaderWords; ++i) {
            if (load(kHeaderWords + i) != first[i]) return std::nullopt;
            hash = (hash ^ first[i]) * 1099511628211ull;
        }
        return hash;
    }

private:
    explicit WalIndexView(const volatile uint32_t* words) : words_(words) {}
    // Written by other connections and processes at any time: each word is
    // read whole (aligned), in order.
    uint32_t load(std::size_t i) const { return __atomic_load_n(const_cast<const uint32_t*>(words_ + i), __ATOMIC_ACQUIRE); }
    const volatile uint32_t* words_;
};

DataVersionProbe::DataVersionProbe(std::string database_path, Options options)
    : database_path_(std::move(database_path)), options_(options) {}

DataVersionProbe::~DataVersionProbe() = default;

int64_t DataVersionProbe::now_ns() const { return std::chrono::steady_clock::now().time_since_epoch().count(); }

std::optional<uint64_t> DataVersionProbe::header_fingerprint() const {
    if (!wal_index_ready_.load(std::memory_order_acquire)) return std::nullopt;
    return view_->fingerprint();
}

bool DataVersionProbe::quiet() const {
    auto now = header_fingerprint();
    return now && *now == seen_fingerprint_.load(std::memory_order_acquire) &&
           now_ns() < next_check_ns_.load(std::memory_order_relaxed);
}

bool DataVersionProbe::changed(bool fresh) {
    if (quiet()) return false;
    const int64_t now = now_ns();
    const bool watching = watches_wal_index();
    // Without the WAL index, only a fresh check or a run-out interval reads.
    if (!watching && !fresh && now < next_check_ns_.load(std::memory_order_relaxed)) return false;
    std::unique_lock lock(mutex_, std::defer_lock);
    if (fresh || watching) {
        lock.lock();
        if (watching && quiet()) return false;  // a concurrent caller read this header's version
    } else if (!lock.try_lock()) {
        return false;
    }
    // The header before data_version: a commit after this point changes the
    // header again, so the next check reads again (nothing is missed).
    const auto fingerprint = header_fingerprint();
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
    if (fingerprint) seen_fingerprint_.store(*fingerprint, std::memory_order_release);
    next_check_ns_.store(now + std::chrono::nanoseconds(options_.interval).count(), std::memory_order_relaxed);
    if (options_.use_wal_index && !watching) {
        // After a read through our connection the file exists and stays.
        if (!view_) view_ = WalIndexView::open(*connection_);
        if (view_ && view_->fingerprint()) {
            // Not yet compared with any read: the next check reads once more.
            seen_fingerprint_.store(0, std::memory_order_relaxed);
            wal_index_ready_.store(true, std::memory_order_release);
        }
    }
    return moved;
}

}  // namespace starpunk::storage
