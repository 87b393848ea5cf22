#include "metrics/counters.hpp"

#include <algorithm>

namespace starpunk::metrics {

void RequestCounters::add(std::string_view route, std::string_view method, int status, double seconds) {
    std::lock_guard lock(mutex_);
    auto it = series_.find(View(route, method, status));
    if (it == series_.end()) {
        if (series_.size() >= kMaxSeries) route = "other";
        it = series_.find(View(route, method, status));
        if (it == series_.end()) {
            RequestSeries s;
            s.route = route;
            s.method = method;
            s.status = status;
            it = series_.emplace(Key{s.route, s.method, status}, std::move(s)).first;
        }
    }
    RequestSeries& s = it->second;
    ++s.count;
    ++total_;
    s.sum_seconds += seconds;
    // Stored per bucket (one increment); snapshot() makes them cumulative.
    auto first = std::lower_bound(kLatencyBuckets.begin(), kLatencyBuckets.end(), seconds);
    auto i = static_cast<size_t>(first - kLatencyBuckets.begin());
    if (i < s.buckets.size()) ++s.buckets[i];
}

std::vector<RequestSeries> RequestCounters::snapshot() const {
    std::lock_guard lock(mutex_);
    std::vector<RequestSeries> out;
    out.reserve(series_.size());
    for (const auto& [k, s] : series_) {
        out.push_back(s);
        for (size_t i = 1; i < s.buckets.size(); ++i) out.back().buckets[i] += out.back().buckets[i - 1];
    }
    return out;
}

uint64_t RequestCounters::total() const {
    std::lock_guard lock(mutex_);
    return total_;
}

void FeedCounters::add(std::string_view format, Event event) {
    std::lock_guard lock(mutex_);
    auto it = series_.find(format);
    if (it == series_.end()) {
        FeedSeries s;
        s.format = format;
        it = series_.emplace(std::string(format), std::move(s)).first;
    }
    switch (event) {
        case Event::hit: ++it->second.cache_hits; break;
        case Event::miss: ++it->second.cache_misses; break;
        case Event::generated: ++it->second.generated; break;
    }
}

std::vector<FeedSeries> FeedCounters::snapshot() const {
    std::lock_guard lock(mutex_);
    std::vector<FeedSeries> out;
    for (const auto& [k, s] : series_) out.push_back(s);
    return out;
}

}  // namespace starpunk::metrics
