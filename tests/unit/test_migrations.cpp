// Migrations (SPEC §10, storage/migrations.hpp): from an empty database, from
// StarPunk 1.x databases (tests/fixtures/starpunk-1.1), and with several
// processes racing on one fresh file.
#include "storage/migrations.hpp"
#include "util/clock.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "notes/notes_service.hpp"
#include "support/fixture_v11.hpp"
#include "support/notes_harness.hpp"
#include "support/temp_dir.hpp"
#include "util/crypto.hpp"

namespace starpunk::storage {
namespace {

using namespace std::chrono_literals;
using starpunk::testing::build_v11_fixture;
using starpunk::testing::NotesHarness;
using starpunk::testing::slurp;
using starpunk::testing::TempDir;
using starpunk::testing::V11Variant;

std::unique_ptr<Connection> open_db(const std::string& path) {
    auto c = Connection::open(path, {});
    EXPECT_TRUE(c) << c.error().message;
    return c ? std::move(*c) : nullptr;
}

// Every row of a query, columns joined by '|'.
std::vector<std::string> rows(Connection& c, const std::string& sql) {
    std::vector<std::string> out;
    auto stmt = c.prepare(sql);
    EXPECT_TRUE(stmt) << stmt.error().message;
    if (!stmt) return out;
    while (true) {
        auto r = (*stmt)->step();
        EXPECT_TRUE(r) << r.error().message;
        if (!r || !*r) break;
        std::string line;
        for (int i = 0; i < sqlite3_column_count((*stmt)->raw()); ++i) {
            if (i) line += "|";
            line += (*stmt)->is_null(i) ? "NULL" : (*stmt)->text(i);
        }
        out.push_back(line);
    }
    (*stmt)->reset();
    return out;
}

std::vector<std::string> all_names() {
    std::vector<std::string> out;
    for (const auto& m : migrations()) out.push_back(m.name);
    return out;
}

std::string table_sql(Connection& c, const std::string& name) {
    auto r = rows(c, "SELECT sql FROM sqlite_master WHERE name = '" + name + "'");
    return r.empty() ? std::string() : r[0];
}

void expect_current_schema(Connection& c) {
    for (const char* t : {"notes", "sessions", "auth_state", "schema_migrations"}) EXPECT_TRUE(*table_exists(c, t)) << t;
    if (fts5_available()) {
        EXPECT_TRUE(*table_exists(c, "notes_fts"));
    }
    for (const char* col : {"id", "slug", "file_path", "published", "created_at", "updated_at", "deleted_at",
                            "content_hash", "pending_hash"})
        EXPECT_TRUE(*column_exists(c, "notes", col)) << col;
    EXPECT_TRUE(*column_exists(c, "auth_state", "code_verifier"));
    EXPECT_TRUE(*column_exists(c, "sessions", "login_method"));
    for (const char* idx : {"idx_notes_created_at", "idx_notes_published", "idx_notes_slug", "idx_notes_deleted_at",
                            "idx_note_tags_order"})
        EXPECT_EQ(rows(c, std::string("SELECT name FROM sqlite_master WHERE type='index' AND name='") + idx + "'").size(),
                  1u)
            << idx;
    // Each of our migrations recorded exactly once.
    for (const auto& name : all_names())
        EXPECT_EQ(rows(c, "SELECT id FROM schema_migrations WHERE migration_name = '" + name + "'").size(), 1u) << name;
}

TEST(Migrations, NamesAreAppendOnly) {
    // Released names never change and keep their positions; new ones go at the end.
    const std::vector<std::string> released = {"001_initial_schema", "002_notes_fts", "003_notes_pending_hash"};
    auto names = all_names();
    ASSERT_GE(names.size(), released.size());
    EXPECT_EQ(std::vector<std::string>(names.begin(), names.begin() + static_cast<long>(released.size())), released);
    EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size()) << "duplicate name";
}

TEST(Migrations, FreshDatabaseGetsEverythingAndASecondRunNothing) {
    TempDir dir;
    const std::string db = dir / "starpunk.db";
    auto first = run_migrations(db);
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_EQ(first->applied, all_names());
    EXPECT_EQ(first->attempts, 1);
    auto c = open_db(db);
    expect_current_schema(*c);
    EXPECT_EQ(rows(*c, "PRAGMA journal_mode"), std::vector<std::string>{"wal"});
    EXPECT_EQ(rows(*c, "PRAGMA integrity_check"), std::vector<std::string>{"ok"});

    auto second = run_migrations(db);
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_TRUE(second->applied.empty());
    EXPECT_EQ(rows(*c, "SELECT COUNT(*) FROM schema_migrations"),
              std::vector<std::string>{std::to_string(migrations().size())});
}

// Migration 016: each note's row carries its tags, packed in order, and
// whether it has photos; triggers keep them equal to note_tags, tags and
// note_photos whoever writes those (here: plain SQL, as an import or a hand
// edit would), and the migration fills them for notes that already exist.
TEST(Migrations, EachNotesRowSummarisesItsTagsAndPhotosWhoeverWritesThem) {
    TempDir dir;
    const std::string db = dir / "starpunk.db";
    ASSERT_TRUE(run_migrations(db));
    auto c = open_db(db);
    ASSERT_TRUE(c->exec(R"sql(
        INSERT INTO notes (id, slug, file_path, published, created_at, updated_at, content_hash)
            VALUES (1, 'a', 'a.md', 1, '2026-01-01', '2026-01-01', ''), (2, 'b', 'b.md', 1, '2026-01-01', '2026-01-01', '');
        INSERT INTO tags (id, name, display_name) VALUES (10, 'x', 'X'), (11, 'y', 'Y'), (12, 'z', 'Z');
        INSERT INTO note_tags (note_id, tag_id, position) VALUES (1, 11, 1), (1, 10, 0), (2, 12, 0);
        INSERT INTO note_photos (note_id, position, url) VALUES (2, 0, 'https://p.example/1.jpg'),
                                                                (2, 1, 'https://p.example/2.jpg');
    )sql"));
    const auto summary = [&] {
        auto r = rows(*c, "SELECT id, coalesce(replace(replace(tag_list, char(31), ':'), char(30), ','), '-'), "
                          "has_photos FROM notes ORDER BY id");
        std::string out;
        for (const auto& line : r) out += line + ";";
        return out;
    };
    EXPECT_EQ(summary(), "1|x:X,y:Y|0;2|z:Z|1;");  // in position order, not insertion order
    ASSERT_TRUE(c->exec("UPDATE tags SET display_name = 'Ex' WHERE id = 10"));
    ASSERT_TRUE(c->exec("UPDATE note_tags SET position = 5 WHERE note_id = 1 AND tag_id = 10"));
    EXPECT_EQ(summary(), "1|y:Y,x:Ex|0;2|z:Z|1;");
    ASSERT_TRUE(c->exec("UPDATE note_tags SET note_id = 2 WHERE note_id = 1 AND tag_id = 11"));
    ASSERT_TRUE(c->exec("DELETE FROM note_photos WHERE note_id = 2 AND position = 0"));
    EXPECT_EQ(summary(), "1|x:Ex|0;2|z:Z,y:Y|1;");
    ASSERT_TRUE(c->exec("DELETE FROM note_tags WHERE note_id = 1; DELETE FROM note_photos WHERE note_id = 2"));
    EXPECT_EQ(summary(), "1|-|0;2|z:Z,y:Y|0;");

    // Filled by the migration for rows written before it (re-run here on a
    // database whose summaries and triggers are gone).
    ASSERT_TRUE(c->exec(R"sql(
        INSERT INTO note_photos (note_id, position, url) VALUES (1, 0, 'https://p.example/3.jpg');
        DROP TRIGGER note_tags_summary_insert; DROP TRIGGER note_tags_summary_delete;
        DROP TRIGGER note_tags_summary_update; DROP TRIGGER tags_summary_update;
        DROP TRIGGER note_photos_summary_insert; DROP TRIGGER note_photos_summary_delete;
        DROP TRIGGER note_photos_summary_update;
        UPDATE notes SET tag_list = NULL, has_photos = 0;
        INSERT INTO note_tags (note_id, tag_id, position) VALUES (1, 12, 0);
        DELETE FROM schema_migrations WHERE migration_name = '016_notes_tags_and_photos_summary';
    )sql"));
    EXPECT_EQ(summary(), "1|-|0;2|-|0;");
    auto again = run_migrations(db);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->applied, std::vector<std::string>{"016_notes_tags_and_photos_summary"});
    EXPECT_EQ(summary(), "1|z:Z|1;2|z:Z,y:Y|0;");
    ASSERT_TRUE(c->exec("DELETE FROM notes WHERE id = 1"));  // the note's links go with it (cascade)
    EXPECT_EQ(summary(), "2|z:Z,y:Y|0;");
    EXPECT_EQ(rows(*c, "PRAGMA foreign_key_check"), std::vector<std::string>{});
}

TEST(Migrations, EmptyFileIsAFreshDatabase) {
    TempDir dir;
    const std::string db = dir / "starpunk.db";
    std::ofstream(db).close();  // zero bytes
    auto r = run_migrations(db);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->applied, all_names());
    expect_current_schema(*open_db(db));
}

TEST(Migrations, UnwritableLocationFailsAtOnceWithAMessage) {
    auto start = std::chrono::steady_clock::now();
    auto r = run_migrations("/nonexistent-dir/for/sure/starpunk.db");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("/nonexistent-dir/for/sure/starpunk.db"), std::string::npos) << r.error().message;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s) << "a non-busy error is not retried";
}

// Invariant 4: a failing migration changes nothing and says what failed.
TEST(Migrations, FailingMigrationRollsEverythingBack) {
    TempDir dir;
    const std::string db = dir / "starpunk.db";
    {
        auto c = open_db(db);
        // A database where "notes" is a view cannot be indexed: 001 fails.
        ASSERT_TRUE(c->exec("CREATE TABLE real_notes (id INTEGER PRIMARY KEY, created_at TEXT, published INT, "
                            "slug TEXT, deleted_at TEXT, content_hash TEXT);"
                            "CREATE VIEW notes AS SELECT * FROM real_notes;"));
    }
    auto r = run_migrations(db);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("migration 001_initial_schema failed"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("backup"), std::string::npos) << "the message says what to do";
    auto c = open_db(db);
    EXPECT_FALSE(*table_exists(*c, "schema_migrations"));
    EXPECT_FALSE(*table_exists(*c, "sessions"));
    EXPECT_FALSE(*table_exists(*c, "auth_state"));
}

TEST(Migrations, WaitsForAnotherWriterWithBackoff) {
    TempDir dir;
    const std::string db = dir / "starpunk.db";
    ASSERT_TRUE(run_migrations(db));
    auto holder = open_db(db);
    ASSERT_TRUE(holder->exec("BEGIN IMMEDIATE"));
    std::thread release([&] {
        std::this_thread::sleep_for(300ms);
        (void)holder->exec("COMMIT");
    });
    MigrationOptions o;
    o.first_delay = 20ms;
    o.busy_timeout_seconds = 0.02;
    auto r = run_migrations(db, o);
    release.join();
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_GT(r->attempts, 1);
    EXPECT_TRUE(r->applied.empty());
}

TEST(Migrations, GivesUpAfterTheConfiguredAttemptsWhenTheLockNeverComes) {
    TempDir dir;
    const std::string db = dir / "starpunk.db";
    ASSERT_TRUE(run_migrations(db));
    auto holder = open_db(db);
    ASSERT_TRUE(holder->exec("BEGIN IMMEDIATE"));
    MigrationOptions o;
    o.attempts = 3;
    o.first_delay = 10ms;
    o.busy_timeout_seconds = 0.01;
    auto r = run_migrations(db, o);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("locked"), std::string::npos) << r.error().message;
    (void)holder->exec("ROLLBACK");
}

// ---- StarPunk 1.x databases ---------------------------------------------------------------------

// The 1.x tables' indexes (automatic ones included: they prove the UNIQUE
// constraints survived).
constexpr const char* kIndexQuery =
    "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' "
    "AND tbl_name IN ('notes','sessions','auth_state') ORDER BY name";

// The columns 1.x sessions have (005 adds login_method).
constexpr const char* kSessionColumns =
    "SELECT id, session_token_hash, me, created_at, expires_at, last_used_at, user_agent, ip_address "
    "FROM sessions ORDER BY id";

class FromStarPunk11 : public ::testing::TestWithParam<V11Variant> {};

INSTANTIATE_TEST_SUITE_P(Variants, FromStarPunk11, ::testing::Values(V11Variant::v1_1, V11Variant::v1_0),
                         [](const auto& param_info) { return param_info.param == V11Variant::v1_1 ? "v1_1" : "v1_0"; });

TEST_P(FromStarPunk11, AddsOnlyWhatIsMissingAndKeepsEveryNoteReachable) {
    NotesHarness h({.fault_fs = false, .migrate = false});
    ASSERT_TRUE(build_v11_fixture(h.dir.path(), GetParam()));

    std::vector<std::string> notes_before, timestamps_before, sessions_before, auth_before, foreign_before, indexes_before;
    std::string notes_sql_before, auth_sql_before;
    {
        auto c = open_db(h.db_path);
        notes_before = rows(*c, "SELECT id, slug, file_path, published, content_hash FROM notes ORDER BY id");
        timestamps_before = rows(*c, "SELECT created_at, updated_at, deleted_at FROM notes ORDER BY id");
        sessions_before = rows(*c, kSessionColumns);
        EXPECT_FALSE(*column_exists(*c, "sessions", "login_method"));
        auth_before = rows(*c, "SELECT * FROM auth_state ORDER BY state");
        indexes_before = rows(*c, kIndexQuery);
        notes_sql_before = table_sql(*c, "notes");
        auth_sql_before = table_sql(*c, "auth_state");
        if (GetParam() == V11Variant::v1_1) foreign_before = rows(*c, "SELECT * FROM schema_migrations ORDER BY id");
        ASSERT_EQ(notes_before.size(), 5u);
        EXPECT_FALSE(*column_exists(*c, "notes", "pending_hash"));
        EXPECT_FALSE(*table_exists(*c, "notes_fts"));
    }

    auto r = run_migrations(h.db_path);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->applied, all_names()) << "none of our names were recorded, so each ran (and found little to do)";

    auto c = open_db(h.db_path);
    expect_current_schema(*c);
    // Existing tables were altered, never recreated: data, ids, indexes intact.
    std::vector<std::string> notes_after =
        rows(*c, "SELECT id, slug, file_path, published, content_hash FROM notes ORDER BY id");
    EXPECT_EQ(notes_after, notes_before);
    // Timestamps keep their instant but take the one storage form (migration 004).
    std::vector<std::string> timestamps_after = rows(*c, "SELECT created_at, updated_at, deleted_at FROM notes ORDER BY id");
    ASSERT_EQ(timestamps_after.size(), timestamps_before.size());
    for (size_t i = 0; i < timestamps_after.size(); ++i) {
        auto split = [](const std::string& row) {
            std::vector<std::string> parts;
            size_t start = 0;
            for (size_t bar; (bar = row.find('|', start)) != std::string::npos; start = bar + 1)
                parts.push_back(row.substr(start, bar - start));
            parts.push_back(row.substr(start));
            return parts;
        };
        auto before = split(timestamps_before[i]);
        auto after = split(timestamps_after[i]);
        ASSERT_EQ(before.size(), after.size());
        for (size_t k = 0; k < before.size(); ++k) {
            if (before[k] == "NULL") {
                EXPECT_EQ(after[k], "NULL");
                continue;
            }
            auto b = parse_timestamp(before[k]);
            ASSERT_TRUE(b) << before[k];
            EXPECT_EQ(after[k], format_db_time(*b)) << "was " << before[k];
        }
    }
    EXPECT_EQ(rows(*c, "SELECT COUNT(*) FROM notes WHERE pending_hash IS NOT NULL"), std::vector<std::string>{"0"});
    EXPECT_EQ(rows(*c, kSessionColumns), sessions_before);
    // 1.x sessions say nothing of how they were made: refused when presented (005).
    EXPECT_EQ(rows(*c, "SELECT COUNT(*) FROM sessions WHERE login_method IS NOT NULL"), std::vector<std::string>{"0"});
    EXPECT_EQ(rows(*c, "SELECT state, created_at, expires_at, redirect_uri FROM auth_state ORDER BY state").size(),
              auth_before.size());
    EXPECT_EQ(rows(*c, kIndexQuery), indexes_before);
    const std::string notes_sql_after = table_sql(*c, "notes");
    EXPECT_EQ(notes_sql_after.substr(0, notes_sql_before.size() - 1),
              notes_sql_before.substr(0, notes_sql_before.size() - 1))
        << "notes was rebuilt instead of altered:\n" << notes_sql_after;
    if (GetParam() == V11Variant::v1_1) {
        // code_verifier existed: auth_state is untouched but for 011's after_login.
        EXPECT_EQ(table_sql(*c, "auth_state"), auth_sql_before.substr(0, auth_sql_before.size() - 1) +
                                                   ", after_login TEXT NULL)");
        auto recorded = rows(*c, "SELECT * FROM schema_migrations ORDER BY id");
        ASSERT_GE(recorded.size(), 1u);
        EXPECT_EQ(recorded[0], foreign_before[0]) << "the Python project's own record is kept";
    }
    EXPECT_EQ(rows(*c, "PRAGMA integrity_check"), std::vector<std::string>{"ok"});
    EXPECT_EQ(rows(*c, "PRAGMA foreign_key_check"), std::vector<std::string>{});

    // A second run: nothing.
    auto again = run_migrations(h.db_path);
    ASSERT_TRUE(again);
    EXPECT_TRUE(again->applied.empty());

    // Every note reachable through the service, content verified by its hash.
    ASSERT_EQ(h.start(), "");
    for (const auto& f : starpunk::testing::v11_fixture_notes()) {
        SCOPED_TRACE(f.slug);
        auto n = h.svc().get_by_slug(f.slug);
        ASSERT_TRUE(n) << n.error().message;
        EXPECT_EQ(n->published, f.published);
        EXPECT_EQ(n->is_deleted(), f.deleted);
        auto path = h.svc().absolute_path(*n);
        ASSERT_TRUE(path) << path.error().message;
        EXPECT_EQ(*path, h.notes_path + "/" + f.relative_file);
        auto content = h.svc().read_content(*n);
        ASSERT_TRUE(content) << content.error().message;
        EXPECT_EQ(*content, *slurp(starpunk::testing::fixtures_dir() + "/starpunk-1.1/notes/" + f.relative_file));
        EXPECT_EQ(sha256_hex(*content), n->content_hash);
    }
    using namespace std::chrono;
    EXPECT_EQ(h.svc().get_by_slug("hello-world")->created_at,
              sys_days{year{2024} / November / 18} + 12h + 34min + 56s + 123456us);
    EXPECT_EQ(h.svc().get_by_slug("a-draft-about-tea")->created_at, sys_days{year{2024} / November / 20} + 8h);
    EXPECT_EQ(h.svc().get_by_slug("a-draft-about-tea")->updated_at,
              sys_days{year{2024} / November / 21} + 9h + 30min);

    auto report = h.svc().check();
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->notes_checked, 5);
    EXPECT_TRUE(report->ok()) << (report->problems.empty() ? "" : report->problems[0].file_path + ": " +
                                                                      report->problems[0].problem);
    auto rec = h.svc().recover();
    ASSERT_TRUE(rec) << rec.error().message;
    EXPECT_TRUE(rec->orphan_files.empty());
    EXPECT_EQ(rec->stale_temp_files_removed, 0);

    // The database keeps working: new notes continue the id sequence (the
    // purged id 4 and the highest id 6 are not reused) and respect old slugs.
    notes::NewNote nn;
    nn.content = "A new note after the upgrade";
    nn.custom_slug = "hello-world";
    auto created = h.svc().create(nn);
    ASSERT_TRUE(created) << created.error().message;
    EXPECT_EQ(created->id, 7);
    EXPECT_EQ(created->slug, "hello-world-2");
    EXPECT_EQ(h.svc().list(notes::Visibility::all, 10, 0)->total, 5);
    auto upd = h.svc().update(h.svc().get_by_slug("creme-brulee-recipe")->id, {std::string("Edited after upgrade"), {}});
    ASSERT_TRUE(upd) << upd.error().message;
    EXPECT_EQ(upd->file_path, h.svc().get_by_slug("creme-brulee-recipe")->file_path) << "stored path form is kept";
    EXPECT_EQ(*h.svc().read_content(*upd), "Edited after upgrade");
    EXPECT_TRUE(h.svc().check()->ok());
}

// 1.x rows may carry "YYYY-MM-DDTHH:MM:SS" while new rows carry
// "YYYY-MM-DD HH:MM:SS.ffffff"; lists sort by created_at as text, where
// ' ' < 'T', so on one day the two forms must still sort by time.
TEST(FromStarPunk11Mixed, NotesOfOneDayListNewestFirstAcrossTimestampForms) {
    NotesHarness h;
    ASSERT_TRUE(build_v11_fixture(h.dir.path(), V11Variant::v1_1));
    ASSERT_EQ(h.start(), "");  // migrates
    // a-draft-about-tea was created 2024-11-20T08:00:00; this one an hour later.
    using namespace std::chrono;
    h.clock.set(sys_days{year{2024} / November / 20} + 9h);
    notes::NewNote nn;
    nn.content = "Later the same day";
    nn.published = false;
    auto later = h.svc().create(nn);
    ASSERT_TRUE(later);
    auto page = h.svc().list(notes::Visibility::all, 10, 0);
    ASSERT_TRUE(page);
    std::vector<std::string> slugs;
    for (const auto& n : page->notes) slugs.push_back(n.slug);
    EXPECT_EQ(slugs, (std::vector<std::string>{"20250101-000000", "creme-brulee-recipe", "later-the-same-day",
                                               "a-draft-about-tea", "hello-world"}));
}

// ---- several processes at once ------------------------------------------------------------------

struct ChildResult {
    int exit_code = -1;
    std::string line;  // "ok <applied> <attempts>" or "error <message>"
};

// Forks `n` children that wait on a pipe, then all call run_migrations(db) at once.
// Barrier: each child reports on `ready` before it blocks on `go`; the parent
// opens the gate once all have reported (or after a deadline, so a stuck child
// costs a failed expectation, never a hang).
std::vector<ChildResult> race(const std::string& db, int n) {
    int go[2];
    int ready[2];
    if (::pipe(go) != 0) return {};
    if (::pipe(ready) != 0) return {};
    std::vector<std::pair<pid_t, int>> kids;
    for (int i = 0; i < n; ++i) {
        int out[2];
        if (::pipe(out) != 0) break;
        pid_t pid = ::fork();
        if (pid == 0) {
            ::close(go[1]);
            ::close(out[0]);
            ::close(ready[0]);
            (void)!::write(ready[1], "r", 1);
            ::close(ready[1]);
            char c;
            while (::read(go[0], &c, 1) > 0) {
            }  // EOF = go
            auto r = run_migrations(db);
            std::string line = r ? "ok " + std::to_string(r->applied.size()) + " " + std::to_string(r->attempts)
                                 : "error " + r.error().message;
            (void)!::write(out[1], line.data(), line.size());
            ::_exit(r ? 0 : 1);
        }
        ::close(out[1]);
        kids.emplace_back(pid, out[0]);
    }
    ::close(go[0]);
    ::close(ready[1]);
    int arrived = 0;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (arrived < static_cast<int>(kids.size())) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) break;
        pollfd p{ready[0], POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left)) <= 0) break;
        char buf[64];
        const ssize_t got = ::read(ready[0], buf, sizeof buf);
        if (got <= 0) break;  // EOF: every child has reported or died
        arrived += static_cast<int>(got);
    }
    ::close(ready[0]);
    EXPECT_EQ(arrived, static_cast<int>(kids.size())) << "not every child reached the barrier";
    ::close(go[1]);
    std::vector<ChildResult> results;
    for (auto [pid, fd] : kids) {
        ChildResult res;
        char buf[4096];
        ssize_t got;
        while ((got = ::read(fd, buf, sizeof buf)) > 0) res.line.append(buf, static_cast<size_t>(got));
        ::close(fd);
        int status = 0;
        ::waitpid(pid, &status, 0);
        res.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        results.push_back(res);
    }
    return results;
}

void expect_race_won_once(const std::string& db, const std::vector<ChildResult>& results, size_t expected_applied) {
    ASSERT_EQ(results.size(), 8u);
    size_t applied_total = 0;
    int appliers = 0;
    for (const auto& r : results) {
        EXPECT_EQ(r.exit_code, 0) << r.line;
        size_t applied = 0;
        int attempts = 0;
        if (std::sscanf(r.line.c_str(), "ok %zu %d", &applied, &attempts) == 2) {
            applied_total += applied;
            if (applied) ++appliers;
        }
    }
    EXPECT_EQ(applied_total, expected_applied) << "each migration must run exactly once";
    EXPECT_LE(appliers, 1) << "one lock holder migrates, the others find nothing to do";
    auto c = open_db(db);
    expect_current_schema(*c);
    EXPECT_EQ(rows(*c, "SELECT COUNT(*) FROM schema_migrations WHERE migration_name NOT LIKE '%.sql'"),
              std::vector<std::string>{std::to_string(migrations().size())});
    EXPECT_EQ(rows(*c, "PRAGMA integrity_check"), std::vector<std::string>{"ok"});
}

TEST(Migrations, EightProcessesOnOneFreshFileAllComeUp) {
    for (int round = 0; round < 3; ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        TempDir dir;
        const std::string db = dir / "starpunk.db";
        expect_race_won_once(db, race(db, 8), migrations().size());
    }
}

TEST(Migrations, EightProcessesOnOneStarPunk11DatabaseAllComeUp) {
    TempDir dir;
    ASSERT_TRUE(build_v11_fixture(dir.path(), V11Variant::v1_0));
    const std::string db = dir / "starpunk.db";
    expect_race_won_once(db, race(db, 8), migrations().size());
    auto c = open_db(db);
    EXPECT_EQ(rows(*c, "SELECT COUNT(*) FROM notes"), std::vector<std::string>{"5"});
}

}  // namespace
}  // namespace starpunk::storage
