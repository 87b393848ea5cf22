// The notes change notification (notes/changes.hpp), the data_version probe
// under it (storage/data_version.hpp), the keyset walk and the index that
// search reads through (notes/note_index.hpp).
#include <gtest/gtest.h>

#include <atomic>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cstdlib>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "notes/changes.hpp"
#include "notes/note_index.hpp"
#include "storage/data_version.hpp"
#include "storage/migrations.hpp"
#include "support/notes_harness.hpp"
#include "http/conditional.hpp"
#include "support/site_harness.hpp"
#include "web/page_cache.hpp"
#include "web/site.hpp"

namespace starpunk::notes {
namespace {

using testing::NotesHarness;

NewNote change_note(const std::string& content, bool published = true) {
    NewNote n;
    n.content = content;
    n.published = published;
    return n;
}

struct Changes : ::testing::Test {
    void SetUp() override { ASSERT_EQ(h.start(), ""); }
    // How many times the notification fired during f().
    template <typename F>
    int publishes_during(F&& f) {
        std::atomic<int> count{0};
        auto sub = h.svc().changes().subscribe([&] { ++count; });
        const uint64_t before = h.svc().changes().generation();
        f();
        EXPECT_EQ(h.svc().changes().generation() - before, static_cast<uint64_t>(count.load()));
        return count.load();
    }
    NotesHarness h;
};

TEST_F(Changes, EveryCommittedWritePublishesOnce) {
    Note n;
    EXPECT_EQ(publishes_during([&] { n = *h.svc().create(change_note("First words.")); }), 1);
    EXPECT_EQ(publishes_during([&] { ASSERT_TRUE(h.svc().update(n.id, {std::string("Changed."), std::nullopt})); }), 1);
    EXPECT_EQ(publishes_during([&] { ASSERT_TRUE(h.svc().update(n.id, {std::nullopt, false})); }), 1);
    EXPECT_EQ(publishes_during([&] { ASSERT_TRUE(h.svc().soft_delete(n.id)); }), 1);
    EXPECT_EQ(publishes_during([&] { ASSERT_TRUE(h.svc().restore(n.id)); }), 1);
    ASSERT_TRUE(h.svc().soft_delete(n.id));
    EXPECT_EQ(publishes_during([&] { ASSERT_TRUE(h.svc().purge(n.id)); }), 1);
}

TEST_F(Changes, FailedWritesAndReadsPublishNothing) {
    auto n = *h.svc().create(change_note("Kept."));
    EXPECT_EQ(publishes_during([&] {
                  EXPECT_FALSE(h.svc().create(change_note("   ")));
                  EXPECT_FALSE(h.svc().update(n.id + 100, {std::string("x"), std::nullopt}));
                  EXPECT_FALSE(h.svc().purge(n.id));  // not in the trash
                  EXPECT_TRUE(h.svc().get_by_id(n.id));
                  EXPECT_TRUE(h.svc().list(Visibility::all, 10, 0));
                  EXPECT_TRUE(h.svc().read_content(n));
              }),
              0);
}

TEST_F(Changes, AnotherConnectionsCommitIsPublishedByPoll) {
    EXPECT_EQ(publishes_during([&] { h.svc().changes().poll(); }), 0);
    // Another process's write (starpunk import): a commit on a connection of its own.
    auto other = storage::Connection::open(h.db_path, {});
    ASSERT_TRUE(other);
    ASSERT_TRUE((*other)->exec("CREATE TABLE imported (x); INSERT INTO imported VALUES (1)"));
    EXPECT_EQ(publishes_during([&] { h.svc().changes().poll(); }), 1);
    EXPECT_EQ(publishes_during([&] { h.svc().changes().poll(); }), 0);  // once per commit
}

TEST_F(Changes, AnotherProcessesCommitIsPublishedByTheVeryNextPoll) {
    // The interval is an hour: the WAL index alone makes the poll fresh.
    NoteChanges changes(h.db_path, std::chrono::hours(1));
    ASSERT_TRUE(changes.polls_are_cheap());
    int count = 0;
    auto sub = changes.subscribe([&] { ++count; });
    changes.poll();
    count = 0;
    auto other = storage::Connection::open(h.db_path, {});
    ASSERT_TRUE(other);
    ASSERT_TRUE((*other)->exec("CREATE TABLE imported (x); INSERT INTO imported VALUES (1)"));
    changes.poll();
    EXPECT_EQ(count, 1);
    changes.poll();
    EXPECT_EQ(count, 1);  // once per commit
    ASSERT_TRUE((*other)->exec("INSERT INTO imported VALUES (2)"));
    changes.poll();
    EXPECT_EQ(count, 2);
}

TEST_F(Changes, SubscriptionEndsWithItsObjectEvenAfterTheSource) {
    int count = 0;
    {
        auto sub = h.svc().changes().subscribe([&] { ++count; });
        h.svc().changes().publish();
    }
    h.svc().changes().publish();
    EXPECT_EQ(count, 1);
    NoteChanges::Subscription survivor;
    {
        NoteChanges local;
        survivor = local.subscribe([&] { ++count; });
        local.publish();
    }
    EXPECT_EQ(count, 2);  // destroying the subscription after its source is harmless
}

TEST_F(Changes, PageCacheDropsPagesOnAnyNoteWrite) {
    web::PageCache pages(h.svc().changes());
    auto page = web::make_cached_page(200, "<p>home</p>", 0);
    pages.store("/", page, pages.generation());
    ASSERT_NE(pages.find("/"), nullptr);
    auto n = *h.svc().create(change_note("New note."));  // no handler calls invalidate(): the notes service announces it
    EXPECT_EQ(pages.find("/"), nullptr);
    // A page built before a write is refused after it.
    const uint64_t built_at = pages.generation();
    ASSERT_TRUE(h.svc().soft_delete(n.id));
    pages.store("/", page, built_at);
    EXPECT_EQ(pages.find("/"), nullptr);
}

TEST(DataVersionProbe, WithoutTheWalIndexReadsAtMostOncePerInterval) {
    testing::TempDir dir;
    const std::string db = dir / "x.db";
    ASSERT_TRUE(storage::run_migrations(db));
    storage::DataVersionProbe probe(db, {std::chrono::hours(1), /*use_wal_index=*/false});
    EXPECT_FALSE(probe.changed());  // learns the version
    EXPECT_FALSE(probe.watches_wal_index());
    auto other = storage::Connection::open(db, {});
    ASSERT_TRUE(other);
    ASSERT_TRUE((*other)->exec("CREATE TABLE t (x)"));
    EXPECT_FALSE(probe.quiet());    // without the header it cannot tell
    EXPECT_FALSE(probe.changed());  // within the interval: not asked
    EXPECT_TRUE(probe.changed(/*fresh=*/true));
    storage::DataVersionProbe eager(db, {std::chrono::milliseconds(0), false});
    EXPECT_FALSE(eager.changed());
    ASSERT_TRUE((*other)->exec("INSERT INTO t VALUES (1)"));
    EXPECT_TRUE(eager.changed());
    EXPECT_FALSE(eager.changed());
}

TEST(DataVersionProbe, WatchingTheWalIndexSeesEveryCommitOnTheNextCheck) {
    testing::TempDir dir;
    const std::string db = dir / "x.db";
    ASSERT_TRUE(storage::run_migrations(db));
    auto other = storage::Connection::open(db, {});
    ASSERT_TRUE(other);
    ASSERT_TRUE((*other)->exec("CREATE TABLE t (x)"));
    // An interval of an hour: only the WAL-index header can make it read.
    storage::DataVersionProbe probe(db, std::chrono::hours(1));
    EXPECT_FALSE(probe.changed());  // learns the version, maps the WAL index
    ASSERT_TRUE(probe.watches_wal_index());
    EXPECT_FALSE(probe.changed());  // compares the header once with a read
    EXPECT_TRUE(probe.quiet());
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE((*other)->exec("INSERT INTO t VALUES (" + std::to_string(i) + ")"));
        EXPECT_FALSE(probe.quiet()) << "commit " << i;
        EXPECT_TRUE(probe.changed()) << "commit " << i;
        EXPECT_TRUE(probe.quiet());
        EXPECT_FALSE(probe.changed());
    }
    // Reading, and a transaction that rolls back, commit nothing.
    ASSERT_TRUE((*other)->exec("SELECT count(*) FROM t"));
    ASSERT_TRUE((*other)->exec("BEGIN IMMEDIATE; INSERT INTO t VALUES (9); ROLLBACK"));
    EXPECT_FALSE(probe.changed());
    // A checkpoint that restarts the WAL, then a commit into the restarted WAL.
    ASSERT_TRUE((*other)->exec("PRAGMA wal_checkpoint(TRUNCATE)"));
    (void)probe.changed();
    ASSERT_TRUE((*other)->exec("INSERT INTO t VALUES (10)"));
    EXPECT_TRUE(probe.changed());
}

// Watching must not disturb SQLite: a descriptor of the -shm file opened and
// closed here would release this process's POSIX locks on it, and the next
// process to open the database would then take the WAL index for unused and
// reset it under this process's connections (a SIGBUS or a lost commit).
TEST(DataVersionProbe, WatchingLeavesSqlitesLocksSoAnotherProcessCannotResetTheWalIndex) {
    testing::TempDir dir;
    const std::string db = dir / "x.db";
    auto mine = storage::Connection::open(db, {});
    ASSERT_TRUE(mine);
    ASSERT_TRUE((*mine)->exec("CREATE TABLE t (x); INSERT INTO t VALUES (1)"));
    storage::DataVersionProbe probe(db, std::chrono::hours(1));
    (void)probe.changed();
    (void)probe.changed();
    ASSERT_TRUE(probe.watches_wal_index());
    // This process still holds SQLite's read lock on the WAL index's "dead
    // man switch" byte (unix VFS: byte 128 of the -shm file), which tells
    // other processes the index is in use. Asked from a child process: POSIX
    // locks are per process, so only another one sees them.
    const pid_t parent = ::getpid();
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        const int fd = ::open((db + "-shm").c_str(), O_RDONLY);
        struct flock lock {};
        lock.l_type = F_WRLCK;
        lock.l_whence = SEEK_SET;
        lock.l_start = 128;
        lock.l_len = 1;
        const bool held = fd >= 0 && ::fcntl(fd, F_GETLK, &lock) == 0 && lock.l_type == F_RDLCK && lock.l_pid == parent;
        ::_exit(held ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the WAL index is no longer marked in use by this process";
    const std::string other = "sqlite3 '" + db + "' 'INSERT INTO t VALUES (2)'";
    ASSERT_EQ(std::system(other.c_str()), 0) << other;
    EXPECT_TRUE(probe.changed());
    ASSERT_TRUE((*mine)->exec("INSERT INTO t VALUES (3)"));
    EXPECT_TRUE(probe.changed());
    auto count = (*mine)->prepare("SELECT count(*), (SELECT integrity_check FROM pragma_integrity_check) FROM t");
    ASSERT_TRUE(count);
    ASSERT_TRUE((*count)->step().value());
    EXPECT_EQ((*count)->integer(0), 3);
    EXPECT_EQ((*count)->text(1), "ok");
}

TEST(DataVersionProbe, AMissingDatabaseIsNoChange) {
    storage::DataVersionProbe probe("/nonexistent/dir/x.db", std::chrono::milliseconds(0));
    EXPECT_FALSE(probe.changed());
    EXPECT_FALSE(probe.changed());
}

// ------------------------------------------------------------------ walk

TEST_F(Changes, WalkNewestVisitsEveryVisibleNoteOnceInOrder) {
    std::vector<int64_t> published;
    for (int i = 0; i < 23; ++i) {
        h.clock.advance(std::chrono::seconds(i % 3 == 0 ? 0 : 1));  // some equal timestamps: ties by id
        auto n = *h.svc().create(change_note("Note number " + std::to_string(i), i % 5 != 0));
        if (i % 5 != 0) published.push_back(n.id);
    }
    std::vector<int64_t> seen;
    NoteCursor cursor;
    int batches = 0;
    for (bool end = false; !end; ++batches) {
        auto batch = h.svc().walk_newest(Visibility::published, cursor, 4);
        ASSERT_TRUE(batch) << batch.error().message;
        for (const auto& n : batch->notes) seen.push_back(n.id);
        cursor = batch->next;
        end = batch->end;
        ASSERT_LT(batches, 20);
    }
    std::vector<int64_t> expected(published.rbegin(), published.rend());
    EXPECT_EQ(seen, expected);
    auto newest = h.svc().newest(Visibility::published, 3);
    ASSERT_TRUE(newest);
    ASSERT_EQ(newest->size(), 3u);
    EXPECT_EQ((*newest)[0].id, expected[0]);
    EXPECT_EQ((*newest)[2].id, expected[2]);
}

// ------------------------------------------------------------------ index

TEST_F(Changes, IndexFollowsWritesAndRebuildsToTheSameAnswers) {
    if (!storage::fts5_available()) GTEST_SKIP() << "no FTS5";
    NoteIndex& index = h.svc().index();
    ASSERT_TRUE(*index.available());
    auto a = *h.svc().create(change_note("# Otters\n\nRiver otters play."));
    auto b = *h.svc().create(change_note("Sea otters float.", false));
    auto matching = [&](const char* expression, bool drafts) {
        std::set<int64_t> out;
        auto found = index.matches(expression, drafts, 10);
        EXPECT_TRUE(found.ok());
        if (found.ok()) {
            for (const auto& m : found.value()) out.insert(m.id);
        }
        return out;
    };
    auto ids = [&](bool drafts) { return matching("\"otters\"", drafts); };
    EXPECT_EQ(ids(false), (std::set<int64_t>{a.id}));
    EXPECT_EQ(ids(true), (std::set<int64_t>{a.id, b.id}));
    auto entry = index.entry(a.id, false, 6);
    ASSERT_TRUE(entry && *entry);
    EXPECT_EQ((*entry)->note.slug, a.slug);
    EXPECT_EQ((*entry)->title, "Otters");
    EXPECT_EQ((*entry)->content_prefix, "# Otte");
    EXPECT_FALSE(*index.entry(b.id, false, 6));  // a draft, for the public
    ASSERT_TRUE(h.svc().update(a.id, {std::string("Now about badgers."), std::nullopt}));
    EXPECT_EQ(ids(true), (std::set<int64_t>{b.id}));
    ASSERT_TRUE(h.svc().soft_delete(b.id));
    EXPECT_TRUE(ids(true).empty());

    ASSERT_EQ(h.sql("DELETE FROM notes_fts"), "");
    EXPECT_TRUE(*index.needs_rebuild());
    const uint64_t before = h.svc().changes().generation();
    auto report = index.rebuild();
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->indexed, 2);
    EXPECT_GT(h.svc().changes().generation(), before);  // search caches drop their lists
    EXPECT_FALSE(*index.needs_rebuild());
    EXPECT_EQ(matching("\"badgers\"", false), (std::set<int64_t>{a.id}));
    ASSERT_TRUE(h.svc().restore(b.id));  // the deleted note stayed indexed: no reindex needed
    EXPECT_EQ(ids(true), (std::set<int64_t>{b.id}));
}

}  // namespace
}  // namespace starpunk::notes

// ------------------------------------------------- Last-Modified as a validator

namespace starpunk::web {
namespace {

http::Response answer(const Site& site, std::shared_ptr<const CachedPage> page, std::string_view if_modified_since) {
    http::Request req;
    req.target = "/";
    if (!if_modified_since.empty()) req.headers.push_back({"If-Modified-Since", if_modified_since});
    return cached_page_response(site, req, std::move(page));
}

TEST(PageLastModified, APageBuiltThisSecondHasNoDateAndIgnoresIfModifiedSince) {
    testing::NotesHarness h;
    ASSERT_EQ(h.start(), "");
    testing::SiteServices services(h);
    auto site = services.site();
    const std::time_t now = std::time(nullptr);

    // Built this second: a change later in the second would carry the same date.
    auto fresh = make_cached_page(200, "<p>x</p>", now + 1);  // (clock may tick)
    auto r = answer(*site, fresh, http::format_http_date(now + 1));
    EXPECT_FALSE(r.header("Last-Modified").has_value());
    EXPECT_EQ(r.status, 200);

    // A second that is over: the date is sent and honoured.
    auto settled = make_cached_page(200, "<p>x</p>", now - 5);
    r = answer(*site, settled, "");
    EXPECT_EQ(r.header("Last-Modified"), std::optional<std::string_view>(settled->last_modified()));
    EXPECT_EQ(answer(*site, settled, settled->last_modified()).status, 304);
    EXPECT_EQ(answer(*site, settled, http::format_http_date(now - 6)).status, 200);
}

}  // namespace
}  // namespace starpunk::web
