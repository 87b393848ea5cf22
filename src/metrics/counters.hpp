// Unsampled aggregates for Prometheus and the dashboard: HTTP requests by
// route, method and status (count, latency sum, latency histogram) and feed
// answers by format. Unlike MetricsBuffer these never forget and never sample:
// counters only grow (Prometheus counters must be monotonic).
//
// Cardinality is bounded by the caller's vocabulary (route patterns, never raw
// paths; a fixed method list) and, as a last guard, by kMaxSeries: a request
// that would create a series beyond it is counted under route "other".
// Thread-safety: every member function may be called from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace starpunk::metrics {

// Upper bounds (seconds) of the latency histogram's buckets; +Inf is implied.
inline constexpr std::array<double, 14> kLatencyBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                           0.1,    0.25,  0.5,    1.0,   2.5,  5.0,   10.0};

struct RequestSeries {
    std::string route;
    std::string method;
    int status = 0;
    uint64_t count = 0;
    double sum_seconds = 0;
    // Cumulative: buckets[i] = requests that took <= kLatencyBuckets[i].
    std::array<uint64_t, kLatencyBuckets.size()> buckets{};
};

class RequestCounters {
public:
    static constexpr size_t kMaxSeries = 2000;

    void add(std::string_view route, std::string_view method, int status, double seconds);
    // Sorted by route, method, status.
    std::vector<RequestSeries> snapshot() const;
    uint64_t total() const;

private:
    using Key = std::tuple<std::string, std::string, int>;
    using View = std::tuple<std::string_view, std::string_view, int>;
    // Orders keys and views alike (look-ups without building strings). Spelled
    // out because clang 14 with libstdc++ 12 cannot compare the two tuple types.
    struct Less {
        using is_transparent = void;
        static View view(const Key& k) { return {std::get<0>(k), std::get<1>(k), std::get<2>(k)}; }
        static const View& view(const View& v) { return v; }
        template <typename A, typename B>
        bool operator()(const A& a, const B& b) const { return view(a) < view(b); }
    };
    mutable std::mutex mutex_;
    std::map<Key, RequestSeries, Less> series_;
    uint64_t total_ = 0;
};

// Feed answers (SPEC §9 "feeds"): per format, how often a body was generated
// and how often the reader's copy was still good.
struct FeedSeries {
    std::string format;
    uint64_t cache_hits = 0;    // nothing generated: 304 to the validator, or the cached bytes
    uint64_t cache_misses = 0;  // the feed had to be generated for this answer
    uint64_t generated = 0;     // bodies generated to the end (a transfer cut short does not count)
};

class FeedCounters {
public:
    enum class Event { hit, miss, generated };
    void add(std::string_view format, Event event);
    std::vector<FeedSeries> snapshot() const;  // sorted by format

private:
    mutable std::mutex mutex_;
    std::map<std::string, FeedSeries, std::less<>> series_;
};

}  // namespace starpunk::metrics
