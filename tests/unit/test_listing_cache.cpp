// Published listings sliced from the order kept in memory
// (notes/listing_cache.hpp): every page equals what the database says at that
// moment — after writes of this process, of another one, with ties in time.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "notes/listing_cache.hpp"
#include "support/notes_harness.hpp"

namespace starpunk {
namespace {

using notes::Visibility;

struct ListingTest : ::testing::Test {
    testing::NotesHarness h;
    void SetUp() override { ASSERT_EQ(h.start(), ""); }
    notes::Note create(const std::string& content, bool published = true, std::vector<std::string> tags = {}) {
        notes::NewNote n;
        n.content = content;
        n.published = published;
        n.tags = std::move(tags);
        auto r = h.svc().create(n);
        EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
        h.clock.advance(std::chrono::seconds(1));
        return r.ok() ? r.value() : notes::Note{};
    }
    std::vector<std::string> slugs(const notes::NotePage& page) {
        std::vector<std::string> out;
        for (const auto& n : page.notes) out.push_back(n.slug);
        return out;
    }
    // The same page straight from SQL, as the listing must be.
    std::vector<std::string> expected(int64_t limit, int64_t offset, const std::string& tag = "") {
        std::string sql = tag.empty()
                              ? "SELECT group_concat(slug, ' ') FROM (SELECT slug FROM notes WHERE deleted_at IS NULL AND "
                                "published = 1 ORDER BY created_at DESC, id DESC LIMIT " +
                                    std::to_string(limit) + " OFFSET " + std::to_string(offset) + ")"
                              : "SELECT group_concat(slug, ' ') FROM (SELECT n.slug FROM notes n JOIN note_tags nt ON "
                                "nt.note_id = n.id JOIN tags t ON t.id = nt.tag_id WHERE t.name = '" +
                                    tag + "' AND n.deleted_at IS NULL AND n.published = 1 ORDER BY n.created_at DESC, "
                                          "n.id DESC LIMIT " +
                                    std::to_string(limit) + " OFFSET " + std::to_string(offset) + ")";
        std::string joined = h.sql_text(sql);
        std::vector<std::string> out;
        for (std::size_t pos = 0; pos < joined.size();) {
            std::size_t space = joined.find(' ', pos);
            if (space == std::string::npos) space = joined.size();
            out.push_back(joined.substr(pos, space - pos));
            pos = space + 1;
        }
        return out;
    }
    void expect_pages_match_sql(const std::string& tag = "") {
        for (int64_t offset = 0; offset < 30; offset += 4) {
            auto page = tag.empty() ? h.svc().list(Visibility::published, 4, offset)
                                    : h.svc().list_tagged(tag, Visibility::published, 4, offset);
            ASSERT_TRUE(page.ok());
            EXPECT_EQ(slugs(*page), expected(4, offset, tag)) << "offset " << offset << " tag " << tag;
            // The ids the list pages are assembled from, and their notes: the same page.
            auto ids = h.svc().published_listing(tag, 4, offset, /*memory_only=*/false);
            ASSERT_TRUE(ids.ok() && ids->has_value());
            EXPECT_EQ((*ids)->total, page->total);
            auto notes = h.svc().notes_by_ids((*ids)->ids);
            ASSERT_TRUE(notes.ok());
            EXPECT_EQ(slugs(notes::NotePage{*notes, 0}), expected(4, offset, tag)) << "ids, offset " << offset;
        }
    }
};

TEST_F(ListingTest, PagesEqualTheDatabaseAfterEveryKindOfWrite) {
    std::vector<notes::Note> made;
    for (int i = 0; i < 12; ++i) made.push_back(create("note number " + std::to_string(i), i % 5 != 0, {i % 2 ? "odd" : "even"}));
    expect_pages_match_sql();
    expect_pages_match_sql("odd");
    auto page = h.svc().list(Visibility::published, 4, 0);
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->total, 9);  // 12 minus 3 drafts

    ASSERT_TRUE(h.svc().soft_delete(made[3].id).ok());
    expect_pages_match_sql();
    expect_pages_match_sql("odd");
    notes::NoteChange publish;
    publish.published = true;
    ASSERT_TRUE(h.svc().update(made[0].id, publish).ok());  // an old draft published: lands far back
    expect_pages_match_sql();
    notes::NoteChange retag;
    retag.tags = std::vector<std::string>{"odd"};
    ASSERT_TRUE(h.svc().update(made[2].id, retag).ok());
    expect_pages_match_sql("odd");
    expect_pages_match_sql("even");
    ASSERT_TRUE(h.svc().restore(made[3].id).ok());
    create("the newest");
    expect_pages_match_sql();
    EXPECT_EQ(h.svc().list(Visibility::published, 4, 0)->total, 11);  // 9 - 1 deleted + 1 published + 1 restored + 1 new
}

TEST_F(ListingTest, MemoryOnlyNeverLoadsAndForgetsOnEveryWrite) {
    for (int i = 0; i < 5; ++i) create("note " + std::to_string(i), true, {"walk"});
    // Nothing kept yet: memory_only answers "not kept" instead of reading.
    for (std::string tag : {"", "walk"}) {
        auto none = h.svc().published_listing(tag, 2, 0, /*memory_only=*/true);
        ASSERT_TRUE(none.ok());
        EXPECT_FALSE(none->has_value()) << tag;
        ASSERT_TRUE(h.svc().published_listing(tag, 2, 0, /*memory_only=*/false).ok());
        auto kept = h.svc().published_listing(tag, 2, 2, /*memory_only=*/true);
        ASSERT_TRUE(kept.ok() && kept->has_value()) << tag;
        EXPECT_EQ((*kept)->total, 5);
        EXPECT_EQ((*kept)->ids.size(), 2u);
    }
    create("a sixth");  // any write: what was kept is gone
    auto after = h.svc().published_listing("", 2, 0, /*memory_only=*/true);
    ASSERT_TRUE(after.ok());
    EXPECT_FALSE(after->has_value());
    auto past_end = h.svc().published_listing("", 20, 40, /*memory_only=*/false);
    ASSERT_TRUE(past_end.ok() && past_end->has_value());
    EXPECT_TRUE((*past_end)->ids.empty());
    EXPECT_EQ((*past_end)->total, 6);
}

TEST_F(ListingTest, AnotherProcessesWriteIsSeen) {
    for (int i = 0; i < 5; ++i) create("note " + std::to_string(i));
    expect_pages_match_sql();
    // Another process (here: another connection) unpublishes a note.
    ASSERT_EQ(h.sql("UPDATE notes SET published = 0 WHERE slug = (SELECT slug FROM notes ORDER BY id LIMIT 1)"), "");
    expect_pages_match_sql();
    EXPECT_EQ(h.svc().list(Visibility::published, 10, 0)->total, 4);
}

TEST_F(ListingTest, NotesCreatedInTheSameSecondKeepTheDatabasesOrder) {
    for (int i = 0; i < 6; ++i) {
        notes::NewNote n;
        n.content = "same instant " + std::to_string(i);
        ASSERT_TRUE(h.svc().create(n).ok());  // the clock does not move
    }
    expect_pages_match_sql();
}

TEST_F(ListingTest, APageBeyondTheEndIsEmptyWithTheTotal) {
    for (int i = 0; i < 3; ++i) create("note " + std::to_string(i));
    auto page = h.svc().list(Visibility::published, 20, 40);
    ASSERT_TRUE(page.ok());
    EXPECT_TRUE(page->notes.empty());
    EXPECT_EQ(page->total, 3);
    auto none = h.svc().list_tagged("nothing", Visibility::published, 20, 0);
    ASSERT_TRUE(none.ok());
    EXPECT_EQ(none->total, 0);
}

TEST(ListingCache, KeepsAtMostItsLimitAndDropsEverythingOnAChange) {
    notes::NoteChanges changes;
    notes::ListingCache cache(changes);
    int loads = 0;
    auto loader = [&] { ++loads; return Result<std::vector<int64_t>>(std::vector<int64_t>{1, 2, 3}); };
    for (std::size_t i = 0; i < notes::ListingCache::kMaxListings + 5; ++i) ASSERT_TRUE(cache.get("k" + std::to_string(i), loader).ok());
    const int first = loads;
    ASSERT_TRUE(cache.get("k" + std::to_string(notes::ListingCache::kMaxListings + 4), loader).ok());
    EXPECT_EQ(loads, first);  // the most recent is kept
    ASSERT_TRUE(cache.get("k0", loader).ok());
    EXPECT_EQ(loads, first + 1);  // the oldest was dropped
    changes.publish();
    ASSERT_TRUE(cache.get("k0", loader).ok());
    EXPECT_EQ(loads, first + 2);
}

}  // namespace
}  // namespace starpunk
