// The metrics hub under concurrent use (also run under ThreadSanitizer:
// tsan_tests in tests/CMakeLists.txt): instrumentation from many threads
// while readers take snapshots; nothing lost from the unsampled counters.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>
#include <vector>

#include "metrics/metrics.hpp"

namespace starpunk::metrics {
namespace {

RequestInfo req(std::string_view route, std::chrono::nanoseconds took) {
    RequestInfo r;
    r.method = "GET";
    r.route = route;
    r.request_id = "rid";
    r.status = 200;
    r.took = took;
    return r;
}

TEST(Metrics, ConcurrentInstrumentationFromManyThreads) {
    Settings settings;
    settings.buffer_size = 100;
    settings.sampling = {0.5, 1, 1};
    settings.slow_threshold_seconds = 0.001;
    Metrics m(settings);
    // Slow records log a warning. spdlog's registry is a function-local static
    // created on first use; the library is not instrumented, so TSan cannot see
    // its initialisation guard and reports the threads' first uses as a race.
    // Create it here, before any thread starts.
    (void)spdlog::default_logger_raw();
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&m, t] {
            for (int i = 0; i < 2000; ++i) {
                m.request(req(t % 2 ? "/" : "/feed.xml", std::chrono::microseconds(i)));
                m.statement("SELECT x FROM notes", std::chrono::microseconds(i), true);
                m.render("home", std::chrono::microseconds(i));
                if (i % 100 == 0) {
                    (void)m.requests().snapshot();
                    (void)m.buffer().stats();
                    (void)m.slow_log().recent(5);
                }
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(m.requests().total(), 8000u);
    uint64_t sum = 0;
    for (const auto& s : m.requests().snapshot()) sum += s.count;
    EXPECT_EQ(sum, 8000u);
    EXPECT_EQ(m.buffer().size(), 100u);
}

}  // namespace
}  // namespace starpunk::metrics
