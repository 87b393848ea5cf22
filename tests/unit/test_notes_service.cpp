// The notes service (notes/notes_service.hpp) and its write protocol
// (SPEC §2.3, the comment at the top of notes_service.cpp), with the real file
// system and with the fault-injecting one (tests/support/fault_fs.hpp).
//
// What the protocol allows after a failed operation, and what these tests hold
// it to:
//   * failed create: NO row. The file may remain as an orphan only when the
//     failure came after the rename (the directory fsync); check()/recover()
//     then report it as "orphan file (no database row)" and never delete it.
//   * failed update: the row stays, pending_hash is settled, and its hash
//     matches its file (old content, or the new one when only the directory
//     fsync failed) — right away and after recover().
//   * no stale temp file after a failed call; none reported by check().
#include "notes/notes_service.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "storage/atomic_write.hpp"
#include "storage/migrations.hpp"
#include "support/fault_fs.hpp"
#include "support/fixture_v11.hpp"
#include "support/notes_harness.hpp"
#include "util/crypto.hpp"

namespace starpunk::notes {
namespace {

using namespace std::chrono_literals;
using starpunk::testing::FaultFs;
using starpunk::testing::FsOp;
using starpunk::testing::NotesHarness;
using starpunk::testing::slurp;
using starpunk::testing::temp_files;
using starpunk::testing::test_epoch;

bool exists(const std::string& path) {
    struct stat st{};
    return ::lstat(path.c_str(), &st) == 0;
}

void put(const std::string& path, const std::string& content) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    auto f = storage::posix_fs().create_file(path);
    ASSERT_TRUE(f) << f.error().message;
    ASSERT_TRUE((*f)->append(content));
    ASSERT_TRUE((*f)->close());
}

NewNote note(std::string content, std::string custom_slug = {}, bool published = true) {
    NewNote n;
    n.content = std::move(content);
    n.custom_slug = std::move(custom_slug);
    n.published = published;
    return n;
}

std::string problems_text(const IntegrityReport& r) {
    std::string out;
    for (const auto& p : r.problems) out += "[" + p.slug + " | " + p.file_path + " | " + p.problem + "] ";
    return out;
}

// Problems other than the ones the protocol allows after a failed create.
std::vector<IntegrityProblem> real_problems(const IntegrityReport& r) {
    std::vector<IntegrityProblem> out;
    for (const auto& p : r.problems)
        if (p.problem != "orphan file (no database row)") out.push_back(p);
    return out;
}

class NotesServiceTest : public ::testing::TestWithParam<bool> {
protected:
    void SetUp() override {
        h = std::make_unique<NotesHarness>(NotesHarness::Options{.fault_fs = GetParam()});
        ASSERT_EQ(h->start(), "");
    }
    NotesService& svc() { return h->svc(); }
    std::string abs(const Note& n) { return h->notes_path + "/" + n.file_path; }
    Note create(const std::string& content, const std::string& custom = {}, bool published = true) {
        auto r = svc().create(note(content, custom, published));
        EXPECT_TRUE(r) << r.error().message;
        return r ? *r : Note{};
    }
    void expect_clean() {
        auto report = svc().check();
        ASSERT_TRUE(report) << report.error().message;
        EXPECT_TRUE(report->ok()) << problems_text(*report);
    }
    std::unique_ptr<NotesHarness> h;
};

INSTANTIATE_TEST_SUITE_P(Fs, NotesServiceTest, ::testing::Values(false, true),
                         [](const auto& param_info) { return param_info.param ? "FaultFs" : "PosixFs"; });

// ---- create -----------------------------------------------------------------------------------

TEST_P(NotesServiceTest, CreateWritesFileUnderCreatedAtMonthAndRow) {
    const std::string content = "# Hello world from StarPunk\n";
    Note n = create(content);
    EXPECT_GT(n.id, 0);
    EXPECT_EQ(n.slug, "hello-world-from-starpunk");
    EXPECT_EQ(n.file_path, "2024/11/hello-world-from-starpunk.md");
    EXPECT_TRUE(n.published);
    EXPECT_EQ(n.created_at, test_epoch());
    EXPECT_EQ(n.updated_at, test_epoch());
    EXPECT_FALSE(n.is_deleted());
    EXPECT_FALSE(n.pending_hash);
    EXPECT_EQ(n.content_hash, sha256_hex(content));
    EXPECT_EQ(*slurp(h->notes_path + "/2024/11/hello-world-from-starpunk.md"), content);
    EXPECT_TRUE(temp_files(h->notes_path).empty());
    // Stored as written: file_path relative to NOTES_PATH, timestamps in the storage format.
    EXPECT_EQ(h->sql_text("SELECT file_path FROM notes"), "2024/11/hello-world-from-starpunk.md");
    EXPECT_EQ(h->sql_text("SELECT created_at FROM notes"), "2024-11-18 12:34:56.123456");
    expect_clean();
}

TEST_P(NotesServiceTest, ContentHashIsLowercaseHexSha256OfTheFile) {
    Note n = create("Hello");
    EXPECT_EQ(n.content_hash, "185f8db32271fe25f561a6fc938b2e264306ec304eda518007d1764826381969");
    EXPECT_EQ(sha256_hex(*slurp(abs(n))), n.content_hash);
}

TEST_P(NotesServiceTest, FileLayoutFollowsCreatedAtInUtc) {
    using namespace std::chrono;
    NewNote a = note("Last microsecond of the year");
    a.created_at = sys_days{year{2024} / December / 31} + 23h + 59min + 59s + 999999us;
    NewNote b = note("First microsecond of the year");
    b.created_at = sys_days{year{2025} / January / 1};
    auto na = svc().create(a);
    auto nb = svc().create(b);
    ASSERT_TRUE(na && nb);
    EXPECT_EQ(na->file_path, "2024/12/last-microsecond-of-the-year.md");
    EXPECT_EQ(nb->file_path, "2025/01/first-microsecond-of-the-year.md");
    EXPECT_EQ(na->created_at, *a.created_at);
    EXPECT_TRUE(exists(abs(*na)));
    EXPECT_TRUE(exists(abs(*nb)));
}

TEST_P(NotesServiceTest, GetBySlugAndByIdReturnTheSameNote) {
    Note n = create("Find me later");
    auto by_slug = svc().get_by_slug("find-me-later");
    auto by_id = svc().get_by_id(n.id);
    ASSERT_TRUE(by_slug && by_id);
    for (const Note* got : {&*by_slug, &*by_id}) {
        EXPECT_EQ(got->id, n.id);
        EXPECT_EQ(got->slug, n.slug);
        EXPECT_EQ(got->file_path, n.file_path);
        EXPECT_EQ(got->created_at, n.created_at);
        EXPECT_EQ(got->updated_at, n.updated_at);
        EXPECT_EQ(got->content_hash, n.content_hash);
        EXPECT_TRUE(got->published);
    }
    auto content = svc().read_content(*by_slug);
    ASSERT_TRUE(content);
    EXPECT_EQ(*content, "Find me later");
    auto missing = svc().get_by_slug("no-such-note");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ErrorCode::not_found);
    auto missing_id = svc().get_by_id(999);
    ASSERT_FALSE(missing_id);
    EXPECT_EQ(missing_id.error().code, ErrorCode::not_found);
}

TEST_P(NotesServiceTest, BlankContentIsRejectedAndNothingIsWritten) {
    for (const char* blank : {"", " ", "\n\n", " \t\r\n\f\v"}) {
        auto r = svc().create(note(blank));
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
    }
    EXPECT_EQ(svc().list(Visibility::all, 10, 0)->total, 0);
    EXPECT_FALSE(exists(h->notes_path + "/2024"));
}

TEST(NotesService, OversizedContentIsTooLarge) {
    NotesHarness h({.max_content_bytes = 64});
    ASSERT_EQ(h.start(), "");
    auto too_big = h.svc().create(note(std::string(65, 'x')));
    ASSERT_FALSE(too_big);
    EXPECT_EQ(too_big.error().code, ErrorCode::too_large);
    auto just_fits = h.svc().create(note(std::string(64, 'y')));
    ASSERT_TRUE(just_fits) << just_fits.error().message;
    auto update = h.svc().update(just_fits->id, NoteChange{std::string(65, 'z'), {}});
    ASSERT_FALSE(update);
    EXPECT_EQ(update.error().code, ErrorCode::too_large);
    EXPECT_EQ(*h.svc().read_content(*h.svc().get_by_id(just_fits->id)), std::string(64, 'y'));
    EXPECT_EQ(h.svc().list(Visibility::all, 10, 0)->total, 1);
}

TEST_P(NotesServiceTest, CustomSlugCollisionsGetNumberedSuffixes) {
    EXPECT_EQ(create("one", "My Post").slug, "my-post");
    EXPECT_EQ(create("two", "my-post").slug, "my-post-2");
    Note third = create("three", "MY POST!");
    EXPECT_EQ(third.slug, "my-post-3");
    EXPECT_EQ(third.file_path, "2024/11/my-post-3.md");
    // A deleted note keeps its slug.
    ASSERT_TRUE(svc().soft_delete(third.id));
    EXPECT_EQ(create("four", "my-post").slug, "my-post-4");
    expect_clean();
}

TEST_P(NotesServiceTest, AnOrphanFileAtTheTargetPathMakesTheSlugTaken) {
    const std::string orphan = h->notes_path + "/2024/11/taken.md";
    put(orphan, "someone else's file");
    Note n = create("mine", "taken");
    EXPECT_EQ(n.slug, "taken-2");
    EXPECT_EQ(*slurp(orphan), "someone else's file");
}

TEST_P(NotesServiceTest, ReservedCustomSlugFallsBackToAutomaticUnderFallBackPolicy) {
    NewNote n = note("Admin tips for beginners", "admin");
    n.slug_policy = CustomSlugPolicy::fall_back;
    auto r = svc().create(n);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->slug, "admin-tips-for-beginners");  // the reason is covered in test_slug.cpp
}

TEST_P(NotesServiceTest, ReservedCustomSlugIsAnErrorUnderRejectPolicyAndNothingIsWritten) {
    for (const char* bad : {"admin", "Feed.XML", "a/b"}) {
        NewNote n = note("Admin tips", bad);
        n.slug_policy = CustomSlugPolicy::reject;
        auto r = svc().create(n);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
    }
    EXPECT_EQ(svc().list(Visibility::all, 10, 0)->total, 0);
    EXPECT_FALSE(exists(h->notes_path + "/2024/11"));
}

TEST_P(NotesServiceTest, EmojiOnlyContentGetsATimestampSlug) {
    auto r = svc().create(note("🎉🎉🎉"));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->slug, "20241118-123456");
    EXPECT_EQ(r->file_path, "2024/11/20241118-123456.md");
    // The same second again: a random suffix.
    Note second = create("🚀");
    EXPECT_EQ(second.slug.size(), std::string("20241118-123456-xxxx").size()) << second.slug;
    EXPECT_EQ(second.slug.rfind("20241118-123456-", 0), 0u) << second.slug;
}

TEST_P(NotesServiceTest, AutomaticSlugCollisionGetsARandomSuffix) {
    Note a = create("Same words here");
    Note b = create("Same words here");
    EXPECT_EQ(a.slug, "same-words-here");
    ASSERT_EQ(b.slug.size(), a.slug.size() + 5) << b.slug;
    EXPECT_EQ(b.slug.rfind("same-words-here-", 0), 0u);
    expect_clean();
}

// ---- list -------------------------------------------------------------------------------------

TEST_P(NotesServiceTest, ListFiltersPagesCountsAndSortsNewestFirst) {
    std::vector<Note> made;
    for (int i = 0; i < 7; ++i) {
        made.push_back(create("Note number " + std::to_string(i), {}, /*published=*/i % 3 != 1));
        h->clock.advance(1s);
    }
    // drafts: 1, 4; deleted: 5 (published) and 4 (draft)
    ASSERT_TRUE(svc().soft_delete(made[5].id));
    ASSERT_TRUE(svc().soft_delete(made[4].id));

    auto ids = [](const NotePage& p) {
        std::vector<int64_t> out;
        for (const auto& n : p.notes) out.push_back(n.id);
        return out;
    };
    auto pub = svc().list(Visibility::published, 10, 0);
    ASSERT_TRUE(pub);
    EXPECT_EQ(pub->total, 4);
    EXPECT_EQ(ids(*pub), (std::vector<int64_t>{made[6].id, made[3].id, made[2].id, made[0].id}));

    auto all = svc().list(Visibility::all, 10, 0);
    EXPECT_EQ(all->total, 5);
    EXPECT_EQ(ids(*all), (std::vector<int64_t>{made[6].id, made[3].id, made[2].id, made[1].id, made[0].id}));

    auto trash = svc().list(Visibility::trash, 10, 0);
    EXPECT_EQ(trash->total, 2);
    EXPECT_EQ(ids(*trash), (std::vector<int64_t>{made[5].id, made[4].id}));

    // Paging: total is the count over all pages.
    auto p1 = svc().list(Visibility::all, 2, 0);
    auto p2 = svc().list(Visibility::all, 2, 2);
    auto p3 = svc().list(Visibility::all, 2, 4);
    auto p4 = svc().list(Visibility::all, 2, 6);
    EXPECT_EQ(ids(*p1), (std::vector<int64_t>{made[6].id, made[3].id}));
    EXPECT_EQ(ids(*p2), (std::vector<int64_t>{made[2].id, made[1].id}));
    EXPECT_EQ(ids(*p3), (std::vector<int64_t>{made[0].id}));
    EXPECT_TRUE(p4->notes.empty());
    for (auto* p : {&p1, &p2, &p3, &p4}) EXPECT_EQ((*p)->total, 5);
    // Nonsense paging does not fail.
    EXPECT_TRUE(svc().list(Visibility::all, -1, -5)->notes.empty());
}

TEST_P(NotesServiceTest, ListBreaksTimestampTiesByNewestId) {
    Note a = create("Alpha");
    Note b = create("Beta");  // same created_at
    auto page = svc().list(Visibility::all, 10, 0);
    ASSERT_EQ(page->notes.size(), 2u);
    EXPECT_EQ(page->notes[0].id, b.id);
    EXPECT_EQ(page->notes[1].id, a.id);
}

// ---- read_content -----------------------------------------------------------------------------

TEST_P(NotesServiceTest, ReadContentRefusesAFileThatDoesNotMatchItsHash) {
    Note n = create("Original words");
    put(abs(n), "Tampered words");
    auto r = svc().read_content(n);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::io);
    auto report = svc().check();
    ASSERT_EQ(report->problems.size(), 1u) << problems_text(*report);
    EXPECT_EQ(report->problems[0].problem, "hash mismatch");
    EXPECT_EQ(report->problems[0].slug, n.slug);
}

TEST_P(NotesServiceTest, MissingFileIsReported) {
    Note n = create("Soon gone");
    ASSERT_EQ(::unlink(abs(n).c_str()), 0);
    EXPECT_FALSE(svc().read_content(n));
    auto report = svc().check();
    ASSERT_EQ(report->problems.size(), 1u) << problems_text(*report);
    EXPECT_EQ(report->problems[0].problem, "missing file");
}

TEST_P(NotesServiceTest, QuickCheckHashesOnlyTheMostRecentlyChangedButMissesNoMissingFile) {
    std::vector<Note> notes;
    for (int i = 0; i <= kQuickHashedNotes + 1; ++i) {
        notes.push_back(create("Note number " + std::to_string(i)));
        h->clock.advance(1s);  // distinct updated_at: notes[0] is the least recently changed
    }
    put(abs(notes[0]), "Tampered, but old");  // beyond the quick window
    ASSERT_EQ(::unlink(abs(notes[1]).c_str()), 0);  // beyond it too, yet found
    auto quick = svc().check(CheckDepth::quick);
    ASSERT_TRUE(quick);
    EXPECT_EQ(quick->notes_checked, kQuickHashedNotes + 2);
    EXPECT_EQ(quick->notes_hashed, kQuickHashedNotes);
    ASSERT_EQ(quick->problems.size(), 1u) << problems_text(*quick);
    EXPECT_EQ(quick->problems[0].problem, "missing file");
    EXPECT_EQ(quick->problems[0].slug, notes[1].slug);

    put(abs(notes.back()), "Tampered, and recent");  // inside the window
    quick = svc().check(CheckDepth::quick);
    EXPECT_EQ(quick->problems.size(), 2u) << problems_text(*quick);
    auto full = svc().check(CheckDepth::full);
    EXPECT_EQ(full->notes_hashed, kQuickHashedNotes + 2);  // every note
    EXPECT_EQ(full->problems.size(), 3u) << problems_text(*full);
}

// ---- update -----------------------------------------------------------------------------------

TEST_P(NotesServiceTest, UpdateContentKeepsSlugAndPathAndMovesUpdatedAt) {
    Note n = create("First version of the note");
    h->clock.advance(90s);
    auto u = svc().update(n.id, NoteChange{"Second version, completely different", {}});
    ASSERT_TRUE(u) << u.error().message;
    EXPECT_EQ(u->slug, n.slug);
    EXPECT_EQ(u->file_path, n.file_path);
    EXPECT_EQ(u->created_at, n.created_at);
    EXPECT_EQ(u->updated_at, test_epoch() + 90s);
    EXPECT_EQ(u->content_hash, sha256_hex("Second version, completely different"));
    EXPECT_FALSE(u->pending_hash);
    EXPECT_TRUE(u->published);
    auto got = svc().get_by_id(n.id);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->content_hash, u->content_hash);
    EXPECT_EQ(got->updated_at, u->updated_at);
    EXPECT_FALSE(got->pending_hash);
    EXPECT_EQ(*svc().read_content(*got), "Second version, completely different");
    EXPECT_EQ(*slurp(abs(n)), "Second version, completely different");
    EXPECT_TRUE(temp_files(h->notes_path).empty());
    EXPECT_FALSE(svc().get_by_slug("second-version-completely-different"));
    expect_clean();
}

TEST_P(NotesServiceTest, UpdatePublishedOnlyLeavesTheFileAlone) {
    Note n = create("A draft to publish", {}, /*published=*/false);
    h->clock.advance(5s);
    h->fault.reset_counters();
    auto u = svc().update(n.id, NoteChange{{}, true});
    ASSERT_TRUE(u) << u.error().message;
    EXPECT_TRUE(u->published);
    EXPECT_EQ(u->content_hash, n.content_hash);
    EXPECT_EQ(u->updated_at, test_epoch() + 5s);
    EXPECT_TRUE(svc().get_by_id(n.id)->published);
    EXPECT_EQ(h->fault.calls(FsOp::create_file), 0);
    // Same content again: no file write either, but updated_at still moves.
    h->clock.advance(5s);
    auto same = svc().update(n.id, NoteChange{"A draft to publish", false});
    ASSERT_TRUE(same);
    EXPECT_FALSE(same->published);
    EXPECT_EQ(same->updated_at, test_epoch() + 10s);
    EXPECT_EQ(h->fault.calls(FsOp::create_file), 0);
    expect_clean();
}

TEST_P(NotesServiceTest, UpdateErrors) {
    auto missing = svc().update(12345, NoteChange{"text", {}});
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ErrorCode::not_found);
    Note n = create("Keep me");
    auto blank = svc().update(n.id, NoteChange{"  \n", {}});
    ASSERT_FALSE(blank);
    EXPECT_EQ(blank.error().code, ErrorCode::invalid_input);
    EXPECT_EQ(*svc().read_content(*svc().get_by_id(n.id)), "Keep me");
}

TEST_P(NotesServiceTest, UpdateKeepsTheSearchIndexInStep) {
    if (!storage::fts5_available()) GTEST_SKIP() << "no FTS5";
    Note n = create("Searchable aardvark");
    EXPECT_EQ(h->sql_text("SELECT slug FROM notes_fts WHERE notes_fts MATCH 'aardvark'"), n.slug);
    ASSERT_TRUE(svc().update(n.id, NoteChange{"Searchable zebra", {}}));
    EXPECT_EQ(h->sql_text("SELECT slug FROM notes_fts WHERE notes_fts MATCH 'aardvark'"), "");
    EXPECT_EQ(h->sql_text("SELECT slug FROM notes_fts WHERE notes_fts MATCH 'zebra'"), n.slug);
}

// ---- delete, restore, purge -------------------------------------------------------------------

TEST_P(NotesServiceTest, SoftDeleteRestoreAndPurge) {
    Note n = create("Delete me softly");
    h->clock.advance(1h);
    auto d = svc().soft_delete(n.id);
    ASSERT_TRUE(d);
    ASSERT_TRUE(d->deleted_at);
    EXPECT_EQ(*d->deleted_at, test_epoch() + 1h);
    EXPECT_TRUE(exists(abs(n))) << "soft delete keeps the file";
    auto again = svc().get_by_slug(n.slug);
    ASSERT_TRUE(again);
    EXPECT_TRUE(again->is_deleted());
    EXPECT_EQ(svc().list(Visibility::all, 10, 0)->total, 0);
    EXPECT_EQ(svc().list(Visibility::published, 10, 0)->total, 0);
    EXPECT_EQ(svc().list(Visibility::trash, 10, 0)->total, 1);
    // Deleting twice changes nothing.
    h->clock.advance(1h);
    auto twice = svc().soft_delete(n.id);
    ASSERT_TRUE(twice);
    EXPECT_EQ(*twice->deleted_at, test_epoch() + 1h);

    auto r = svc().restore(n.id);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->is_deleted());
    EXPECT_FALSE(svc().get_by_id(n.id)->is_deleted());
    EXPECT_EQ(svc().list(Visibility::published, 10, 0)->total, 1);
    EXPECT_TRUE(svc().restore(n.id));  // restoring a live note is a no-op

    // Purge only from the trash.
    auto refused = svc().purge(n.id);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::conflict);
    EXPECT_TRUE(svc().get_by_id(n.id));
    EXPECT_TRUE(exists(abs(n)));

    ASSERT_TRUE(svc().soft_delete(n.id));
    ASSERT_TRUE(svc().purge(n.id));
    auto gone = svc().get_by_id(n.id);
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().code, ErrorCode::not_found);
    EXPECT_FALSE(exists(abs(n)));
    if (storage::fts5_available()) {
        EXPECT_EQ(h->sql_text("SELECT COUNT(*) FROM notes_fts"), "0");
    }
    expect_clean();

    for (auto op : {&NotesService::soft_delete, &NotesService::restore}) {
        auto r2 = (svc().*op)(n.id);
        ASSERT_FALSE(r2);
        EXPECT_EQ(r2.error().code, ErrorCode::not_found);
    }
    auto purge_missing = svc().purge(n.id);
    ASSERT_FALSE(purge_missing);
    EXPECT_EQ(purge_missing.error().code, ErrorCode::not_found);
}

TEST_P(NotesServiceTest, PurgeOfANoteWhoseFileIsAlreadyGoneSucceeds) {
    Note n = create("File vanished");
    ASSERT_TRUE(svc().soft_delete(n.id));
    ASSERT_EQ(::unlink(abs(n).c_str()), 0);
    EXPECT_TRUE(svc().purge(n.id));
    EXPECT_FALSE(svc().get_by_id(n.id));
}

// ---- traversal --------------------------------------------------------------------------------

class NotesTraversal : public NotesServiceTest {};
INSTANTIATE_TEST_SUITE_P(Fs, NotesTraversal, ::testing::Values(false));

TEST_P(NotesTraversal, StoredPathsOutsideNotesPathAreRefused) {
    const std::string outside = h->dir / "outside.txt";
    put(outside, "not a note");
    const std::string hash = sha256_hex("not a note");
    const std::vector<std::string> bad = {
        "../../etc/passwd", "../outside.txt", "/etc/passwd", outside, "notes/../../outside.txt",
        "2024/../../outside.txt", "2024/11/../../../outside.txt", "", "2024//x.md", "./2024/x.md", "2024/11/",
        h->notes_path + "/../outside.txt",
    };
    int i = 0;
    for (const auto& path : bad) {
        SCOPED_TRACE("file_path = \"" + path + "\"");
        const std::string slug = "evil-" + std::to_string(i++);
        ASSERT_EQ(h->sql("INSERT INTO notes (slug, file_path, published, created_at, updated_at, content_hash) "
                         "VALUES ('" + slug + "', '" + path + "', 1, '2024-11-18 00:00:00', '2024-11-18 00:00:00', '" +
                         hash + "')"),
                  "");
        auto n = svc().get_by_slug(slug);
        ASSERT_TRUE(n);
        auto p = svc().absolute_path(*n);
        ASSERT_FALSE(p) << *p;
        EXPECT_EQ(p.error().code, ErrorCode::invalid_input);
        EXPECT_EQ(p.error().message.find(h->dir.path()), std::string::npos) << "no internal path in the message";
        auto c = svc().read_content(*n);
        ASSERT_FALSE(c) << *c;
        // Purging must never remove a file outside NOTES_PATH.
        ASSERT_TRUE(svc().soft_delete(n->id));
        EXPECT_FALSE(svc().purge(n->id));
        EXPECT_EQ(*slurp(outside), "not a note");
    }
    auto report = svc().check();
    ASSERT_TRUE(report);
    EXPECT_EQ(report->problems.size(), bad.size()) << problems_text(*report);
    auto rec = svc().recover();
    ASSERT_TRUE(rec) << rec.error().message;
    EXPECT_EQ(*slurp(outside), "not a note");
}

TEST_P(NotesTraversal, StarPunk11PathFormsResolveInsideNotesPath) {
    put(h->notes_path + "/2024/11/a.md", "a");
    put(h->notes_path + "/2024/11/b.md", "b");
    put(h->notes_path + "/2024/11/c.md", "c");
    ASSERT_EQ(h->sql("INSERT INTO notes (slug, file_path, published, created_at, updated_at, content_hash) VALUES "
                     "('a', '2024/11/a.md', 1, '2024-11-18', '2024-11-18', '" + sha256_hex("a") + "'),"
                     "('b', 'notes/2024/11/b.md', 1, '2024-11-18', '2024-11-18', '" + sha256_hex("b") + "'),"
                     "('c', '" + h->notes_path + "/2024/11/c.md', 1, '2024-11-18', '2024-11-18', '" +
                     sha256_hex("c") + "')"),
              "");
    for (const char* slug : {"a", "b", "c"}) {
        auto n = svc().get_by_slug(slug);
        ASSERT_TRUE(n);
        EXPECT_EQ(*svc().absolute_path(*n), h->notes_path + "/2024/11/" + slug + ".md");
        EXPECT_EQ(*svc().read_content(*n), slug);
    }
    expect_clean();
}

// SPEC §2.1: "Every file path is checked to stay inside DATA_PATH (no traversal
// through slugs or symlinks)."
TEST_P(NotesTraversal, ReadContentDoesNotFollowASymlinkOutOfNotesPath) {
    const std::string outside = h->dir / "secret.txt";
    put(outside, "secret outside the notes directory");
    std::filesystem::create_directories(h->notes_path + "/2024/11");
    ASSERT_EQ(::symlink(outside.c_str(), (h->notes_path + "/2024/11/link.md").c_str()), 0);
    ASSERT_EQ(h->sql("INSERT INTO notes (slug, file_path, published, created_at, updated_at, content_hash) VALUES "
                     "('link', '2024/11/link.md', 1, '2024-11-18', '2024-11-18', '" +
                     sha256_hex("secret outside the notes directory") + "')"),
              "");
    auto n = svc().get_by_slug("link");
    ASSERT_TRUE(n);
    auto c = svc().read_content(*n);
    EXPECT_FALSE(c) << "read through a symlink to " << outside << ": \"" << *c << "\"";
}

TEST_P(NotesTraversal, RefusedUpdateLeavesTheRowUnchanged) {
    const std::string outside = h->dir / "outside.txt";
    put(outside, "not a note");
    ASSERT_EQ(h->sql("INSERT INTO notes (slug, file_path, published, created_at, updated_at, content_hash) VALUES "
                     "('evil', '../outside.txt', 1, '2024-11-18', '2024-11-18', '" + sha256_hex("not a note") + "')"),
              "");
    auto n = svc().get_by_slug("evil");
    ASSERT_TRUE(n);
    auto u = svc().update(n->id, NoteChange{"overwrite it", {}});
    ASSERT_FALSE(u);
    EXPECT_EQ(*slurp(outside), "not a note");
    auto after = svc().get_by_id(n->id);
    ASSERT_TRUE(after);
    EXPECT_FALSE(after->pending_hash) << "a refused update must not leave a pending hash behind";
}

// ---- recover and check ------------------------------------------------------------------------

TEST_P(NotesServiceTest, RecoverRemovesStaleTempFilesAndReportsButKeepsOrphans) {
    Note n = create("A real note");
    put(h->notes_path + "/2024/11/crashed.md.tmp", "half a no");
    put(h->notes_path + "/2023/01/other.md.tmp", "");
    put(h->notes_path + "/2024/10/orphan.md", "a file without a row");

    auto before = svc().check();
    ASSERT_TRUE(before);
    std::map<std::string, std::string> got;
    for (const auto& p : before->problems) got[p.file_path] = p.problem;
    EXPECT_EQ(got, (std::map<std::string, std::string>{{"2023/01/other.md.tmp", "stale temporary file"},
                                                        {"2024/11/crashed.md.tmp", "stale temporary file"},
                                                        {"2024/10/orphan.md", "orphan file (no database row)"}}));
    EXPECT_EQ(before->notes_checked, 1);

    auto rec = svc().recover();
    ASSERT_TRUE(rec) << rec.error().message;
    EXPECT_EQ(rec->stale_temp_files_removed, 2);
    EXPECT_EQ(rec->pending_updates_settled, 0);
    EXPECT_EQ(rec->orphan_files, std::vector<std::string>{"2024/10/orphan.md"});
    EXPECT_FALSE(exists(h->notes_path + "/2024/11/crashed.md.tmp"));
    EXPECT_FALSE(exists(h->notes_path + "/2023/01/other.md.tmp"));
    EXPECT_EQ(*slurp(h->notes_path + "/2024/10/orphan.md"), "a file without a row") << "orphans are never deleted";

    auto after = svc().check();
    ASSERT_EQ(after->problems.size(), 1u) << problems_text(*after);
    EXPECT_EQ(after->problems[0].problem, "orphan file (no database row)");
    EXPECT_EQ(*svc().read_content(n), "A real note");
    // A second recover finds the orphan again and nothing else.
    auto rec2 = svc().recover();
    ASSERT_TRUE(rec2);
    EXPECT_EQ(rec2->stale_temp_files_removed, 0);
    EXPECT_EQ(rec2->orphan_files.size(), 1u);
}

// A crash after step 1 of the update protocol (pending_hash committed) and
// after step 2 (file renamed), before step 3.
TEST_P(NotesServiceTest, InterruptedUpdateWhoseFileWasReplacedIsSettledToTheNewContent) {
    Note n = create("Before the crash");
    const std::string next = "After the crash, rename done";
    ASSERT_EQ(h->sql("UPDATE notes SET pending_hash = '" + sha256_hex(next) + "' WHERE id = " + std::to_string(n.id)), "");
    put(abs(n), next);

    // Consistent already (the file matches the announced hash): not a problem
    // for `check`, and readers get the new content.
    auto report = svc().check();
    ASSERT_TRUE(report->ok()) << problems_text(*report);
    EXPECT_EQ(*svc().read_content(*svc().get_by_id(n.id)), next);

    auto rec = svc().recover();
    ASSERT_TRUE(rec) << rec.error().message;
    EXPECT_EQ(rec->pending_updates_settled, 1);
    auto got = svc().get_by_id(n.id);
    ASSERT_TRUE(got);
    EXPECT_FALSE(got->pending_hash);
    EXPECT_EQ(got->content_hash, sha256_hex(next));
    EXPECT_EQ(*svc().read_content(*got), next);
    if (storage::fts5_available()) {
        EXPECT_EQ(h->sql_text("SELECT content FROM notes_fts WHERE rowid = " + std::to_string(n.id)), next);
    }
    expect_clean();
}

TEST_P(NotesServiceTest, InterruptedUpdateWhoseFileWasNotReplacedKeepsTheOldContent) {
    Note n = create("Before the crash");
    const std::string next = "Never written";
    ASSERT_EQ(h->sql("UPDATE notes SET pending_hash = '" + sha256_hex(next) + "' WHERE id = " + std::to_string(n.id)), "");
    put(abs(n) + ".tmp", "Never wri");  // the crash hit while the temp file was being written

    auto rec = svc().recover();
    ASSERT_TRUE(rec) << rec.error().message;
    EXPECT_EQ(rec->pending_updates_settled, 1);
    EXPECT_EQ(rec->stale_temp_files_removed, 1);
    auto got = svc().get_by_id(n.id);
    EXPECT_FALSE(got->pending_hash);
    EXPECT_EQ(got->content_hash, n.content_hash);
    EXPECT_EQ(*svc().read_content(*got), "Before the crash");
    if (storage::fts5_available()) {
        EXPECT_EQ(h->sql_text("SELECT content FROM notes_fts WHERE rowid = " + std::to_string(n.id)),
                  "Before the crash");
    }
    expect_clean();
}

TEST_P(NotesServiceTest, UpdateSettlesAnEarlierInterruptedUpdateFirst) {
    Note n = create("Version one");
    ASSERT_EQ(h->sql("UPDATE notes SET pending_hash = '" + sha256_hex("Version two") + "' WHERE id = " +
                     std::to_string(n.id)),
              "");
    put(abs(n), "Version two");
    auto u = svc().update(n.id, NoteChange{"Version three", {}});
    ASSERT_TRUE(u) << u.error().message;
    EXPECT_EQ(*svc().read_content(*svc().get_by_id(n.id)), "Version three");
    expect_clean();
}

// Between step 2 (file renamed) and step 3 (row confirmed) of an update the
// file holds the announced content (pending_hash). A reader in that window
// (a permalink request during an edit) must get that complete content, not
// an integrity error.
TEST_P(NotesServiceTest, ReadContentDuringAnUpdateServesTheAnnouncedContent) {
    Note n = create("Old words");
    ASSERT_EQ(h->sql("UPDATE notes SET pending_hash = '" + sha256_hex("New words") + "' WHERE id = " +
                     std::to_string(n.id)),
              "");
    put(abs(n), "New words");
    auto fresh = svc().get_by_id(n.id);
    ASSERT_TRUE(fresh);
    auto c = svc().read_content(*fresh);
    EXPECT_TRUE(c) << c.error().message;
    // A Note fetched before the update started (no pending hash in hand) too.
    auto stale = svc().read_content(n);
    EXPECT_TRUE(stale) << stale.error().message;
}

// One unsettleable note (its file was edited by hand, so it matches neither
// hash) must not stop start-up from settling the others.
TEST_P(NotesServiceTest, RecoverSettlesOtherNotesWhenOneMatchesNeitherHash) {
    Note bad = create("Bad one");
    Note good = create("Good one");
    ASSERT_EQ(h->sql("UPDATE notes SET pending_hash = '" + sha256_hex("x") + "'"), "");
    put(abs(bad), "edited by hand");
    put(abs(good), "x");
    auto rec = svc().recover();
    auto g = svc().get_by_id(good.id);
    ASSERT_TRUE(g);
    EXPECT_FALSE(g->pending_hash) << "recover() gave up at the first unsettleable note"
                                  << (rec ? std::string() : ": " + rec.error().message);
    EXPECT_EQ(g->content_hash, sha256_hex("x"));
}

// ---- fault injection: create ------------------------------------------------------------------

struct Step {
    FsOp op;
    const char* word;
};

std::string step_name(const ::testing::TestParamInfo<std::tuple<Step, int>>& param_info) {
    return std::string(starpunk::testing::fs_op_name(std::get<0>(param_info.param).op)) +
           (std::get<1>(param_info.param) == EIO ? "_EIO" : "_ENOSPC");
}

class CreateFault : public ::testing::TestWithParam<std::tuple<Step, int>> {};

TEST_P(CreateFault, FailsWithTheErrorAndLeavesNoRow) {
    const auto [step, err] = GetParam();
    NotesHarness h({.fault_fs = true});
    ASSERT_EQ(h.start(), "");
    auto existing = h.svc().create(note("Existing note"));
    ASSERT_TRUE(existing);
    h.clock.advance(1s);

    h.fault.fail_nth(step.op, 1, err);
    auto r = h.svc().create(note("Brand new note"));
    ASSERT_FALSE(r) << "created " << r->slug << " although " << step.word << " failed";
    EXPECT_EQ(h.fault.faults_fired(), 1);
    EXPECT_EQ(r.error().code, err == ENOSPC ? ErrorCode::no_space : ErrorCode::io);
    EXPECT_EQ(r.error().message.rfind(std::string(step.word) + " ", 0), 0u) << r.error().message;
    EXPECT_NE(r.error().message.find(std::strerror(err)), std::string::npos) << r.error().message;
    h.fault.clear_faults();

    // No row.
    EXPECT_EQ(h.svc().list(Visibility::all, 10, 0)->total, 1);
    EXPECT_FALSE(h.svc().get_by_slug("brand-new-note"));
    if (storage::fts5_available()) {
        EXPECT_EQ(h.sql_text("SELECT COUNT(*) FROM notes_fts"), "1");
    }
    // Not even an orphan file: when the failure came after the rename (the
    // directory's fsync), the create takes its file back.
    auto report = h.svc().check();
    ASSERT_TRUE(report);
    EXPECT_TRUE(report->ok()) << problems_text(*report);
    EXPECT_FALSE(exists(h.notes_path + "/2024/11/brand-new-note.md"));
    // Nothing lost.
    EXPECT_EQ(*h.svc().read_content(*existing), "Existing note");
    auto rec = h.svc().recover();
    ASSERT_TRUE(rec) << rec.error().message;
    EXPECT_EQ(rec->stale_temp_files_removed, 0);
    EXPECT_EQ(rec->orphan_files.size(), 0u);

    // Power loss now: the earlier note survives, and no row lost its file.
    ASSERT_TRUE(h.fault.drop_unsynced());
    auto after = h.svc().check();
    ASSERT_TRUE(after);
    EXPECT_TRUE(real_problems(*after).empty()) << problems_text(*after);
    EXPECT_EQ(*h.svc().read_content(*existing), "Existing note");

    // And the next create works.
    auto again = h.svc().create(note("Brand new note"));
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(*h.svc().read_content(*again), "Brand new note");
}

INSTANTIATE_TEST_SUITE_P(
    EveryStep, CreateFault,
    ::testing::Combine(::testing::Values(Step{FsOp::create_dirs, "create directory"}, Step{FsOp::create_file, "create"},
                                         Step{FsOp::append, "write"}, Step{FsOp::sync, "fsync"},
                                         Step{FsOp::close, "close"}, Step{FsOp::rename, "rename"},
                                         Step{FsOp::sync_dir, "fsync directory"}),
                       ::testing::Values(EIO, ENOSPC)),
    step_name);

TEST(NotesServiceFaults, FailedRowInsertRemovesTheFileAgain) {
    NotesHarness h({.fault_fs = true});
    ASSERT_EQ(h.start(), "");
    ASSERT_EQ(h.sql("CREATE TRIGGER fail_insert BEFORE INSERT ON notes BEGIN SELECT RAISE(ABORT, 'injected'); END"),
              "");
    auto r = h.svc().create(note("Never stored"));
    ASSERT_FALSE(r);
    EXPECT_FALSE(exists(h.notes_path + "/2024/11/never-stored.md")) << "compensation must remove the file";
    EXPECT_TRUE(temp_files(h.notes_path).empty());
    auto report = h.svc().check();
    EXPECT_TRUE(report->ok()) << problems_text(*report);
}

// ---- fault injection: update ------------------------------------------------------------------

class UpdateFault : public ::testing::TestWithParam<std::tuple<Step, int>> {};

TEST_P(UpdateFault, FailsWithTheErrorAndRowStillMatchesItsFile) {
    const auto [step, err] = GetParam();
    NotesHarness h({.fault_fs = true});
    ASSERT_EQ(h.start(), "");
    auto n = h.svc().create(note("Version one"));
    ASSERT_TRUE(n);
    h.clock.advance(1min);

    h.fault.fail_nth(step.op, 1, err);
    auto u = h.svc().update(n->id, NoteChange{"Version two", {}});
    ASSERT_FALSE(u) << "update succeeded although " << step.word << " failed";
    EXPECT_EQ(h.fault.faults_fired(), 1);
    EXPECT_EQ(u.error().code, err == ENOSPC ? ErrorCode::no_space : ErrorCode::io);
    EXPECT_EQ(u.error().message.rfind(std::string(step.word) + " ", 0), 0u) << u.error().message;
    EXPECT_NE(u.error().message.find(std::strerror(err)), std::string::npos) << u.error().message;
    h.fault.clear_faults();

    // The rename is the commit point of the file: before it the old content
    // stands; after it (only the directory fsync failed) the new content does.
    const bool renamed = step.op == FsOp::sync_dir;
    const std::string expected = renamed ? "Version two" : "Version one";
    auto check_row = [&](const char* when, bool settled) {
        SCOPED_TRACE(when);
        auto row = h.svc().get_by_id(n->id);
        ASSERT_TRUE(row);
        EXPECT_EQ(row->slug, n->slug);
        EXPECT_EQ(row->file_path, n->file_path);
        if (settled) {
            EXPECT_FALSE(row->pending_hash);
            EXPECT_EQ(row->content_hash, sha256_hex(expected));
        } else {
            // The rename happened but is not known to be durable: the row keeps
            // announcing the new hash until settle() can fsync the directory.
            ASSERT_TRUE(row->pending_hash);
            EXPECT_EQ(*row->pending_hash, sha256_hex(expected));
            EXPECT_EQ(row->content_hash, n->content_hash);
        }
        auto content = h.svc().read_content(*row);
        ASSERT_TRUE(content) << content.error().message;
        EXPECT_EQ(*content, expected);
        auto report = h.svc().check();
        ASSERT_TRUE(report);
        EXPECT_TRUE(report->ok()) << problems_text(*report);
        EXPECT_TRUE(temp_files(h.notes_path).empty());
    };
    check_row("right after the failed update", !renamed);
    auto rec = h.svc().recover();
    ASSERT_TRUE(rec) << rec.error().message;
    EXPECT_TRUE(rec->unsettled.empty());
    check_row("after recover()", true);

    // Power loss after recover(): whatever recover() recorded must already be
    // durable (in the renamed case it accepted the new hash, so it must have
    // made the rename durable first). For a power loss before recover() see
    // UpdateFaults.DirectorySyncFailureThenPowerLossKeepsRowAndFileInStep.
    ASSERT_TRUE(h.fault.drop_unsynced());
    check_row("after recover() and then a power loss", true);
    ASSERT_TRUE(h.svc().recover());
    check_row("after the power loss and the next start-up's recover()", true);

    // The next update works.
    auto again = h.svc().update(n->id, NoteChange{"Version three", {}});
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(*h.svc().read_content(*again), "Version three");
}

INSTANTIATE_TEST_SUITE_P(
    EveryStep, UpdateFault,
    ::testing::Combine(::testing::Values(Step{FsOp::create_file, "create"}, Step{FsOp::append, "write"},
                                         Step{FsOp::sync, "fsync"}, Step{FsOp::close, "close"},
                                         Step{FsOp::rename, "rename"}, Step{FsOp::sync_dir, "fsync directory"}),
                       ::testing::Values(EIO, ENOSPC)),
    step_name);

// The directory fsync after the rename fails; the update reports the failure,
// and settle() records the NEW hash as content_hash (the file under the final
// name is new). The rename was never made durable, so a power loss brings the
// old file back — while the database (durable on its own) says "new". After
// restart + recover() the row must still match its file (SPEC §2.3, I2).
TEST(UpdateFaults, DirectorySyncFailureThenPowerLossKeepsRowAndFileInStep) {
    NotesHarness h({.fault_fs = true});
    ASSERT_EQ(h.start(), "");
    auto n = h.svc().create(note("Version one"));
    ASSERT_TRUE(n);
    h.fault.fail_nth(FsOp::sync_dir, 1, EIO);
    ASSERT_FALSE(h.svc().update(n->id, NoteChange{"Version two", {}}));
    h.fault.clear_faults();

    ASSERT_TRUE(h.fault.drop_unsynced());  // power loss
    auto rec = h.svc().recover();          // restart
    ASSERT_TRUE(rec) << rec.error().message;
    auto report = h.svc().check();
    ASSERT_TRUE(report);
    EXPECT_TRUE(report->ok()) << problems_text(*report);
    auto row = h.svc().get_by_id(n->id);
    ASSERT_TRUE(row);
    auto content = h.svc().read_content(*row);
    EXPECT_TRUE(content) << content.error().message;
}

// The same failure, but start-up's recover() runs first and the power goes
// afterwards. recover() settles the row to the new hash; it may do so only
// after making the rename durable (settle()'s directory fsync), or the power
// loss brings the old file back under the new hash (I2).
TEST(UpdateFaults, DirectorySyncFailureThenRecoverThenPowerLossKeepsRowAndFileInStep) {
    NotesHarness h({.fault_fs = true});
    ASSERT_EQ(h.start(), "");
    auto n = h.svc().create(note("Version one"));
    ASSERT_TRUE(n);
    h.fault.fail_nth(FsOp::sync_dir, 1, EIO);
    ASSERT_FALSE(h.svc().update(n->id, NoteChange{"Version two", {}}));
    h.fault.clear_faults();
    ASSERT_GT(h.fault.unsynced_dir_changes(), 0u) << "precondition: the rename is not durable yet";

    auto rec = h.svc().recover();  // restart, before any power loss
    ASSERT_TRUE(rec) << rec.error().message;
    EXPECT_EQ(rec->pending_updates_settled, 1);
    EXPECT_TRUE(rec->unsettled.empty());
    ASSERT_TRUE(h.fault.drop_unsynced());  // then the power goes

    auto report = h.svc().check();
    ASSERT_TRUE(report);
    EXPECT_TRUE(report->ok()) << problems_text(*report);
    auto row = h.svc().get_by_id(n->id);
    ASSERT_TRUE(row);
    EXPECT_FALSE(row->pending_hash);
    EXPECT_EQ(row->content_hash, sha256_hex("Version two"));
    auto content = h.svc().read_content(*row);
    ASSERT_TRUE(content) << content.error().message;
    EXPECT_EQ(*content, "Version two");
}

// settle() also runs before the next update. An update that changes only the
// published flag writes no file, so settle()'s own directory fsync is the only
// thing that makes the earlier rename durable before the row says so.
TEST(UpdateFaults, DirectorySyncFailureThenAFlagOnlyUpdateThenPowerLossKeepsRowAndFileInStep) {
    NotesHarness h({.fault_fs = true});
    ASSERT_EQ(h.start(), "");
    auto n = h.svc().create(note("Version one"));
    ASSERT_TRUE(n);
    h.fault.fail_nth(FsOp::sync_dir, 1, EIO);
    ASSERT_FALSE(h.svc().update(n->id, NoteChange{"Version two", {}}));
    h.fault.clear_faults();

    auto u = h.svc().update(n->id, NoteChange{{}, false});  // settles the earlier update first
    ASSERT_TRUE(u) << u.error().message;
    EXPECT_EQ(u->content_hash, sha256_hex("Version two"));
    ASSERT_TRUE(h.fault.drop_unsynced());

    auto report = h.svc().check();
    ASSERT_TRUE(report);
    EXPECT_TRUE(report->ok()) << problems_text(*report);
    auto content = h.svc().read_content(*h.svc().get_by_id(n->id));
    ASSERT_TRUE(content) << content.error().message;
    EXPECT_EQ(*content, "Version two");
}

// recover() cannot make the rename durable (its own directory fsync fails):
// it must leave the update pending rather than record the new hash, so a
// power loss that brings the old file back still finds the row consistent,
// and the next start-up settles it to whatever the file then holds.
TEST(UpdateFaults, RecoverWhoseDirectorySyncFailsLeavesTheUpdatePendingAcrossAPowerLoss) {
    NotesHarness h({.fault_fs = true});
    ASSERT_EQ(h.start(), "");
    auto n = h.svc().create(note("Version one"));
    ASSERT_TRUE(n);
    h.fault.fail_nth(FsOp::sync_dir, 1, EIO);
    ASSERT_FALSE(h.svc().update(n->id, NoteChange{"Version two", {}}));
    h.fault.clear_faults();

    h.fault.fail_nth(FsOp::sync_dir, 1, EIO);
    auto rec = h.svc().recover();
    h.fault.clear_faults();
    ASSERT_TRUE(rec) << rec.error().message;
    EXPECT_EQ(rec->pending_updates_settled, 0);
    ASSERT_EQ(rec->unsettled.size(), 1u);
    EXPECT_NE(rec->unsettled[0].find("fsync directory"), std::string::npos) << rec->unsettled[0];
    auto pending = h.svc().get_by_id(n->id);
    ASSERT_TRUE(pending);
    ASSERT_TRUE(pending->pending_hash) << "recorded a hash whose rename is not durable";
    EXPECT_EQ(pending->content_hash, sha256_hex("Version one"));

    ASSERT_TRUE(h.fault.drop_unsynced());  // the old file comes back
    auto report = h.svc().check();
    ASSERT_TRUE(report);
    EXPECT_TRUE(report->ok()) << problems_text(*report);
    auto again = h.svc().recover();
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->pending_updates_settled, 1);
    auto row = h.svc().get_by_id(n->id);
    ASSERT_TRUE(row);
    EXPECT_FALSE(row->pending_hash);
    EXPECT_EQ(row->content_hash, sha256_hex("Version one"));
    EXPECT_EQ(*h.svc().read_content(*row), "Version one");
    EXPECT_TRUE(h.svc().check()->ok());
}

// Step 3 (confirm) fails after the file was replaced: the request fails, the
// row keeps its pending hash, and recover() settles it to the new file.
TEST(UpdateFaults, FailedConfirmStepIsSettledByRecover) {
    NotesHarness h({.fault_fs = true});
    ASSERT_EQ(h.start(), "");
    auto n = h.svc().create(note("Version one"));
    ASSERT_TRUE(n);
    ASSERT_EQ(h.sql("CREATE TRIGGER fail_confirm BEFORE UPDATE OF content_hash ON notes "
                    "WHEN OLD.pending_hash IS NOT NULL AND NEW.pending_hash IS NULL "
                    "BEGIN SELECT RAISE(ABORT, 'injected'); END"),
              "");
    auto u = h.svc().update(n->id, NoteChange{"Version two", {}});
    ASSERT_FALSE(u);
    ASSERT_EQ(h.sql("DROP TRIGGER fail_confirm"), "");
    auto report = h.svc().check();
    ASSERT_TRUE(report);
    for (const auto& p : report->problems)
        EXPECT_EQ(p.problem, "interrupted update (settled at next start-up)") << problems_text(*report);

    auto rec = h.svc().recover();
    ASSERT_TRUE(rec) << rec.error().message;
    EXPECT_EQ(rec->pending_updates_settled, 1);
    auto row = h.svc().get_by_id(n->id);
    EXPECT_FALSE(row->pending_hash);
    EXPECT_EQ(*h.svc().read_content(*row), "Version two");
    EXPECT_TRUE(h.svc().check()->ok());
    ASSERT_TRUE(h.fault.drop_unsynced());
    EXPECT_EQ(*h.svc().read_content(*h.svc().get_by_id(n->id)), "Version two");
}

// The same crash point (file renamed, confirm not committed) for an update
// that changes more than the content: recover() finishes the whole change —
// the new content never stands with the old published flag, tags, summary or
// date (found by tests/crash/crash_steps.py: the note was left in neither its
// old nor its new state).
TEST(UpdateFaults, InterruptedUpdateWhoseFileWasReplacedFinishesTheWholeChange) {
    using namespace std::chrono;
    NotesHarness h({.fault_fs = true});
    ASSERT_EQ(h.start(), "");
    NewNote first = note("Version one");
    first.tags = {"alpha"};
    auto n = h.svc().create(first);
    ASSERT_TRUE(n);
    ASSERT_EQ(h.sql("CREATE TRIGGER fail_confirm BEFORE UPDATE OF content_hash ON notes "
                    "WHEN OLD.pending_hash IS NOT NULL AND NEW.pending_hash IS NULL "
                    "BEGIN SELECT RAISE(ABORT, 'injected'); END"),
              "");
    h.clock.advance(1h);
    const Timestamp edited_at = h.clock.now();
    const Timestamp new_date = sys_days{year{2024} / November / 2} + 8h;
    NoteChange change;
    change.content = "Version two";
    change.published = false;  // unpublished together with the new text
    change.tags = std::vector<std::string>{"Beta", "gamma"};
    change.summary = std::optional<std::string>("A summary");
    change.created_at = new_date;
    change.photos = std::vector<NewPhoto>{{std::nullopt, "https://photos.example/a.jpg", "A photo"}};
    ASSERT_FALSE(h.svc().update(n->id, change));
    ASSERT_EQ(h.sql("DROP TRIGGER fail_confirm"), "");
    h.clock.advance(1h);  // start-up comes later

    auto rec = h.svc().recover();
    ASSERT_TRUE(rec) << rec.error().message;
    EXPECT_EQ(rec->pending_updates_settled, 1);
    auto row = h.svc().get_by_id(n->id);
    ASSERT_TRUE(row);
    EXPECT_FALSE(row->pending_hash);
    EXPECT_EQ(*h.svc().read_content(*row), "Version two");
    EXPECT_FALSE(row->published) << "the new content went public although the update unpublished it";
    EXPECT_EQ(row->summary, std::optional<std::string>("A summary"));
    EXPECT_EQ(row->created_at, new_date);
    EXPECT_EQ(row->updated_at, edited_at) << "updated_at is the update's, not the start-up's";
    auto tags = h.svc().tags_of(n->id);
    ASSERT_TRUE(tags);
    std::vector<std::string> names;
    for (const auto& t : *tags) names.push_back(t.display);
    EXPECT_EQ(names, (std::vector<std::string>{"Beta", "gamma"}));
    auto photos = h.svc().photos_of(n->id);
    ASSERT_TRUE(photos);
    ASSERT_EQ(photos->size(), 1u);
    EXPECT_EQ((*photos)[0].url, "https://photos.example/a.jpg");
    EXPECT_EQ((*photos)[0].alt, "A photo");
    EXPECT_EQ(h.sql_text("SELECT count(*) FROM notes WHERE pending_change IS NOT NULL"), "0");
    EXPECT_TRUE(h.svc().check()->ok());
}

// A recorded change that cannot be read (a damaged row) is not guessed at:
// the note stays pending and start-up names it.
TEST(UpdateFaults, UnreadablePendingChangeIsReportedNotGuessed) {
    NotesHarness h;
    ASSERT_EQ(h.start(), "");
    auto n = h.svc().create(note("Version one"));
    ASSERT_TRUE(n);
    const std::string next = "Version two";
    ASSERT_EQ(h.sql("UPDATE notes SET pending_hash = '" + sha256_hex(next) + "', pending_change = '{\"tags\": 3' "
                    "WHERE id = " + std::to_string(n->id)),
              "");
    auto path = h.svc().absolute_path(*n);
    ASSERT_TRUE(path);
    ASSERT_TRUE(storage::write_file_atomically(storage::posix_fs(), *path, next));
    auto rec = h.svc().recover();
    ASSERT_TRUE(rec) << rec.error().message;
    EXPECT_EQ(rec->pending_updates_settled, 0);
    ASSERT_EQ(rec->unsettled.size(), 1u);
    EXPECT_NE(rec->unsettled[0].find("pending_change"), std::string::npos) << rec->unsettled[0];
    EXPECT_TRUE(h.svc().get_by_id(n->id)->pending_hash);
}

// A crash before the rename (here: the rename fails and the old file cannot
// be read back, so the announcement stays): recover() keeps the old content
// and drops the rest of the change with it.
TEST(UpdateFaults, InterruptedUpdateWhoseFileWasNotReplacedDropsTheWholeChange) {
    NotesHarness h({.fault_fs = true});
    ASSERT_EQ(h.start(), "");
    NewNote first = note("Version one");
    first.tags = {"alpha"};
    auto n = h.svc().create(first);
    ASSERT_TRUE(n);
    h.fault.fail_always(FsOp::rename);
    h.fault.fail_always(FsOp::read_file);
    NoteChange change;
    change.content = "Version two";
    change.published = false;
    change.tags = std::vector<std::string>{"beta"};
    ASSERT_FALSE(h.svc().update(n->id, change));
    h.fault.clear_faults();
    ASSERT_EQ(h.sql_text("SELECT count(*) FROM notes WHERE pending_hash IS NOT NULL"), "1");

    auto rec = h.svc().recover();
    ASSERT_TRUE(rec) << rec.error().message;
    EXPECT_EQ(rec->pending_updates_settled, 1);
    auto row = h.svc().get_by_id(n->id);
    ASSERT_TRUE(row);
    EXPECT_FALSE(row->pending_hash);
    EXPECT_EQ(*h.svc().read_content(*row), "Version one");
    EXPECT_TRUE(row->published);
    EXPECT_EQ(row->updated_at, n->updated_at);
    auto tags = h.svc().tags_of(n->id);
    ASSERT_TRUE(tags);
    ASSERT_EQ(tags->size(), 1u);
    EXPECT_EQ((*tags)[0].name, "alpha");
    EXPECT_EQ(h.sql_text("SELECT count(*) FROM notes WHERE pending_change IS NOT NULL"), "0");
    // A later update that keeps the content does not bring the dropped change back.
    auto u = h.svc().update(n->id, NoteChange{{}, {}});
    ASSERT_TRUE(u) << u.error().message;
    EXPECT_TRUE(h.svc().get_by_id(n->id)->published);
    EXPECT_TRUE(h.svc().check()->ok());
}

// Everything a successful call did is durable before it returns: a power
// loss right after a series of operations leaves every row matching its file.
TEST(NotesServiceFaults, SuccessfulOperationsSurvivePowerLoss) {
    NotesHarness h({.fault_fs = true});
    ASSERT_EQ(h.start(), "");
    std::vector<Note> made;
    for (int i = 0; i < 6; ++i) {
        auto n = h.svc().create(note("Durable note " + std::to_string(i)));
        ASSERT_TRUE(n);
        made.push_back(*n);
        h.clock.advance(40 * 24h);  // new month directories too
    }
    ASSERT_TRUE(h.svc().update(made[0].id, NoteChange{"Durable note 0, edited", {}}));
    ASSERT_TRUE(h.svc().update(made[1].id, NoteChange{{}, false}));
    ASSERT_TRUE(h.svc().soft_delete(made[2].id));
    ASSERT_TRUE(h.svc().soft_delete(made[3].id));
    ASSERT_TRUE(h.svc().purge(made[3].id));
    EXPECT_EQ(h.fault.unsynced_dir_changes(), 0u);

    ASSERT_TRUE(h.fault.drop_unsynced());
    ASSERT_TRUE(h.svc().recover());
    auto report = h.svc().check();
    EXPECT_TRUE(report->ok()) << problems_text(*report);
    EXPECT_EQ(*h.svc().read_content(*h.svc().get_by_id(made[0].id)), "Durable note 0, edited");
    EXPECT_FALSE(exists(h.notes_path + "/" + made[3].file_path)) << "a purged file stays purged";
}

TEST(NotesServiceFaults, ReadFailureIsAnIoErrorNotACrash) {
    NotesHarness h({.fault_fs = true});
    ASSERT_EQ(h.start(), "");
    auto n = h.svc().create(note("Readable"));
    ASSERT_TRUE(n);
    h.fault.fail_always(FsOp::read_file, EIO);
    auto c = h.svc().read_content(*n);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, ErrorCode::io);
    auto report = h.svc().check();
    ASSERT_TRUE(report);
    ASSERT_EQ(report->problems.size(), 1u);
    EXPECT_NE(report->problems[0].problem.find("Input/output error"), std::string::npos);
    h.fault.clear_faults();
    EXPECT_TRUE(h.svc().check()->ok());
}

// ---- fault injection: purge -------------------------------------------------------------------

// Purge deletes the row, then the file, then fsyncs the directory. Whichever
// file step fails, the row is gone (never a row without a file), and neither
// start-up nor a power loss afterwards — which may bring the removed file back
// as an orphan, the one leftover the protocol allows — changes that.
class PurgeFault : public ::testing::TestWithParam<std::tuple<Step, int>> {};

TEST_P(PurgeFault, FailsWithTheErrorAndNeverLeavesARowWithoutItsFile) {
    const auto [step, err] = GetParam();
    NotesHarness h({.fault_fs = true});
    ASSERT_EQ(h.start(), "");
    auto keep = h.svc().create(note("Keep me"));
    ASSERT_TRUE(keep);
    h.clock.advance(1s);
    auto n = h.svc().create(note("Purge me"));
    ASSERT_TRUE(n);
    ASSERT_TRUE(h.svc().soft_delete(n->id));

    h.fault.fail_nth(step.op, 1, err);
    auto st = h.svc().purge(n->id);
    ASSERT_FALSE(st) << "purge succeeded although " << step.word << " failed";
    EXPECT_EQ(h.fault.faults_fired(), 1);
    EXPECT_EQ(st.error().message.rfind(std::string(step.word) + " ", 0), 0u) << st.error().message;
    EXPECT_NE(st.error().message.find(std::strerror(err)), std::string::npos) << st.error().message;
    h.fault.clear_faults();

    auto expect_consistent = [&](const char* when) {
        SCOPED_TRACE(when);
        EXPECT_FALSE(h.svc().get_by_id(n->id)) << "the row goes first";
        auto report = h.svc().check();
        ASSERT_TRUE(report);
        EXPECT_TRUE(real_problems(*report).empty()) << problems_text(*report);
        for (const auto& p : report->problems) EXPECT_EQ(p.file_path, n->file_path) << problems_text(*report);
        EXPECT_EQ(*h.svc().read_content(*h.svc().get_by_id(keep->id)), "Keep me");
    };
    expect_consistent("right after the failed purge");
    auto rec = h.svc().recover();
    ASSERT_TRUE(rec) << rec.error().message;
    expect_consistent("after recover()");
    ASSERT_TRUE(h.fault.drop_unsynced());
    expect_consistent("after recover() and then a power loss");
    auto again = h.svc().recover();
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_LE(again->orphan_files.size(), 1u);
    expect_consistent("after the next start-up's recover()");
}

INSTANTIATE_TEST_SUITE_P(EveryFileStep, PurgeFault,
                         ::testing::Combine(::testing::Values(Step{FsOp::remove, "remove"},
                                                              Step{FsOp::sync_dir, "fsync directory"}),
                                            ::testing::Values(EIO, ENOSPC)),
                         step_name);

TEST(NotesServiceFaults, FailedPurgeFileRemovalKeepsNoRowWithoutFile) {
    NotesHarness h({.fault_fs = true});
    ASSERT_EQ(h.start(), "");
    auto n = h.svc().create(note("Purge me"));
    ASSERT_TRUE(n);
    ASSERT_TRUE(h.svc().soft_delete(n->id));
    h.fault.fail_nth(FsOp::remove, 1, EIO);
    EXPECT_FALSE(h.svc().purge(n->id));
    h.fault.clear_faults();
    // Row first, then file: at worst an orphan file, never a row without a file.
    auto report = h.svc().check();
    EXPECT_TRUE(real_problems(*report).empty()) << problems_text(*report);
}

// ---- concurrency (the header promises every method may be called concurrently) ---------------

// A one-shot event with a timeout (so that an implementation which
// serialises writers only costs the test a wait, never a hang).
class Event {
public:
    void set() {
        std::lock_guard lock(mu_);
        set_ = true;
        cv_.notify_all();
    }
    bool wait(std::chrono::milliseconds timeout) {
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, timeout, [&] { return set_; });
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    bool set_ = false;
};

// The real file system with hooks that let a test order two writers' steps:
// on_sync runs before a file's fsync, on_renamed after a successful rename of
// a file written through this object; both get the file's content.
class ScriptedFs final : public storage::FileSystem {
public:
    std::function<void(const std::string& content)> on_sync = [](const std::string&) {};
    std::function<void(const std::string& content)> on_renamed = [](const std::string&) {};

    Result<std::unique_ptr<storage::WritableFile>> create_file(const std::string& path) override {
        auto f = storage::posix_fs().create_file(path);
        if (!f) return f;
        return std::unique_ptr<storage::WritableFile>(std::make_unique<File>(*this, path, std::move(*f)));
    }
    Result<std::string> read_file(const std::string& p) override { return storage::posix_fs().read_file(p); }
    Result<bool> is_symlink(const std::string& p) override { return storage::posix_fs().is_symlink(p); }
    Status rename(const std::string& a, const std::string& b) override {
        return renamed(a, storage::posix_fs().rename(a, b));
    }
    Status rename_no_replace(const std::string& a, const std::string& b) override {
        return renamed(a, storage::posix_fs().rename_no_replace(a, b));
    }
    Status sync_dir(const std::string& d) override { return storage::posix_fs().sync_dir(d); }
    Status remove(const std::string& p) override { return storage::posix_fs().remove(p); }
    Status create_dirs(const std::string& p) override { return storage::posix_fs().create_dirs(p); }
    Result<bool> exists(const std::string& p) override { return storage::posix_fs().exists(p); }
    Result<std::vector<std::string>> list_files(const std::string& d) override {
        return storage::posix_fs().list_files(d);
    }

private:
    struct File final : storage::WritableFile {
        File(ScriptedFs& fs, std::string path, std::unique_ptr<storage::WritableFile> base)
            : fs_(fs), path_(std::move(path)), base_(std::move(base)) {}
        Status append(std::string_view d) override {
            {
                std::lock_guard lock(fs_.mu_);
                fs_.content_[path_].append(d);
            }
            return base_->append(d);
        }
        Status sync() override {
            fs_.on_sync(fs_.content_of(path_));
            return base_->sync();
        }
        Status close() override { return base_->close(); }
        ScriptedFs& fs_;
        std::string path_;
        std::unique_ptr<storage::WritableFile> base_;
    };
    std::string content_of(const std::string& path) {
        std::lock_guard lock(mu_);
        auto it = content_.find(path);
        return it == content_.end() ? std::string() : it->second;
    }
    Status renamed(const std::string& from, Status st) {
        if (st) on_renamed(content_of(from));
        return st;
    }
    std::mutex mu_;
    std::map<std::string, std::string> content_;  // by temp path
};

struct TwoWriters {
    NotesHarness h{NotesHarness::Options{.pool_size = 4}};
    ScriptedFs fs;
    std::unique_ptr<NotesService> svc;
    std::string start() {
        if (auto e = h.start(); !e.empty()) return e;
        svc = std::make_unique<NotesService>(h.pool, fs, h.clock, NotesService::Options{h.notes_path});
        return {};
    }
};

// Both writers choose the slug "same" before either has written: both must
// still end up with their own note and file.
TEST(NotesServiceConcurrency, TwoCreatesWithTheSameCustomSlugBothSucceedWithTheirOwnFiles) {
    TwoWriters w;
    ASSERT_EQ(w.start(), "");
    Event a_in_sync, b_in_sync;
    w.fs.on_sync = [&](const std::string& c) {
        if (c.starts_with("A:")) {
            a_in_sync.set();
            b_in_sync.wait(std::chrono::milliseconds(1000));
        } else if (c.starts_with("B:")) {
            b_in_sync.set();
        }
    };
    const std::string contents[2] = {"A: first writer's note, the longer of the two", "B: second writer"};
    Result<Note> results[2] = {make_error(ErrorCode::internal, "not run"), make_error(ErrorCode::internal, "not run")};
    std::thread a([&] { results[0] = w.svc->create(note(contents[0], "same")); });
    a_in_sync.wait(std::chrono::milliseconds(2000));
    std::thread b([&] { results[1] = w.svc->create(note(contents[1], "same")); });
    a.join();
    b.join();
    for (int i = 0; i < 2; ++i) {
        SCOPED_TRACE("writer " + std::to_string(i));
        ASSERT_TRUE(results[i]) << results[i].error().message;
        auto c = w.svc->read_content(*w.svc->get_by_id(results[i]->id));
        EXPECT_TRUE(c && *c == contents[i]) << (c ? "holds \"" + *c + "\"" : c.error().message);
    }
    EXPECT_NE(results[0]->slug, results[1]->slug);
    auto report = w.svc->check();
    EXPECT_TRUE(real_problems(*report).empty()) << problems_text(*report);
}

// Update A announces its hash and is about to fsync its temp file; update B
// then runs start to finish; A resumes. Both report success, so the note
// must hold one of the two versions with the matching hash.
TEST(NotesServiceConcurrency, TwoUpdatesOfOneNoteBothSucceedAndLeaveHashAndFileInStep) {
    TwoWriters w;
    ASSERT_EQ(w.start(), "");
    auto n = w.svc->create(note("Shared note"));
    ASSERT_TRUE(n);
    Event a_in_sync, b_renamed;
    w.fs.on_sync = [&](const std::string& c) {
        if (c.starts_with("A:")) {
            a_in_sync.set();
            b_renamed.wait(std::chrono::milliseconds(1000));
        }
    };
    w.fs.on_renamed = [&](const std::string& c) {
        if (c.starts_with("B:")) b_renamed.set();
    };
    Status results[2];
    std::thread a([&] {
        auto r = w.svc->update(n->id, NoteChange{"A: edit by the first writer, which is longer", {}});
        if (!r) results[0] = std::move(r).error();
    });
    a_in_sync.wait(std::chrono::milliseconds(2000));
    std::thread b([&] {
        auto r = w.svc->update(n->id, NoteChange{"B: edit by the second", {}});
        if (!r) results[1] = std::move(r).error();
    });
    a.join();
    b.join();
    for (int i = 0; i < 2; ++i) EXPECT_TRUE(results[i]) << "writer " << i << ": " << results[i].error().message;
    auto row = w.svc->get_by_id(n->id);
    ASSERT_TRUE(row);
    EXPECT_FALSE(row->pending_hash);
    auto c = w.svc->read_content(*row);
    EXPECT_TRUE(c) << c.error().message;
    auto report = w.svc->check();
    EXPECT_TRUE(report->ok()) << problems_text(*report);
}

// Another process takes the file name between our slug check and our rename:
// the create must not overwrite that file, and must pick another slug.
TEST(NotesServiceConcurrency, CreateThatLosesTheFileNameToAnotherProcessPicksAnotherSlug) {
    TwoWriters w;
    ASSERT_EQ(w.start(), "");
    const std::string theirs = w.h.notes_path + "/2024/11/contested.md";
    bool planted = false;
    w.fs.on_sync = [&](const std::string& c) {
        if (!planted && c == "Mine") {
            planted = true;
            put(theirs, "another process's file");
        }
    };
    auto r = w.svc->create(note("Mine", "contested"));
    ASSERT_TRUE(planted);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->slug, "contested-2");
    EXPECT_EQ(*slurp(theirs), "another process's file");
    EXPECT_EQ(*w.svc->read_content(*r), "Mine");
    EXPECT_TRUE(temp_files(w.h.notes_path).empty());
    auto report = w.svc->check();
    ASSERT_EQ(report->problems.size(), 1u) << problems_text(*report);
    EXPECT_EQ(report->problems[0].file_path, "2024/11/contested.md");
    EXPECT_EQ(report->problems[0].problem, "orphan file (no database row)");
}

// Another process inserts a row with our slug after our file is in place:
// our insert fails on UNIQUE, our file is removed again (compensation), and
// the create retries with another slug. The other note is untouched.
TEST(NotesServiceConcurrency, CreateThatLosesTheSlugRowToAnotherProcessRetriesAndLeavesNoOrphan) {
    TwoWriters w;
    ASSERT_EQ(w.start(), "");
    put(w.h.notes_path + "/2024/11/theirs.md", "their note");
    bool inserted = false;
    w.fs.on_renamed = [&](const std::string& c) {
        if (!inserted && c == "Mine") {
            inserted = true;
            EXPECT_EQ(w.h.sql("INSERT INTO notes (slug, file_path, published, created_at, updated_at, content_hash) "
                              "VALUES ('contested', '2024/11/theirs.md', 1, '2024-11-18 00:00:00.000000', "
                              "'2024-11-18 00:00:00.000000', '" + sha256_hex("their note") + "')"),
                      "");
        }
    };
    auto r = w.svc->create(note("Mine", "contested"));
    ASSERT_TRUE(inserted);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->slug, "contested-2");
    EXPECT_EQ(*w.svc->read_content(*r), "Mine");
    EXPECT_FALSE(exists(w.h.notes_path + "/2024/11/contested.md")) << "our first file must be removed again";
    auto theirs = w.svc->get_by_slug("contested");
    ASSERT_TRUE(theirs);
    EXPECT_EQ(*w.svc->read_content(*theirs), "their note");
    auto report = w.svc->check();
    EXPECT_TRUE(report->ok()) << problems_text(*report);
}

TEST(NotesServiceConcurrency, ReadersAndWritersOnDifferentNotes) {
    NotesHarness h({.pool_size = 4});
    ASSERT_EQ(h.start(), "");
    std::atomic<bool> stop{false};
    std::atomic<int> writer_errors{0}, list_errors{0}, reads{0}, transient_read_errors{0};
    std::thread reader([&] {
        while (!stop) {
            auto page = h.svc().list(Visibility::all, 20, 0);
            if (!page) {
                ++list_errors;
                continue;
            }
            for (const auto& n : page->notes) {
                ++reads;
                if (!h.svc().read_content(n)) ++transient_read_errors;
            }
        }
    });
    std::vector<std::thread> writers;
    for (int t = 0; t < 2; ++t) {
        writers.emplace_back([&, t] {
            for (int i = 0; i < 10; ++i) {
                auto r = h.svc().create(note("writer " + std::to_string(t) + " item " + std::to_string(i)));
                if (!r) {
                    ++writer_errors;
                    continue;
                }
                if (!h.svc().update(r->id, NoteChange{"edited by writer " + std::to_string(t), {}})) ++writer_errors;
            }
        });
    }
    for (auto& w : writers) w.join();
    stop = true;
    reader.join();
    EXPECT_EQ(writer_errors.load(), 0);
    EXPECT_EQ(list_errors.load(), 0);
    // A reader holding a Note fetched before an update's rename sees the new
    // file against the old hash: read_content fails for that instant (the
    // caller would answer 500). Recorded, not asserted: no data is damaged.
    ::testing::Test::RecordProperty("reads", reads.load());
    ::testing::Test::RecordProperty("transient_read_errors", transient_read_errors.load());
    auto report = h.svc().check();
    EXPECT_TRUE(report->ok()) << problems_text(*report);
    EXPECT_EQ(h.svc().list(Visibility::all, 100, 0)->total, 20);
}

}  // namespace
}  // namespace starpunk::notes
