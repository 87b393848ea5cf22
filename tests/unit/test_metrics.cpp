// The metrics hub and its helpers (metrics/): statement, request and render
// instrumentation, the slow log, counters and histograms, SQL shapes, the
// Prometheus writer and /proc parsing; and the storage observer that feeds it.
#include "metrics/metrics.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "metrics/process.hpp"
#include "metrics/prometheus.hpp"
#include "metrics/sql_text.hpp"
#include "storage/pool.hpp"
#include "support/temp_dir.hpp"

namespace starpunk::metrics {
namespace {

using namespace std::chrono_literals;

Settings settings(std::array<double, 3> rates = {1, 1, 1}, double slow_seconds = 1.0, bool enabled = true) {
    Settings s;
    s.enabled = enabled;
    s.buffer_size = 100;
    s.sampling = rates;
    s.slow_threshold_seconds = slow_seconds;
    return s;
}

RequestInfo req(std::string_view route, int status, std::chrono::nanoseconds took, std::string_view method = "GET") {
    RequestInfo r;
    r.method = method;
    r.route = route;
    r.request_id = "rid-1";
    r.status = status;
    r.bytes = 1234;
    r.took = took;
    return r;
}

TEST(SqlShape, KindAndTableOfCommonStatements) {
    auto s = classify_sql("SELECT id, slug FROM notes WHERE slug = ?1");
    EXPECT_EQ(s.kind, "SELECT");
    EXPECT_EQ(s.table, "notes");
    s = classify_sql("  insert or replace into \"sessions\"(a) VALUES ('from x')");
    EXPECT_EQ(s.kind, "INSERT");
    EXPECT_EQ(s.table, "sessions");
    s = classify_sql("UPDATE OR ROLLBACK notes SET x = 1");
    EXPECT_EQ(s.kind, "UPDATE");
    EXPECT_EQ(s.table, "notes");
    s = classify_sql("DELETE FROM [auth_state] WHERE expires < ?");
    EXPECT_EQ(s.table, "auth_state");
    s = classify_sql("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT)");
    EXPECT_EQ(s.kind, "CREATE");
    EXPECT_EQ(s.table, "schema_migrations");
    s = classify_sql("PRAGMA journal_mode=WAL");
    EXPECT_EQ(s.kind, "PRAGMA");
    EXPECT_EQ(s.table, "journal_mode");
    s = classify_sql("-- comment FROM x\n/* FROM y */ SELECT 'FROM z' FROM main.notes_fts");
    EXPECT_EQ(s.kind, "SELECT");
    EXPECT_EQ(s.table, "notes_fts");
    s = classify_sql("BEGIN IMMEDIATE");
    EXPECT_EQ(s.kind, "BEGIN");
    EXPECT_EQ(s.table, "");
    s = classify_sql("SELECT 1");
    EXPECT_EQ(s.table, "");
    EXPECT_EQ(classify_sql("").kind, "");
    EXPECT_EQ(classify_sql("'unterminated").kind, "");
}

TEST(SqlShape, ShortenFoldsWhitespaceAndCutsOnACharacterBoundary) {
    char buf[kSqlDisplayBytes];
    EXPECT_EQ(shorten_sql("SELECT\n   a,\tb\n FROM  t  ", buf), "SELECT a, b FROM t");
    std::string long_sql = "SELECT " + std::string(300, 'x');
    EXPECT_EQ(shorten_sql(long_sql, buf).size(), 200u);
    // 199 ASCII bytes then a 3-byte character: the character must go whole.
    std::string s = std::string(199, 'a') + "\xE2\x82\xAC" + "tail";
    EXPECT_EQ(shorten_sql(s, buf), std::string(199, 'a'));
    char tiny[3];
    EXPECT_EQ(shorten_sql("ab cd", tiny), "ab");  // no trailing space
}

TEST(SqlShape, UnknownFirstWordIsOther) {
    EXPECT_EQ(classify_sql("FROBNICATE notes").kind, "OTHER");
    EXPECT_EQ(classify_sql("select 1 from \"my table\"").table, "my table");
    EXPECT_EQ(classify_sql("INSERT INTO main.notes_fts(rowid) VALUES (1)").table, "notes_fts");
    EXPECT_EQ(classify_sql("CREATE VIRTUAL TABLE IF NOT EXISTS notes_fts USING fts5(x)").table, "notes_fts");
    EXPECT_EQ(classify_sql("DELETE FROM x WHERE y = 'it''s FROM z'").table, "x");
}

TEST(Metrics, StatementRecordsKindTableAndShortSql) {
    Metrics m(settings());
    m.statement("SELECT * FROM notes WHERE id = ?1 " + std::string(400, ' ') + "AND 1", 2ms, true);
    auto r = m.buffer().all();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].type, Type::database);
    EXPECT_EQ(r[0].name, "SELECT notes");
    EXPECT_DOUBLE_EQ(r[0].duration_ms, 2.0);
    EXPECT_EQ(*r[0].field("kind"), "SELECT");
    EXPECT_EQ(*r[0].field("table"), "notes");
    EXPECT_EQ(*r[0].field("sql"), "SELECT * FROM notes WHERE id = ?1 AND 1");
    EXPECT_TRUE(m.slow_log().all().empty());
}

TEST(Metrics, SlowAndFailedOperationsAreKeptEvenWhenSampledOut) {
    Metrics m(settings({0, 0, 0}, /*slow=*/0.5));
    m.statement("SELECT 1", 1ms, true);          // sampled out
    m.statement("SELECT x FROM t", 1ms, false);  // error: forced
    m.statement("SELECT y FROM u", 600ms, true);  // slow: forced, and in the slow log
    m.request(req("/", 200, 1ms));                // sampled out
    m.request(req("/", 500, 1ms));                // error: forced
    m.request(req("/micropub", 201, 700ms, "POST"));  // slow
    m.render("home", 1ms);
    m.render("note", 800ms);
    auto all = m.buffer().all();
    ASSERT_EQ(all.size(), 5u);
    EXPECT_EQ(all[0].name, "SELECT t");
    EXPECT_EQ(*all[0].field("ok"), "false");
    EXPECT_EQ(all[1].name, "SELECT u");
    EXPECT_EQ(*all[2].field("status"), "500");
    EXPECT_EQ(all[3].name, "POST /micropub");
    EXPECT_EQ(all[4].name, "note");
    auto slow = m.slow_log().recent(10);
    ASSERT_EQ(slow.size(), 3u);
    EXPECT_EQ(slow[0].name, "note");
    EXPECT_EQ(slow[1].name, "POST /micropub");
    EXPECT_EQ(slow[2].name, "SELECT u");
    EXPECT_DOUBLE_EQ(m.slow_threshold_ms(), 500.0);
}

// Regression: a statement without a table (BEGIN) and an empty SQL text gave
// memcpy a null pointer (UBSan under the e2e tests).
TEST(Metrics, StatementsWithoutTableOrTextAreRecorded) {
    Metrics m(settings());
    m.statement("BEGIN IMMEDIATE", 1ms, true);
    m.statement("", 1ms, true);
    auto r = m.buffer().all();
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0].name, "BEGIN");
    EXPECT_EQ(*r[0].field("table"), "");
    EXPECT_EQ(r[1].name, "");
    EXPECT_EQ(*r[1].field("sql"), "");
}

TEST(Metrics, RequestRecordCarriesRouteStatusBytesAndRequestId) {
    Metrics m(settings());
    m.request(req("/note/{slug}", 404, 3ms));
    auto r = m.buffer().all().at(0);
    EXPECT_EQ(r.type, Type::http);
    EXPECT_EQ(r.name, "GET /note/{slug}");
    EXPECT_EQ(*r.field("route"), "/note/{slug}");
    EXPECT_EQ(*r.field("status"), "404");
    EXPECT_EQ(*r.field("bytes"), "1234");
    EXPECT_EQ(*r.field("request_id"), "rid-1");
    EXPECT_EQ(*r.field("method"), "GET");
}

TEST(Metrics, UnusualMethodsAreCountedAsOther) {
    Metrics m(settings());
    m.request(req("unmatched", 405, 1ms, "BREW"));
    auto series = m.requests().snapshot();
    ASSERT_EQ(series.size(), 1u);
    EXPECT_EQ(series[0].method, "OTHER");
}

TEST(Metrics, CountersIgnoreSamplingAndHistogramsAreCumulative) {
    Metrics m(settings({0, 0, 0}));
    m.request(req("/", 200, 200us));   // <= 0.0005
    m.request(req("/", 200, 3ms));     // <= 0.005
    m.request(req("/", 200, 3ms));
    m.request(req("/", 200, 20s));     // beyond the last bucket: only +Inf
    m.request(req("/", 304, 1ms));
    EXPECT_EQ(m.buffer().size(), 1u);  // only the slow 20 s request (forced)
    EXPECT_EQ(m.requests().total(), 5u);
    auto series = m.requests().snapshot();
    ASSERT_EQ(series.size(), 2u);
    const auto& ok = series[0];
    EXPECT_EQ(ok.status, 200);
    EXPECT_EQ(ok.count, 4u);
    EXPECT_NEAR(ok.sum_seconds, 20.0062, 1e-9);
    EXPECT_EQ(ok.buckets[0], 1u);   // le 0.0005
    EXPECT_EQ(ok.buckets[1], 1u);   // le 0.001
    EXPECT_EQ(ok.buckets[3], 3u);   // le 0.005
    EXPECT_EQ(ok.buckets.back(), 3u);  // le 10: the 20 s request is only in +Inf (= count)
    for (size_t i = 1; i < ok.buckets.size(); ++i) EXPECT_GE(ok.buckets[i], ok.buckets[i - 1]);
    EXPECT_EQ(series[1].status, 304);
}

TEST(Metrics, RequestSeriesAreBounded) {
    RequestCounters c;
    for (size_t i = 0; i < RequestCounters::kMaxSeries + 50; ++i) c.add("/r" + std::to_string(i), "GET", 200, 0.001);
    auto s = c.snapshot();
    EXPECT_LE(s.size(), RequestCounters::kMaxSeries + 1);
    EXPECT_EQ(c.total(), RequestCounters::kMaxSeries + 50);
    uint64_t other = 0;
    for (const auto& x : s)
        if (x.route == "other") other = x.count;
    EXPECT_EQ(other, 50u);
}

TEST(Metrics, FeedCountersByFormat) {
    Metrics m(settings());
    m.feed("rss", FeedCounters::Event::miss);
    m.feed("rss", FeedCounters::Event::generated);
    m.feed("rss", FeedCounters::Event::hit);
    m.feed("atom", FeedCounters::Event::hit);
    auto f = m.feeds().snapshot();
    ASSERT_EQ(f.size(), 2u);
    EXPECT_EQ(f[0].format, "atom");
    EXPECT_EQ(f[0].cache_hits, 1u);
    EXPECT_EQ(f[1].format, "rss");
    EXPECT_EQ(f[1].cache_hits, 1u);
    EXPECT_EQ(f[1].cache_misses, 1u);
    EXPECT_EQ(f[1].generated, 1u);
}

TEST(Metrics, DisabledRecordsAndCountsNothing) {
    Metrics m(settings({1, 1, 1}, 0.0, /*enabled=*/false));
    m.statement("SELECT 1", 5s, false);
    m.request(req("/", 500, 5s));
    m.render("home", 5s, false);
    m.feed("rss", FeedCounters::Event::miss);
    EXPECT_EQ(m.buffer().size(), 0u);
    EXPECT_EQ(m.slow_log().size(), 0u);
    EXPECT_EQ(m.requests().total(), 0u);
    EXPECT_TRUE(m.feeds().snapshot().empty());
}

TEST(Prometheus, FamiliesSamplesAndEscaping) {
    Exposition e;
    e.family("x_total", "counter", "Things.");
    e.sample("x_total", {{"route", "/a\"b\\c\nd"}, {"status", "200"}}, 3);
    e.sample("y", 0.25);
    e.sample("z", std::numeric_limits<double>::infinity());
    EXPECT_EQ(e.text(),
              "# HELP x_total Things.\n# TYPE x_total counter\n"
              "x_total{route=\"/a\\\"b\\\\c\\nd\",status=\"200\"} 3\n"
              "y 0.25\n"
              "z +Inf\n");
}

TEST(Prometheus, ValuesAndBucketBoundsAreWrittenPlainly) {
    EXPECT_EQ(format_value(0.0005), "0.0005");
    EXPECT_EQ(format_value(10.0), "10");
    EXPECT_EQ(format_value(-3.0), "-3");
    EXPECT_EQ(format_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
    EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
}

TEST(ProcessMemory, ParsesVmRssAndVmHwm) {
    auto m = parse_process_status("Name:\tstarpunk\nVmHWM:\t   2048 kB\nVmRSS:\t    1024 kB\nThreads:\t4\n");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->rss_bytes, 1024u * 1024);
    EXPECT_EQ(m->high_water_bytes, 2048u * 1024);
    EXPECT_FALSE(parse_process_status("Name:\tx\nVmRSS:\t1 kB\n"));
    auto live = read_process_memory();
    ASSERT_TRUE(live);
    EXPECT_GT(live->rss_bytes, 0u);
    EXPECT_GE(live->high_water_bytes, live->rss_bytes);
    EXPECT_FALSE(read_process_memory("/nonexistent/status"));
}

// The storage observer reports every execution: run to the end, failed, or
// abandoned after its first row (a point lookup) — exactly once each.
TEST(StatementObserver, SeesFinishedFailedAndAbandonedStatementsOnce) {
    starpunk::testing::TempDir dir;
    std::vector<std::pair<std::string, bool>> seen;
    storage::ConnectionPool::Options o;
    o.path = dir / "obs.db";
    o.size = 1;
    o.observer = [&seen](std::string_view sql, std::chrono::nanoseconds took, bool ok) {
        EXPECT_GE(took.count(), 0);
        seen.emplace_back(std::string(sql), ok);
    };
    auto pool = storage::ConnectionPool::open(o);
    ASSERT_TRUE(pool);
    auto lease = (*pool)->acquire();
    ASSERT_TRUE(lease);
    seen.clear();
    ASSERT_TRUE((*lease)->exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3)"));
    ASSERT_EQ(seen.size(), 1u);
    auto stmt = (*lease)->prepare("SELECT x FROM t ORDER BY x");
    ASSERT_TRUE(stmt);
    auto row = (*stmt)->step();
    ASSERT_TRUE(row && *row);
    EXPECT_EQ(seen.size(), 1u);  // still running
    (*stmt)->reset();            // abandoned after one row
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[1].first, "SELECT x FROM t ORDER BY x");
    EXPECT_TRUE(seen[1].second);
    (*stmt)->reset();  // not running: not reported again
    EXPECT_EQ(seen.size(), 2u);
    ASSERT_TRUE((*stmt)->run());
    EXPECT_EQ(seen.size(), 3u);
    ASSERT_TRUE((*lease)->exec("CREATE TABLE u (x INTEGER UNIQUE)"));
    seen.clear();
    auto ins = (*lease)->prepare("INSERT INTO u VALUES (?1)");
    ASSERT_TRUE(ins);
    ASSERT_TRUE((*ins)->bind(1, 7).run());
    ins = (*lease)->prepare("INSERT INTO u VALUES (?1)");
    ASSERT_TRUE(ins);
    EXPECT_FALSE((*ins)->bind(1, 7).run());  // UNIQUE violated
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_TRUE(seen[0].second);
    EXPECT_FALSE(seen[1].second);
}

}  // namespace
}  // namespace starpunk::metrics
