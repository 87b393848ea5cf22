// The connection pool (storage/pool.hpp): statistics, exhaustion, threads.
#include "storage/pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "storage/migrations.hpp"
#include "storage/sqlite.hpp"
#include "support/temp_dir.hpp"

namespace starpunk::storage {
namespace {

using namespace std::chrono_literals;
using starpunk::testing::TempDir;

std::shared_ptr<ConnectionPool> open_pool(const TempDir& dir, int size, double timeout = 10.0) {
    ConnectionPool::Options o;
    o.path = dir / "pool.db";
    o.size = size;
    o.timeout_seconds = timeout;
    auto p = ConnectionPool::open(o);
    EXPECT_TRUE(p) << p.error().message;
    return p ? *p : nullptr;
}

// A full disk is told apart from other I/O errors (the server answers 507):
// SQLITE_FULL, here from max_page_count, is ErrorCode::no_space on both paths.
TEST(Connection, AFullDatabaseIsNoSpaceNotAnIoError) {
    TempDir dir;
    auto c = Connection::open(dir / "full.db", Connection::Options{});
    ASSERT_TRUE(c) << c.error().message;
    ASSERT_TRUE((*c)->exec("CREATE TABLE t (x TEXT)"));
    auto pages = (*c)->prepare("PRAGMA page_count");
    ASSERT_TRUE(pages);
    ASSERT_TRUE((*pages)->step());
    const int64_t now = (*pages)->integer(0);
    (*pages)->reset();
    ASSERT_TRUE((*c)->exec("PRAGMA max_page_count=" + std::to_string(now + 1)));

    auto st = (*c)->exec("INSERT INTO t VALUES (randomblob(100000))");
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, ErrorCode::no_space) << st.error().message;

    auto ins = (*c)->prepare("INSERT INTO t VALUES (randomblob(?1))");
    ASSERT_TRUE(ins);
    auto stepped = (*ins)->bind(1, int64_t{100000}).step();
    ASSERT_FALSE(stepped);
    EXPECT_EQ(stepped.error().code, ErrorCode::no_space) << stepped.error().message;

    // Any other failure stays what it was.
    auto bad = (*c)->exec("INSERT INTO no_such_table VALUES (1)");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().code, ErrorCode::no_space);
}

TEST(ConnectionPool, OpenProvesTheDatabaseWithOneConnection) {
    TempDir dir;
    auto pool = open_pool(dir, 3);
    ASSERT_TRUE(pool);
    PoolStats s = pool->stats();
    EXPECT_EQ(s.size, 3);
    EXPECT_EQ(s.created, 1u);
    EXPECT_EQ(s.idle, 1);
    EXPECT_EQ(s.in_use, 0);
    EXPECT_EQ(s.hits + s.misses + s.waits, 0u);
}

TEST(ConnectionPool, TryAcquireTakesOnlyAnIdleConnectionAndNeverWaits) {
    TempDir dir;
    auto pool = open_pool(dir, 2, /*timeout=*/30.0);
    ASSERT_TRUE(pool);
    auto first = pool->try_acquire();  // the one open() made
    ASSERT_TRUE(first) << first.error().message;
    // None idle: busy at once, although the pool could open a second one and
    // acquire() would wait 30 s for a release.
    const auto start = std::chrono::steady_clock::now();
    auto none = pool->try_acquire();
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, ErrorCode::busy);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
    EXPECT_EQ(pool->stats().created, 1u);
    { auto released = std::move(*first); }
    auto again = pool->try_acquire();
    ASSERT_TRUE(again);
    EXPECT_EQ(pool->stats().in_use, 1);
}

TEST(ConnectionPool, OpenFailsForAnUnusablePath) {
    ConnectionPool::Options o;
    o.path = "/nonexistent-dir/x/pool.db";
    auto p = ConnectionPool::open(o);
    ASSERT_FALSE(p);
    EXPECT_NE(p.error().message.find("/nonexistent-dir/x/pool.db"), std::string::npos) << p.error().message;
}

TEST(ConnectionPool, HitsMissesCreatedInUseAndIdle) {
    TempDir dir;
    auto pool = open_pool(dir, 3);
    ASSERT_TRUE(pool);
    {
        auto a = pool->acquire();  // the idle one: a hit
        ASSERT_TRUE(a);
        auto s = pool->stats();
        EXPECT_EQ(s.hits, 1u);
        EXPECT_EQ(s.misses, 0u);
        EXPECT_EQ(s.in_use, 1);
        EXPECT_EQ(s.idle, 0);
        auto b = pool->acquire();  // none idle: opens a second one, a miss
        ASSERT_TRUE(b);
        s = pool->stats();
        EXPECT_EQ(s.misses, 1u);
        EXPECT_EQ(s.created, 2u);
        EXPECT_EQ(s.in_use, 2);
        EXPECT_EQ(s.waits, 0u);
        // Leases hand out working, distinct connections.
        EXPECT_NE(&**a, &**b);
        EXPECT_TRUE((*a)->exec("CREATE TABLE t (x INTEGER)"));
        EXPECT_TRUE((*b)->exec("INSERT INTO t VALUES (1)"));
    }
    auto s = pool->stats();
    EXPECT_EQ(s.in_use, 0);
    EXPECT_EQ(s.idle, 2);
    {
        auto c = pool->acquire();
        ASSERT_TRUE(c);
        EXPECT_EQ(pool->stats().hits, 2u);
        EXPECT_EQ(pool->stats().created, 2u) << "an idle connection is reused, not a new one opened";
    }
    EXPECT_EQ(pool->stats().closed, 0u);
}

// "reused counts acquires served by a connection that had been used before":
// the connection open() made has not been used before its first lease.
TEST(ConnectionPool, ReusedCountsOnlyConnectionsThatServedBefore) {
    TempDir dir;
    auto pool = open_pool(dir, 2);
    ASSERT_TRUE(pool);
    { auto a = pool->acquire(); }
    EXPECT_EQ(pool->stats().reused, 0u) << "first lease of the connection opened by open()";
    { auto a = pool->acquire(); }
    EXPECT_EQ(pool->stats().reused, 1u);
}

TEST(ConnectionPool, ExhaustedPoolTimesOutWithAnError) {
    TempDir dir;
    auto pool = open_pool(dir, 2, /*timeout=*/0.15);
    ASSERT_TRUE(pool);
    auto a = pool->acquire();
    auto b = pool->acquire();
    ASSERT_TRUE(a && b);
    auto start = std::chrono::steady_clock::now();
    auto c = pool->acquire();
    auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, ErrorCode::io);
    EXPECT_NE(c.error().message.find("busy"), std::string::npos) << c.error().message;
    EXPECT_GE(took, 140ms);
    auto s = pool->stats();
    EXPECT_EQ(s.waits, 1u);
    EXPECT_GE(s.wait_time_ms, 140.0);
    EXPECT_EQ(s.in_use, 2);
    EXPECT_EQ(s.created, 2u);
}

TEST(ConnectionPool, AWaitingAcquireIsServedByARelease) {
    TempDir dir;
    auto pool = open_pool(dir, 1, /*timeout=*/5.0);
    ASSERT_TRUE(pool);
    std::optional<Result<ConnectionPool::Lease>> held{pool->acquire()};
    ASSERT_TRUE(held->ok());
    std::thread releaser([&] {
        std::this_thread::sleep_for(50ms);
        held.reset();
    });
    auto start = std::chrono::steady_clock::now();
    auto got = pool->acquire();
    releaser.join();
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
    auto s = pool->stats();
    EXPECT_EQ(s.waits, 1u);
    EXPECT_EQ(s.created, 1u);
    EXPECT_EQ(s.in_use, 1);
}

// Moving a lease into one that still holds a connection must give that
// connection back, not close it behind the pool's back: otherwise the pool
// counts it as open forever and shrinks by one each time.
TEST(ConnectionPool, MoveAssigningOverALiveLeaseReturnsItsConnection) {
    TempDir dir;
    auto pool = open_pool(dir, 2, /*timeout=*/0.1);
    ASSERT_TRUE(pool);
    {
        auto a = pool->acquire();
        auto b = pool->acquire();
        ASSERT_TRUE(a && b);
        *a = std::move(*b);
    }
    auto s = pool->stats();
    EXPECT_EQ(s.in_use, 0) << "nothing is leased any more";
    auto x = pool->acquire();
    auto y = pool->acquire();
    EXPECT_TRUE(x) << x.error().message;
    EXPECT_TRUE(y) << "the pool lost a connection: " << y.error().message;
}

TEST(ConnectionPool, LeaseOutlivingItsPoolHandleIsSafe) {
    TempDir dir;
    auto pool = open_pool(dir, 1);
    ASSERT_TRUE(pool);
    auto lease = pool->acquire();
    ASSERT_TRUE(lease);
    pool.reset();  // the lease keeps the pool alive
    EXPECT_TRUE((*lease)->exec("SELECT 1"));
}

TEST(ConnectionPool, ObserverIsInstalledOnEveryConnection) {
    TempDir dir;
    std::atomic<int> seen{0};
    ConnectionPool::Options o;
    o.path = dir / "pool.db";
    o.size = 2;
    o.observer = [&](std::string_view, std::chrono::nanoseconds, bool) { ++seen; };
    auto pool = ConnectionPool::open(o);
    ASSERT_TRUE(pool);
    auto a = (*pool)->acquire();
    auto b = (*pool)->acquire();
    ASSERT_TRUE(a && b);
    int before = seen;
    ASSERT_TRUE((*a)->exec("SELECT 1"));
    ASSERT_TRUE((*b)->exec("SELECT 1"));
    EXPECT_EQ(seen - before, 2);
}

TEST(ConnectionPool, ManyThreadsShareFewConnections) {
    TempDir dir;
    ASSERT_TRUE(run_migrations(dir / "pool.db"));
    auto pool = open_pool(dir, 3);
    ASSERT_TRUE(pool);
    {
        auto l = pool->acquire();
        ASSERT_TRUE((*l)->exec("CREATE TABLE counter (thread INTEGER, i INTEGER)"));
    }
    constexpr int kThreads = 8, kEach = 50;
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i) {
                auto lease = pool->acquire();
                if (!lease) {
                    ++errors;
                    continue;
                }
                auto stmt = (*lease)->prepare("INSERT INTO counter VALUES (?1, ?2)");
                if (!stmt || !(*stmt)->bind(1, t).bind(2, i).run()) ++errors;
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(errors.load(), 0);
    auto s = pool->stats();
    EXPECT_LE(s.created, 3u);
    EXPECT_EQ(s.in_use, 0);
    EXPECT_EQ(s.idle, static_cast<int>(s.created));
    EXPECT_EQ(s.hits + s.misses, static_cast<uint64_t>(kThreads * kEach + 1));
    EXPECT_LE(s.waits, s.misses);
    auto l = pool->acquire();
    auto count = (*l)->prepare("SELECT COUNT(*) FROM counter");
    ASSERT_TRUE(count);
    ASSERT_TRUE(*(*count)->step());
    EXPECT_EQ((*count)->integer(0), kThreads * kEach);
}

}  // namespace
}  // namespace starpunk::storage
