// MetricsBuffer (metrics/metrics_buffer.hpp): bounds, eviction order, sampling,
// force, queries and statistics. Also built under ThreadSanitizer
// (tsan_tests in tests/CMakeLists.txt) for the concurrent tests.
#include "metrics/metrics_buffer.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace starpunk::metrics {
namespace {

MetricsBuffer::Options opts(size_t cap, std::array<double, 3> rates = {1, 1, 1}, bool enabled = true) {
    MetricsBuffer::Options o;
    o.capacity = cap;
    o.sampling = rates;
    o.enabled = enabled;
    return o;
}

void push_n(MetricsBuffer& b, int n, Type t = Type::http, int first = 0) {
    for (int i = first; i < first + n; ++i) b.push(t, "op" + std::to_string(i), static_cast<double>(i), {});
}

TEST(MetricsBuffer, HoldsAtMostItsCapacityAndEvictsTheOldestFirst) {
    MetricsBuffer b(opts(5));
    push_n(b, 3);
    EXPECT_EQ(b.size(), 3u);
    push_n(b, 9, Type::http, 3);  // op0..op11 pushed in all
    EXPECT_EQ(b.size(), 5u);
    EXPECT_EQ(b.capacity(), 5u);
    EXPECT_EQ(b.recorded_total(), 12u);
    auto all = b.all();
    ASSERT_EQ(all.size(), 5u);
    for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].name, "op" + std::to_string(7 + i));  // oldest first
}

TEST(MetricsBuffer, RecentIsNewestFirstAndBounded) {
    MetricsBuffer b(opts(10));
    push_n(b, 14);
    auto r = b.recent(3);
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[0].name, "op13");
    EXPECT_EQ(r[1].name, "op12");
    EXPECT_EQ(r[2].name, "op11");
    EXPECT_EQ(b.recent(100).size(), 10u);
    EXPECT_TRUE(b.recent(0).empty());
}

TEST(MetricsBuffer, RecordCarriesTypeNameTimestampDurationPidAndMetadata) {
    MetricsBuffer b(opts(4));
    auto at = std::chrono::sys_days{std::chrono::year{2026} / 12 / 6} + std::chrono::hours(9) +
              std::chrono::milliseconds(61'234);
    b.push(Type::database, "SELECT notes", 1.5, {{"kind", "SELECT"}, {"table", "notes"}}, at);
    auto r = b.all().at(0);
    EXPECT_EQ(r.type, Type::database);
    EXPECT_EQ(r.name, "SELECT notes");
    EXPECT_DOUBLE_EQ(r.duration_ms, 1.5);
    EXPECT_EQ(r.timestamp(), "2026-12-06T09:01:01.234Z");
    EXPECT_EQ(r.process_id, static_cast<int>(::getpid()));
    ASSERT_NE(r.field("table"), nullptr);
    EXPECT_EQ(*r.field("table"), "notes");
    EXPECT_EQ(r.field("missing"), nullptr);
}

TEST(MetricsBuffer, OverwrittenSlotsDoNotKeepOldMetadata) {
    MetricsBuffer b(opts(1));
    b.push(Type::http, "a", 1, {{"k1", "v1"}, {"k2", "v2"}});
    b.push(Type::http, "b", 1, {{"k3", "v3"}});
    auto r = b.all().at(0);
    ASSERT_EQ(r.metadata.size(), 1u);
    EXPECT_EQ(r.metadata[0].first, "k3");
    EXPECT_EQ(r.field("k1"), nullptr);
}

TEST(MetricsBuffer, OversizedRecordsAreCutOnACharacterBoundary) {
    MetricsBuffer b(opts(2));
    std::string euro = "\xE2\x82\xAC";  // 3 bytes
    std::string long_value;
    while (long_value.size() < MetricsBuffer::kSlotTextBytes + 10) long_value += euro;
    b.push(Type::database, "n", 1, {{"sql", long_value}});
    auto r = b.all().at(0);
    EXPECT_EQ(r.name, "n");
    const std::string& v = *r.field("sql");
    EXPECT_LE(v.size() + r.name.size(), MetricsBuffer::kSlotTextBytes);
    EXPECT_EQ(v.size() % 3, 0u) << "no character split";
    EXPECT_EQ(long_value.compare(0, v.size(), v), 0);

    std::vector<Field> many;
    for (size_t i = 0; i < MetricsBuffer::kMaxFields + 3; ++i) many.push_back({"k", "v"});
    b.push(Type::http, "m", 1, many.data(), many.size());
    EXPECT_EQ(b.recent(1).at(0).metadata.size(), MetricsBuffer::kMaxFields);
}

TEST(MetricsBuffer, ByTypeAndSlowQueries) {
    MetricsBuffer b(opts(100));
    b.push(Type::database, "d1", 5, {});
    b.push(Type::http, "h1", 1500, {});
    b.push(Type::render, "r1", 0.2, {});
    b.push(Type::database, "d2", 2000, {});
    auto db = b.by_type(Type::database);
    ASSERT_EQ(db.size(), 2u);
    EXPECT_EQ(db[0].name, "d1");
    EXPECT_EQ(db[1].name, "d2");
    auto slow = b.slow(1000);
    ASSERT_EQ(slow.size(), 2u);
    EXPECT_EQ(slow[0].name, "d2");  // newest first
    EXPECT_EQ(slow[1].name, "h1");
    EXPECT_TRUE(b.slow(5000).empty());
}

TEST(MetricsBuffer, ClearEmptiesEverything) {
    MetricsBuffer b(opts(10));
    push_n(b, 7);
    b.clear();
    EXPECT_EQ(b.size(), 0u);
    EXPECT_TRUE(b.all().empty());
    EXPECT_EQ(b.stats()[static_cast<size_t>(Type::http)].count, 0u);
    push_n(b, 2);
    EXPECT_EQ(b.all().size(), 2u);
}

TEST(MetricsBuffer, RateZeroAdmitsNothingRateOneEverything) {
    MetricsBuffer b(opts(10, {0.0, 1.0, 0.0}));
    int db = 0, http = 0;
    for (int i = 0; i < 10000; ++i) {
        db += b.admit(Type::database);
        http += b.admit(Type::http);
    }
    EXPECT_EQ(db, 0);
    EXPECT_EQ(http, 10000);
}

TEST(MetricsBuffer, SamplingRateIsRespectedWithinStatisticalBounds) {
    // n = 200,000 draws at p: the count's standard deviation is sqrt(n p (1-p));
    // allow 6 sigma (a false failure about once in 10^9 runs).
    for (double p : {0.01, 0.1, 0.5, 0.9}) {
        MetricsBuffer b(opts(10, {p, p, p}));
        const int n = 200000;
        int kept = 0;
        for (int i = 0; i < n; ++i) kept += b.admit(Type::render);
        double expected = n * p;
        double sigma = std::sqrt(n * p * (1 - p));
        EXPECT_NEAR(kept, expected, 6 * sigma) << "rate " << p;
    }
}

TEST(MetricsBuffer, ForceBypassesSamplingButNotDisabled) {
    MetricsBuffer b(opts(10, {0, 0, 0}));
    EXPECT_FALSE(b.record(Type::database, "sampled out", 1, {}));
    EXPECT_TRUE(b.record(Type::database, "forced", 1, {}, /*force=*/true));
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(b.all()[0].name, "forced");

    MetricsBuffer off(opts(10, {1, 1, 1}, /*enabled=*/false));
    EXPECT_FALSE(off.admit(Type::http));
    EXPECT_FALSE(off.admit(Type::http, true));
    EXPECT_FALSE(off.record(Type::http, "x", 1, {}, true));
    EXPECT_EQ(off.size(), 0u);
}

// The reference: nearest rank on a sorted copy, computed independently here.
double reference_percentile(std::vector<double> v, double pct) {
    std::sort(v.begin(), v.end());
    size_t rank = static_cast<size_t>(std::ceil(pct / 100.0 * static_cast<double>(v.size())));
    if (rank < 1) rank = 1;
    return v[rank - 1];
}

TEST(MetricsBuffer, StatsMatchAReferenceComputation) {
    std::mt19937 gen(42);
    std::lognormal_distribution<double> dist(0.0, 1.5);
    MetricsBuffer b(opts(500));
    std::vector<double> http, db;
    for (int i = 0; i < 800; ++i) {  // more than the capacity: only the last 500 count
        double v = dist(gen);
        Type t = i % 3 == 0 ? Type::database : Type::http;
        b.push(t, "x", v, {});
        if (i >= 300) (t == Type::http ? http : db).push_back(v);
    }
    auto stats = b.stats();
    for (auto [t, ref] : {std::pair{Type::http, &http}, std::pair{Type::database, &db}}) {
        const TypeStats& s = stats[static_cast<size_t>(t)];
        ASSERT_EQ(s.count, ref->size());
        double sum = std::accumulate(ref->begin(), ref->end(), 0.0);
        EXPECT_NEAR(s.avg_ms, sum / static_cast<double>(ref->size()), 1e-9);
        EXPECT_DOUBLE_EQ(s.min_ms, *std::min_element(ref->begin(), ref->end()));
        EXPECT_DOUBLE_EQ(s.max_ms, *std::max_element(ref->begin(), ref->end()));
        EXPECT_DOUBLE_EQ(s.p50_ms, reference_percentile(*ref, 50));
        EXPECT_DOUBLE_EQ(s.p95_ms, reference_percentile(*ref, 95));
        EXPECT_DOUBLE_EQ(s.p99_ms, reference_percentile(*ref, 99));
    }
    EXPECT_EQ(stats[static_cast<size_t>(Type::render)].count, 0u);
    EXPECT_EQ(stats[static_cast<size_t>(Type::render)].p99_ms, 0.0);
}

TEST(MetricsBuffer, PercentilesOfOneToHundred) {
    MetricsBuffer b(opts(100));
    for (int i = 100; i >= 1; --i) b.push(Type::http, "x", i, {});
    auto s = b.stats()[static_cast<size_t>(Type::http)];
    EXPECT_EQ(s.p50_ms, 50);
    EXPECT_EQ(s.p95_ms, 95);
    EXPECT_EQ(s.p99_ms, 99);
    EXPECT_EQ(s.min_ms, 1);
    EXPECT_EQ(s.max_ms, 100);
    EXPECT_DOUBLE_EQ(s.avg_ms, 50.5);
}

TEST(MetricsBuffer, TypeNamesRoundTrip) {
    for (Type t : kTypes) EXPECT_EQ(parse_type(type_name(t)), t);
    EXPECT_FALSE(parse_type("cache"));
}

TEST(MetricsBufferConcurrency, ManyWritersAndReadersKeepTheBufferConsistent) {
    MetricsBuffer b(opts(64, {1, 0.5, 1}));
    constexpr int kThreads = 4, kPerThread = 5000;
    std::atomic<bool> stop{false};
    std::thread reader([&] {
        while (!stop.load()) {
            auto all = b.all();
            EXPECT_LE(all.size(), 64u);
            for (const auto& r : all) EXPECT_EQ(r.name.substr(0, 1), "t");
            (void)b.stats();
            (void)b.recent(10);
        }
    });
    std::vector<std::thread> writers;
    for (int t = 0; t < kThreads; ++t) {
        writers.emplace_back([&b, t] {
            for (int i = 0; i < kPerThread; ++i) {
                Type type = i % 2 ? Type::http : Type::database;
                std::string value = std::to_string(i);
                if (b.admit(type)) b.push(type, "t" + std::to_string(t), i, {{"i", value}});
            }
        });
    }
    for (auto& w : writers) w.join();
    stop = true;
    reader.join();
    EXPECT_EQ(b.size(), 64u);
    // Every database operation was kept (rate 1); about half the http ones.
    uint64_t total = b.recorded_total();
    EXPECT_GE(total, static_cast<uint64_t>(kThreads * kPerThread / 2));
    EXPECT_LT(total, static_cast<uint64_t>(kThreads * kPerThread));
}

}  // namespace
}  // namespace starpunk::metrics
