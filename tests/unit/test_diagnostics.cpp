// The detailed health report's status rules (monitoring/diagnostics.hpp).
#include <gtest/gtest.h>

#include "monitoring/diagnostics.hpp"
#include "support/notes_harness.hpp"

namespace starpunk {
namespace {

struct DiagnosticsTest : ::testing::Test {
    testing::NotesHarness h;
    monitoring::DiagnosticsInput in;
    void SetUp() override {
        ASSERT_EQ(h.start(), "");
        std::filesystem::create_directories(h.notes_path);
        in.pool = h.pool.get();
        in.notes_path = h.notes_path;
        in.data_path = h.dir.path();
        in.search = "fts5";
        in.started = std::chrono::steady_clock::now();
    }
};

TEST_F(DiagnosticsTest, HealthyWhenEverythingWorks) {
    auto d = monitoring::diagnose(in);
    EXPECT_EQ(d.status, "healthy") << d.body.dump();
    EXPECT_EQ(d.body["checks"]["database"]["status"], "ok");
    EXPECT_EQ(d.body["checks"]["search"]["mode"], "fts5");
    EXPECT_FALSE(d.unhealthy());
}

TEST_F(DiagnosticsTest, MissingNotesDirectoryIsUnhealthy) {
    in.notes_path = h.notes_path + "/does-not-exist";
    auto d = monitoring::diagnose(in);
    EXPECT_EQ(d.status, "unhealthy");
    EXPECT_EQ(d.body["checks"]["filesystem"]["status"], "error");
    EXPECT_TRUE(d.body["checks"]["filesystem"].contains("error"));
}

TEST_F(DiagnosticsTest, NoDatabaseIsUnhealthy) {
    in.pool = nullptr;
    auto d = monitoring::diagnose(in);
    EXPECT_EQ(d.status, "unhealthy");
    EXPECT_EQ(d.body["checks"]["database"]["status"], "error");
}

TEST_F(DiagnosticsTest, SearchWithoutFts5IsDegradedUnlessForced) {
    in.search = "fallback";
    EXPECT_EQ(monitoring::diagnose(in).status, "degraded");
    in.search_forced_fallback = true;
    EXPECT_EQ(monitoring::diagnose(in).status, "healthy");
}

TEST_F(DiagnosticsTest, PoolStatsCarryEveryName) {
    auto j = monitoring::pool_stats_json(h.pool->stats());
    for (const char* k : {"size", "idle", "in_use", "created", "reused", "closed", "hits", "misses", "waits", "wait_time_ms"}) {
        EXPECT_TRUE(j.contains(k)) << k;
    }
}

}  // namespace
}  // namespace starpunk
