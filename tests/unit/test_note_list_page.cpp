// List pages (web/note_list_page.hpp) are filled into a frame the templates
// render once per list, page count and pagination shape: every page must be
// byte for byte the page the templates render for it directly, on both paths
// (the I/O thread's note_list_is_cached and the worker's note_list_page),
// whatever the configuration and tag name hold, and a write must show.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "support/site_harness.hpp"
#include "web/note_list_page.hpp"
#include "web/note_view.hpp"
#include "web/page_cache.hpp"
#include "web/site.hpp"

namespace starpunk {
namespace {

using web::NoteListSpec;

struct NoteListPageTest : ::testing::Test {
    testing::NotesHarness h;
    std::unique_ptr<testing::SiteServices> services;
    void SetUp() override {
        ASSERT_EQ(h.start(), "");
        services = std::make_unique<testing::SiteServices>(h);
    }

    void add_notes(int n, const std::vector<std::string>& tags) {
        for (int i = 0; i < n; ++i) {
            notes::NewNote note;
            note.content = "Note number " + std::to_string(i) + " with <b>markup</b> & \"quotes\".";
            note.created_at = Timestamp{std::chrono::seconds(1'700'000'000 + i * 60)};
            note.tags = tags;
            ASSERT_TRUE(h.svc().create(note));
        }
    }

    // Page `page` rendered by the templates in one go, as it was before frames.
    static std::string rendered_directly(const web::Site& site, int64_t page, const NoteListSpec& spec) {
        auto listing = site.notes.published_listing(spec.tag, web::kNotesPerPage, (page - 1) * web::kNotesPerPage, false);
        EXPECT_TRUE(listing && *listing);
        const auto& l = **listing;
        const int64_t pages = std::max<int64_t>(1, (l.total + web::kNotesPerPage - 1) / web::kNotesPerPage);
        auto entries = web::note_entries(site, l.ids, site.pages.generation());
        EXPECT_TRUE(entries);
        std::string joined;
        for (const auto& e : *entries) joined += (joined.empty() ? "" : "\n") + e;
        web::TemplateData data;
        kainjow::mustache::list notes;
        web::TemplateData item;
        item.set("entry", joined);
        notes.push_back(item);
        data.set("has_notes", true);
        data.set("notes", web::TemplateData(notes));
        data.set("feed_title", spec.feed_title);
        data.set("feed_url", site.url(spec.path));
        if (!spec.tag.empty()) data.set("tag_page", true);
        auto url = [&](int64_t n) { return site.url(n == 1 ? spec.path : spec.path + "?page=" + std::to_string(n)); };
        if (pages > 1) {
            data.set("paginated", true);
            data.set("page", std::to_string(page));
            data.set("pages", std::to_string(pages));
            if (page > 1) data.set("prev_url", url(page - 1));
            if (page < pages) data.set("next_url", url(page + 1));
        }
        web::PageInfo info;
        info.title = spec.page_title;
        if (page > 1) info.title = (info.title.empty() ? "" : info.title + ", ") + "Page " + std::to_string(page);
        auto body = web::render_page(site, info, "home", std::move(data));
        EXPECT_TRUE(body);
        return body ? *body : std::string();
    }

    // Page `page` as served: from the worker's path, then from the I/O thread's.
    static std::pair<std::string, std::string> served(const web::Site& site, int64_t page, const NoteListSpec& spec) {
        http::Request worker_req;
        auto res = web::note_list_page(site, worker_req, page, spec);
        EXPECT_EQ(res.status, 200);
        http::Request io_req;
        std::string from_memory;
        if (web::note_list_is_cached(site, io_req, page, spec)) {
            from_memory = *std::static_pointer_cast<const web::CachedPage>(io_req.prepared)->body;
        }
        return {std::string(res.body_view()), from_memory};
    }

    // Page `page`'s ETag as served by the worker's path and the I/O thread's.
    static std::pair<std::string, std::string> etags(const web::Site& site, int64_t page, const NoteListSpec& spec) {
        http::Request worker_req;
        auto res = web::note_list_page(site, worker_req, page, spec);
        http::Request io_req;
        std::string io;
        if (web::note_list_is_cached(site, io_req, page, spec)) {
            io = std::static_pointer_cast<const web::CachedPage>(io_req.prepared)->etag();
        }
        return {std::string(res.header("ETag").value_or("")), io};
    }

    void expect_every_page_as_rendered(const web::Site& site, const NoteListSpec& spec, int64_t pages) {
        for (int round = 0; round < 2; ++round) {  // the second round uses the kept frames
            for (int64_t page = 1; page <= pages; ++page) {
                const std::string expected = rendered_directly(site, page, spec);
                auto [worker, io] = served(site, page, spec);
                EXPECT_EQ(worker, expected) << spec.cache_key << " page " << page << " round " << round;
                EXPECT_EQ(io, expected) << spec.cache_key << " page " << page << " round " << round << " (I/O thread)";
            }
        }
    }
};

NoteListSpec home_spec(const web::Site& site) {
    NoteListSpec spec;
    spec.cache_key = "home";
    spec.path = "/";
    spec.feed_title = site.config.site_name;
    return spec;
}

NoteListSpec tag_spec(std::string name, std::string display) {
    NoteListSpec spec;
    spec.cache_key = "tag:" + name;
    spec.path = "/tag/" + name;
    spec.feed_title = "Notes tagged " + display;
    spec.page_title = spec.feed_title;
    spec.tag = std::move(name);
    return spec;
}

TEST_F(NoteListPageTest, EveryPageOfEveryShapeIsTheTemplatesPage) {
    // 85 notes: pages 1 (next only), 2 (previous is page 1), 3 (both),
    // 4 (both), 5 (previous only, 5 notes).
    add_notes(85, {"Odd & <Tag> \"x\""});
    config::Config c = testing::SiteServices::default_config();
    c.site_name = "Tom's <b>\"notes\"</b> & more — ☃";
    c.site_description = "Things & <stuff>";
    auto site = services->site(c);
    site->public_layout = web::make_layout_frame(*site);
    expect_every_page_as_rendered(*site, home_spec(*site), 5);
    auto tag = notes::make_tag("Odd & <Tag> \"x\"");
    ASSERT_TRUE(tag);
    expect_every_page_as_rendered(*site, tag_spec(tag->name, tag->display), 5);
}

TEST_F(NoteListPageTest, OneAndTwoPageListsAndTheDefaultConfiguration) {
    add_notes(20, {});
    auto site = services->site();
    expect_every_page_as_rendered(*site, home_spec(*site), 1);
    add_notes(1, {});  // 21 notes: two pages, and the kept one-page frame must not be used
    expect_every_page_as_rendered(*site, home_spec(*site), 2);
}

TEST_F(NoteListPageTest, AWriteShowsOnTheNextPageBuilt) {
    add_notes(45, {});
    auto site = services->site();
    const auto spec = home_spec(*site);
    auto before = served(*site, 3, spec).first;
    EXPECT_NE(before.find("Page 3 of 3"), std::string::npos);
    add_notes(20, {});  // 65 notes: four pages
    auto after = served(*site, 3, spec);
    EXPECT_EQ(after.first, rendered_directly(*site, 3, spec));
    EXPECT_NE(after.first.find("Page 3 of 4"), std::string::npos);
    EXPECT_NE(after.first.find("?page=4"), std::string::npos) << "page 3 now has a next page";
}

// A list page's ETag is made from its parts (frame, number, entries) instead
// of its hashed bytes: the same whichever path built it and after a restart
// (a new cache over the same notes), and different once any byte differs —
// here two characters of one note's text.
TEST_F(NoteListPageTest, AListPagesETagIsTheSameForTheSameBytesAndChangesWithThem) {
    add_notes(45, {"walks"});
    auto site = services->site();
    const auto spec = home_spec(*site);
    auto tag = notes::make_tag("walks");
    ASSERT_TRUE(tag);
    const auto tagged = tag_spec(tag->name, tag->display);
    std::map<std::string, std::string> before;
    for (const auto& list : {spec, tagged}) {
        for (int64_t page : {1, 2, 3}) {
            const auto [worker, io] = etags(*site, page, list);
            ASSERT_FALSE(worker.empty());
            EXPECT_EQ(worker, io) << list.cache_key << " page " << page;
            EXPECT_EQ(etags(*site, page, list).second, io) << "kept entries give the same ETag";
            before[list.cache_key + std::to_string(page)] = worker;
        }
    }
    EXPECT_NE(before["home2"], before["home3"]);
    EXPECT_NE(before["home2"], before[tagged.cache_key + "2"]);

    testing::SiteServices after_restart(h);  // its own renderer and page cache
    auto restarted = after_restart.site();
    EXPECT_EQ(etags(*restarted, 2, spec).first, before["home2"]) << "validators survive a restart";

    // Note 22 of 45 (newest first: page 2) gets one character changed.
    auto listing = site->notes.published_listing("", web::kNotesPerPage, web::kNotesPerPage, false);
    ASSERT_TRUE(listing && *listing);
    const int64_t id = (**listing).ids[1];
    const std::string body_before = served(*site, 2, spec).first;
    notes::NoteChange change;
    change.content = "Note number XY with <b>markup</b> & \"quotes\".";  // was "23"
    ASSERT_TRUE(h.svc().update(id, change));
    const auto [worker, io] = etags(*site, 2, spec);
    const std::string body_after = served(*site, 2, spec).first;
    ASSERT_NE(body_after, body_before);
    EXPECT_NE(worker, before["home2"]);
    EXPECT_EQ(worker, io);
    EXPECT_EQ(etags(*site, 3, spec).first, before["home3"]) << "page 3 has the same bytes";
}

}  // namespace
}  // namespace starpunk
