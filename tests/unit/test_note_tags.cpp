// Categories as tags: normalisation (notes/note_tags.hpp) and the NotesService
// reads and writes of the tags tables (migration 006).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "notes/note_tags.hpp"
#include "support/notes_harness.hpp"

namespace starpunk::notes {
namespace {

using testing::NotesHarness;

TEST(MakeTag, NormalisesCaseSpaceAndSlashes) {
    EXPECT_EQ(make_tag("IndieWeb"), (Tag{"indieweb", "IndieWeb"}));
    EXPECT_EQ(make_tag("  open \t source\n"), (Tag{"open-source", "open source"}));
    EXPECT_EQ(make_tag("a/b"), (Tag{"a-b", "a/b"}));
    EXPECT_EQ(make_tag("STRASSE")->name, make_tag("strasse")->name);
    EXPECT_EQ(make_tag("Straße")->name, "strasse");  // Unicode case folding, not just ASCII
    EXPECT_EQ(make_tag("ÉTÉ")->name, "été");
}

TEST(MakeTag, NothingVisibleIsNoTag) {
    for (const char* s : {"", "   ", "\t\n", "\x01\x02", "/", " / "}) {
        EXPECT_FALSE(make_tag(s).has_value()) << s;
    }
}

TEST(MakeTag, LongNamesAreCutAtACharacterAndInvalidUtf8IsReplaced) {
    auto t = make_tag(std::string(100, 'x') + "\xc3\xa9");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->display, std::string(kTagMaxChars, 'x'));
    auto bad = make_tag("caf\xff");
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->display, "caf\xef\xbf\xbd");
}

TEST(MakeTags, FirstSpellingWinsOrderKeptCapped) {
    auto tags = make_tags({"IndieWeb", "cats", "indieweb", " ", "INDIEWEB", "Dogs"});
    ASSERT_EQ(tags.size(), 3u);
    EXPECT_EQ(tags[0], (Tag{"indieweb", "IndieWeb"}));
    EXPECT_EQ(tags[1].name, "cats");
    EXPECT_EQ(tags[2].display, "Dogs");
    std::vector<std::string> many;
    for (int i = 0; i < 80; ++i) many.push_back("t" + std::to_string(i));
    EXPECT_EQ(make_tags(many).size(), kMaxTagsPerNote);
}

struct NoteTags : ::testing::Test {
    void SetUp() override { ASSERT_EQ(h.start(), ""); }
    Note create(const std::string& content, std::vector<std::string> tags, bool published = true) {
        NewNote n;
        n.content = content;
        n.tags = std::move(tags);
        n.published = published;
        auto r = h.svc().create(n);
        EXPECT_TRUE(r) << r.error().message;
        h.clock.advance(std::chrono::seconds(1));
        return r ? *r : Note{};
    }
    std::vector<std::string> names(int64_t id) {
        std::vector<std::string> out;
        auto tags = h.svc().tags_of(id);
        EXPECT_TRUE(tags);
        if (tags) {
            for (const auto& t : *tags) out.push_back(t.display);
        }
        return out;
    }
    std::vector<std::string> slugs(const NotePage& page) {
        std::vector<std::string> out;
        for (const auto& n : page.notes) out.push_back(n.slug);
        return out;
    }
    NotesHarness h;
};

TEST_F(NoteTags, CreateStoresTagsInOrder) {
    auto n = create("Tagged note.", {"Zebra", "apple", "zebra"});
    EXPECT_EQ(names(n.id), (std::vector<std::string>{"Zebra", "apple"}));
    auto none = create("No tags.", {});
    EXPECT_TRUE(names(none.id).empty());
}

TEST_F(NoteTags, TheFirstSpellingEverWrittenIsTheDisplayName) {
    create("One.", {"IndieWeb"});
    auto two = create("Two.", {"INDIEWEB"});
    EXPECT_EQ(names(two.id), (std::vector<std::string>{"IndieWeb"}));
    auto t = h.svc().find_tag("indieweb");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->display, "IndieWeb");
    auto missing = h.svc().find_tag("nope");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ErrorCode::not_found);
}

TEST_F(NoteTags, UpdateReplacesTheSetOrLeavesItAlone) {
    auto n = create("Note.", {"a", "b"});
    ASSERT_TRUE(h.svc().update(n.id, {std::string("New words."), std::nullopt, std::nullopt, std::nullopt}));
    EXPECT_EQ(names(n.id), (std::vector<std::string>{"a", "b"}));  // content only: tags kept
    ASSERT_TRUE(h.svc().update(n.id, {std::nullopt, std::nullopt, std::vector<std::string>{"c", "a"}, std::nullopt}));
    EXPECT_EQ(names(n.id), (std::vector<std::string>{"c", "a"}));
    ASSERT_TRUE(h.svc().update(n.id, {std::string("Both."), std::nullopt, std::vector<std::string>{}, std::nullopt}));
    EXPECT_TRUE(names(n.id).empty());
    auto content = h.svc().read_content(*h.svc().get_by_id(n.id));
    EXPECT_EQ(*content, "Both.");
}

TEST_F(NoteTags, UpdateCanMoveCreatedAtButNotTheFile) {
    auto n = create("Dated.", {});
    const Timestamp earlier = n.created_at - std::chrono::hours(24 * 400);
    auto u = h.svc().update(n.id, {std::nullopt, std::nullopt, std::nullopt, earlier});
    ASSERT_TRUE(u) << u.error().message;
    auto back = h.svc().get_by_id(n.id);
    EXPECT_EQ(back->created_at, earlier);
    EXPECT_EQ(back->file_path, n.file_path);
    EXPECT_TRUE(h.svc().read_content(*back));
}

TEST_F(NoteTags, BatchReadListsByTagAndCounts) {
    auto a = create("A.", {"cats", "dogs"});
    auto b = create("B.", {"Cats"});
    auto draft = create("Draft.", {"cats", "secret"}, false);
    auto gone = create("Gone.", {"cats"});
    ASSERT_TRUE(h.svc().soft_delete(gone.id));

    auto all = h.svc().tags_of(std::vector<Note>{a, b, draft});
    ASSERT_TRUE(all);
    EXPECT_EQ(all->at(a.id).size(), 2u);
    EXPECT_EQ(all->at(b.id).front().name, "cats");
    EXPECT_EQ(all->count(gone.id), 0u);  // not asked for

    auto pub = h.svc().list_tagged("cats", Visibility::published, 10, 0);
    ASSERT_TRUE(pub);
    EXPECT_EQ(slugs(*pub), (std::vector<std::string>{b.slug, a.slug}));
    EXPECT_EQ(pub->total, 2);
    auto admin = h.svc().list_tagged("cats", Visibility::all, 1, 1);
    ASSERT_TRUE(admin);
    EXPECT_EQ(admin->total, 3);
    EXPECT_EQ(slugs(*admin), (std::vector<std::string>{b.slug}));

    auto in_use = h.svc().tags_in_use(Visibility::published);
    ASSERT_TRUE(in_use);
    ASSERT_EQ(in_use->size(), 2u);  // "secret" is only on a draft
    EXPECT_EQ((*in_use)[0].tag.name, "cats");
    EXPECT_EQ((*in_use)[0].notes, 2);
    EXPECT_EQ((*in_use)[1].tag.name, "dogs");
}

TEST_F(NoteTags, PurgeDropsTheLinks) {
    auto n = create("Bye.", {"x"});
    ASSERT_TRUE(h.svc().soft_delete(n.id));
    ASSERT_TRUE(h.svc().purge(n.id));
    EXPECT_EQ(h.sql_text("SELECT COUNT(*) FROM note_tags"), "0");
    EXPECT_TRUE(names(n.id).empty());
}

}  // namespace
}  // namespace starpunk::notes
