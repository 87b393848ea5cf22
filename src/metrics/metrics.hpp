// The process's metrics (SPEC §9): one object, built at start-up from the
// METRICS_* settings and shared by every instrumented layer. It owns
//   * the MetricsBuffer of recent sampled operations (database, http, render);
//   * the slow log: the last kSlowLogSize operations at or above the slow
//     threshold (METRICS_SLOW_QUERY_THRESHOLD), kept apart so ordinary traffic
//     cannot evict them from the dashboard;
//   * unsampled counters for Prometheus (requests by route/method/status with
//     a latency histogram; feed answers by format).
//
// Instrumentation entry points (statement, request, render) are cheap when
// an operation is sampled out: a flag test and one random draw, no allocation.
// Slow operations and errors are always recorded (force) and slow ones are
// logged at WARNING. With enabled=false nothing is recorded or counted.
// Knows nothing of HTTP or SQLite types: callers pass plain values.
// Thread-safety: every member function may be called from any thread.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string_view>

#include "metrics/counters.hpp"
#include "metrics/metrics_buffer.hpp"

namespace starpunk::metrics {

struct Settings {
    bool enabled = true;
    size_t buffer_size = 1000;
    std::array<double, 3> sampling{1.0, 1.0, 1.0};  // index = Type
    double slow_threshold_seconds = 1.0;
};

struct RequestInfo {
    std::string_view method;      // "GET"; anything unusual is counted as "OTHER"
    std::string_view route;       // the route pattern ("/note/{slug}"), "unmatched" without one
    std::string_view request_id;
    int status = 0;
    uint64_t bytes = 0;           // body bytes written
    std::chrono::nanoseconds took{};
    bool aborted = false;         // the connection failed before the response was complete
};

class Metrics {
public:
    static constexpr size_t kSlowLogSize = 100;

    explicit Metrics(const Settings& settings);

    // One SQL statement finished (storage's StatementObserver calls this).
    void statement(std::string_view sql, std::chrono::nanoseconds took, bool ok);
    // One HTTP response finished (written or aborted).
    void request(const RequestInfo& info);
    // One template rendered.
    void render(std::string_view template_name, std::chrono::nanoseconds took, bool ok = true);
    // A feed answer (see FeedCounters).
    void feed(std::string_view format, FeedCounters::Event event);

    bool enabled() const { return settings_.enabled; }
    const Settings& settings() const { return settings_; }
    double slow_threshold_ms() const { return slow_ms_; }
    std::chrono::system_clock::time_point started() const { return started_; }

    MetricsBuffer& buffer() { return buffer_; }
    const MetricsBuffer& buffer() const { return buffer_; }
    const MetricsBuffer& slow_log() const { return slow_; }
    const RequestCounters& requests() const { return requests_; }
    const FeedCounters& feeds() const { return feeds_; }

private:
    void record_slow(Type type, std::string_view name, double ms, const Field* fields, size_t n);

    Settings settings_;
    double slow_ms_;
    std::chrono::system_clock::time_point started_;
    MetricsBuffer buffer_;
    MetricsBuffer slow_;
    RequestCounters requests_;
    FeedCounters feeds_;
};

}  // namespace starpunk::metrics
