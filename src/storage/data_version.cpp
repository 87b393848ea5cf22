#include "storage/data_version.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>

#include "storage/sqlite.hpp"

namespace starpunk::storage {

namespace {

// The WAL-index header (walformat.html §2.1): 48 bytes, written twice — the
// second copy first, then the first — so a reader that finds the two copies
// equal has read one whole header.
constexpr std::size_t kHeaderWords = 12;
constexpr std::size_t kMappedBytes = 2 * kHeaderWords * sizeof(uint32_t);

}  // namespace

// A read-only mapping of the start of "<db>-shm". Made only after a read
// through the probe's own connection, which keeps the file open (SQLite
// deletes it only when its last connection closes), so the mapping stays the
// live one for the probe's lifetime.
class DataVersionProbe::WalIndexView {
public:
    static std::unique_ptr<WalIndexView> open(const std::string& database_path) {
        const int fd = ::open((database_path + "-shm").c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return nullptr;
        struct stat st {};
        void* at = MAP_FAILED;
        if (::fstat(fd, &st) == 0 && static_cast<std::size_t>(st.st_size) >= kMappedBytes) {
            at = ::mmap(nullptr, kMappedBytes, PROT_READ, MAP_SHARED, fd, 0);
        }
        ::close(fd);  // the mapping keeps the file
        if (at == MAP_FAILED) return nullptr;
        return std::unique_ptr<WalIndexView>(new WalIndexView(static_cast<const uint32_t*>(at)));
    }
    ~WalIndexView() { ::munmap(const_cast<uint32_t*>(words_), kMappedBytes); }
    WalIndexView(const WalIndexView&) = delete;
    WalIndexView& operator=(const WalIndexView&) = delete;

    // FNV-1a over the first copy, when it equals the second.
    std::optional<uint64_t> fingerprint() const {
        std::array<uint32_t, kHeaderWords> first{};
        for (std::size_t i = 0; i < kHeaderWords; ++i) first[i] = __atomic_load_n(words_ + i, __ATOMIC_ACQUIRE);
        uint64_t hash = 1469598103934665603ull;
        for (std::size_t i = 0; i < kHeaderWords; ++i) {
            if (__atomic_load_n(words_ + kHeaderWords + i, __ATOMIC_ACQUIRE) != first[i]) return std::nullopt;
            hash = (hash ^ first[i]) * 1099511628211ull;
        }
        return hash;
    }

private:
    explicit WalIndexView(const uint32_t* words) : words_(words) {}
    const uint32_t* words_;
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
        if (!view_) view_ = WalIndexView::open(database_path_);
        if (view_ && view_->fingerprint()) {
            // Not yet compared with any read: the next check reads once more.
            seen_fingerprint_.store(0, std::memory_order_relaxed);
            wal_index_ready_.store(true, std::memory_order_release);
        }
    }
    return moved;
}

}  // namespace starpunk::storage
