#include "metrics/metrics_buffer.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <cmath>
#include <random>

namespace starpunk::metrics {

std::string_view type_name(Type t) {
    switch (t) {
        case Type::database: return "database";
        case Type::http: return "http";
        case Type::render: return "render";
    }
    return "http";
}

std::optional<Type> parse_type(std::string_view name) {
    for (Type t : kTypes)
        if (type_name(t) == name) return t;
    return std::nullopt;
}

std::string iso_timestamp(std::chrono::system_clock::time_point at) {
    using namespace std::chrono;
    auto ms = duration_cast<milliseconds>(at.time_since_epoch()).count() % 1000;
    if (ms < 0) ms += 1000;
    return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", floor<seconds>(at), ms);
}

const std::string* Record::field(std::string_view key) const {
    for (const auto& [k, v] : metadata)
        if (k == key) return &v;
    return nullptr;
}

uint64_t MetricsBuffer::next_random() noexcept {
    // xorshift64*: statistically fine for sampling, a few nanoseconds, no lock.
    thread_local uint64_t state = [] {
        std::random_device rd;
        uint64_t s = (static_cast<uint64_t>(rd()) << 32) ^ rd();
        return s ? s : 0x9E3779B97F4A7C15ull;
    }();
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545F4914F6CDD1Dull;
}

MetricsBuffer::MetricsBuffer(Options options)
    : enabled_(options.enabled), pid_(static_cast<int>(::getpid())), slots_(std::max<size_t>(1, options.capacity)) {
    for (size_t i = 0; i < threshold_.size(); ++i) {
        double r = options.sampling[i];
        if (!(r > 0)) {
            threshold_[i] = 0;
        } else if (r >= 1) {
            threshold_[i] = kAlways;
        } else {
            double scaled = std::ldexp(r, 64);  // r < 1, but rounding may reach 2^64
            threshold_[i] = scaled >= 18446744073709549568.0 ? kAlways - 1 : static_cast<uint64_t>(scaled);
        }
    }
}

void MetricsBuffer::push(Type type, std::string_view name, double duration_ms, std::initializer_list<Field> fields,
                         std::optional<std::chrono::system_clock::time_point> at) {
    push(type, name, duration_ms, fields.begin(), fields.size(), at);
}

namespace {
// How much of `v` fits in `room` bytes without splitting a UTF-8 character.
size_t fitting(std::string_view v, size_t room) {
    if (v.size() <= room) return v.size();
    size_t n = room;
    while (n > 0 && (static_cast<unsigned char>(v[n]) & 0xC0) == 0x80) --n;  // v[n] starts the cut-off part
    return n;
}
}  // namespace

void MetricsBuffer::push(Type type, std::string_view name, double duration_ms, const Field* fields, size_t n_fields,
                         std::optional<std::chrono::system_clock::time_point> at) {
    auto when = at.value_or(std::chrono::system_clock::now());
    n_fields = std::min(n_fields, kMaxFields);
    std::lock_guard lock(mutex_);
    Slot& s = slots_[head_];
    s.at = when;
    s.duration_ms = duration_ms;
    s.type = type;
    s.n_fields = static_cast<uint8_t>(n_fields);
    size_t used = 0;
    auto put = [&](std::string_view v) {
        size_t n = fitting(v, kSlotTextBytes - used);
        if (n > 0) std::memcpy(s.text + used, v.data(), n);  // an empty view may hold a null pointer
        used += n;
        return static_cast<uint16_t>(n);
    };
    s.name_len = put(name);
    for (size_t i = 0; i < n_fields; ++i) {
        s.keys[i] = fields[i].key;
        s.value_len[i] = put(fields[i].value);
    }
    head_ = (head_ + 1) % slots_.size();
    if (count_ < slots_.size()) ++count_;
    ++total_;
}

Record MetricsBuffer::to_record(const Slot& s) const {
    Record r;
    r.type = s.type;
    r.at = s.at;
    r.duration_ms = s.duration_ms;
    r.process_id = pid_;
    size_t pos = 0;
    r.name.assign(s.text, s.name_len);
    pos += s.name_len;
    r.metadata.reserve(s.n_fields);
    for (size_t i = 0; i < s.n_fields; ++i) {
        r.metadata.emplace_back(std::string(s.keys[i]), std::string(s.text + pos, s.value_len[i]));
        pos += s.value_len[i];
    }
    return r;
}

template <typename Pred>
std::vector<Record> MetricsBuffer::collect(Pred pred, bool newest_first, size_t limit) const {
    std::vector<Record> out;
    std::lock_guard lock(mutex_);
    const size_t cap = slots_.size();
    const size_t oldest = (head_ + cap - count_) % cap;
    for (size_t k = 0; k < count_ && out.size() < limit; ++k) {
        size_t i = newest_first ? (head_ + cap - 1 - k) % cap : (oldest + k) % cap;
        if (pred(slots_[i])) out.push_back(to_record(slots_[i]));
    }
    return out;
}

std::vector<Record> MetricsBuffer::all() const {
    return collect([](const Slot&) { return true; }, false, SIZE_MAX);
}

std::vector<Record> MetricsBuffer::recent(size_t n) const {
    return collect([](const Slot&) { return true; }, true, n);
}

std::vector<Record> MetricsBuffer::by_type(Type type) const {
    return collect([type](const Slot& r) { return r.type == type; }, false, SIZE_MAX);
}

std::vector<Record> MetricsBuffer::slow(double threshold_ms) const {
    return collect([threshold_ms](const Slot& r) { return r.duration_ms >= threshold_ms; }, true, SIZE_MAX);
}

double percentile_sorted(const std::vector<double>& sorted, double pct) {
    if (sorted.empty()) return 0;
    auto rank = static_cast<size_t>(std::ceil(pct / 100.0 * static_cast<double>(sorted.size())));
    rank = std::clamp<size_t>(rank, 1, sorted.size());
    return sorted[rank - 1];
}

std::array<TypeStats, 3> MetricsBuffer::stats() const {
    std::array<std::vector<double>, 3> durations;
    {
        std::lock_guard lock(mutex_);
        const size_t cap = slots_.size();
        const size_t oldest = (head_ + cap - count_) % cap;
        for (size_t k = 0; k < count_; ++k) {
            const Slot& r = slots_[(oldest + k) % cap];
            durations[static_cast<size_t>(r.type)].push_back(r.duration_ms);
        }
    }
    std::array<TypeStats, 3> out{};
    for (size_t t = 0; t < durations.size(); ++t) {
        auto& d = durations[t];
        if (d.empty()) continue;
        std::sort(d.begin(), d.end());
        TypeStats& s = out[t];
        s.count = d.size();
        double sum = 0;
        for (double v : d) sum += v;
        s.avg_ms = sum / static_cast<double>(d.size());
        s.min_ms = d.front();
        s.max_ms = d.back();
        s.p50_ms = percentile_sorted(d, 50);
        s.p95_ms = percentile_sorted(d, 95);
        s.p99_ms = percentile_sorted(d, 99);
    }
    return out;
}

void MetricsBuffer::clear() {
    std::lock_guard lock(mutex_);
    head_ = 0;
    count_ = 0;
    total_ = 0;
}

size_t MetricsBuffer::size() const {
    std::lock_guard lock(mutex_);
    return count_;
}

uint64_t MetricsBuffer::recorded_total() const {
    std::lock_guard lock(mutex_);
    return total_;
}

}  // namespace starpunk::metrics
