// MetricsBuffer (SPEC §9): the per-process, bounded ring of recent timed
// operations behind /admin/metrics and the dashboard. Knows nothing of HTTP,
// SQL or templates: callers describe an operation with a type, a name, a
// duration and a few key/value fields.
//
// Invariants:
//   1. At most `capacity` records are held; recording into a full buffer
//      overwrites the oldest record (first in, first out).
//   2. admit() decides sampling: a type with rate 1 is always kept, rate 0
//      never, anything between with that probability (a per-thread xorshift
//      generator: no lock, no syscall, well under a microsecond). `force`
//      bypasses sampling (slow operations, errors); a disabled buffer
//      (METRICS_ENABLED=false) admits nothing, forced or not.
//   3. Recording allocates nothing and touches one compact slot: a record is
//      copied into a fixed-size slot (name and values back to back in an
//      inline arena of kSlotTextBytes) under the buffer's mutex. Keys are not
//      copied: a Field's key must have static storage (a string literal).
//      What does not fit the arena is cut on a UTF-8 character boundary;
//      records beyond kMaxFields fields keep the first kMaxFields.
//   4. Queries copy records out; newest first unless stated otherwise.
//   5. Stats use the nearest-rank percentile: pN is the smallest duration with
//      at least N % of the records at or below it.
// Thread-safety: every member function may be called from any thread.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace starpunk::metrics {

enum class Type { database = 0, http = 1, render = 2 };
inline constexpr std::array<Type, 3> kTypes = {Type::database, Type::http, Type::render};

std::string_view type_name(Type t);                         // "database" | "http" | "render"
std::optional<Type> parse_type(std::string_view name);      // inverse of type_name

// One key/value of an operation's metadata, as views: the buffer copies the
// value; the key must be a string literal (static storage, invariant 3).
struct Field {
    std::string_view key;
    std::string_view value;
};

// ISO 8601 UTC with milliseconds: "2026-12-06T09:00:00.123Z".
std::string iso_timestamp(std::chrono::system_clock::time_point at);

struct Record {
    Type type = Type::http;
    std::string name;
    std::chrono::system_clock::time_point at{};  // when the operation finished
    double duration_ms = 0;
    int process_id = 0;
    std::vector<std::pair<std::string, std::string>> metadata;

    std::string timestamp() const { return iso_timestamp(at); }
    // The value of one metadata key, or nullptr.
    const std::string* field(std::string_view key) const;
};

struct TypeStats {
    uint64_t count = 0;
    double avg_ms = 0, min_ms = 0, max_ms = 0;
    double p50_ms = 0, p95_ms = 0, p99_ms = 0;
};

class MetricsBuffer {
public:
    static constexpr size_t kMaxFields = 8;
    static constexpr size_t kSlotTextBytes = 384;

    struct Options {
        size_t capacity = 1000;
        bool enabled = true;
        // Probability of keeping an operation of each type (index = Type), 0..1.
        std::array<double, 3> sampling{1.0, 1.0, 1.0};
    };

    explicit MetricsBuffer(Options options);
    MetricsBuffer(const MetricsBuffer&) = delete;
    MetricsBuffer& operator=(const MetricsBuffer&) = delete;

    // Whether an operation of `type` is to be recorded now (invariant 2).
    // Callers check this first and build the record's fields only when true.
    bool admit(Type type, bool force = false) const noexcept {
        if (!enabled_) return false;
        if (force) return true;
        uint64_t th = threshold_[static_cast<size_t>(type)];
        if (th == kAlways) return true;
        if (th == 0) return false;
        return next_random() < th;
    }

    // Stores one record (no sampling here: call admit() first). `at` defaults
    // to now.
    void push(Type type, std::string_view name, double duration_ms, std::initializer_list<Field> fields,
              std::optional<std::chrono::system_clock::time_point> at = std::nullopt);
    void push(Type type, std::string_view name, double duration_ms, const Field* fields, size_t n_fields,
              std::optional<std::chrono::system_clock::time_point> at = std::nullopt);

    // admit() then push(): the one-call form for callers whose fields are cheap.
    bool record(Type type, std::string_view name, double duration_ms, std::initializer_list<Field> fields,
                bool force = false) {
        if (!admit(type, force)) return false;
        push(type, name, duration_ms, fields);
        return true;
    }

    std::vector<Record> all() const;                   // oldest first
    std::vector<Record> recent(size_t n) const;        // newest first, at most n
    std::vector<Record> by_type(Type type) const;      // oldest first
    std::vector<Record> slow(double threshold_ms) const;  // duration >= threshold, newest first
    std::array<TypeStats, 3> stats() const;            // index = Type
    void clear();

    size_t size() const;
    size_t capacity() const { return slots_.size(); }
    bool enabled() const { return enabled_; }
    uint64_t recorded_total() const;  // records pushed since start or clear()

private:
    static constexpr uint64_t kAlways = UINT64_MAX;
    static uint64_t next_random() noexcept;
    template <typename Pred>
    std::vector<Record> collect(Pred pred, bool newest_first, size_t limit) const;  // Pred(const Slot&)

    // One record, stored flat (invariant 3).
    struct Slot {
        std::chrono::system_clock::time_point at{};
        double duration_ms = 0;
        Type type = Type::http;
        uint8_t n_fields = 0;
        uint16_t name_len = 0;
        std::array<uint16_t, kMaxFields> value_len{};
        std::array<std::string_view, kMaxFields> keys{};
        char text[kSlotTextBytes];  // name, then each value
    };
    Record to_record(const Slot& slot) const;

    bool enabled_;
    int pid_;
    std::array<uint64_t, 3> threshold_{};
    mutable std::mutex mutex_;
    std::vector<Slot> slots_;
    size_t head_ = 0;    // the slot the next record goes to
    size_t count_ = 0;   // valid records, at most slots_.size()
    uint64_t total_ = 0;
};

// Nearest-rank percentile (invariant 5) of an ascending-sorted, non-empty list.
double percentile_sorted(const std::vector<double>& sorted, double pct);

}  // namespace starpunk::metrics
