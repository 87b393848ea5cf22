// The public-page layout rendered once (web::LayoutFrame): every page
// assembled from it is byte for byte the page the layout template renders,
// whatever the configuration, and pages it does not fit are rendered in full.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

#include "support/site_harness.hpp"
#include "web/note_entry.hpp"
#include "web/site.hpp"

namespace starpunk {
namespace {

struct LayoutFrameTest : ::testing::Test {
    testing::NotesHarness h;
    std::unique_ptr<testing::SiteServices> services;
    void SetUp() override {
        ASSERT_EQ(h.start(), "");
        services = std::make_unique<testing::SiteServices>(h);
    }
    // The same page rendered with the frame and without it.
    void expect_same_page(const config::Config& c, const web::PageInfo& page) {
        auto framed = services->site(c);
        framed->public_layout = web::make_layout_frame(*framed);
        ASSERT_NE(framed->public_layout, nullptr);
        auto plain = services->site(c);
        web::TemplateData data;
        data.set("message", std::string("Body with <markup> & \"quotes\""));
        data.set("status", std::string("404"));
        auto a = web::render_page(*framed, page, "error", data);
        auto b = web::render_page(*plain, page, "error", data);
        ASSERT_TRUE(a.ok() && b.ok());
        EXPECT_EQ(*a, *b) << "title: " << page.title;
    }
};

std::vector<config::Config> configs() {
    std::vector<config::Config> out;
    config::Config base = testing::SiteServices::default_config();
    out.push_back(base);
    config::Config odd = base;
    odd.site_name = "Tom's <b>\"notes\"</b> & more — ☃";
    odd.site_author = "A & B";
    odd.site_author_photo = "https://blog.example/me.jpg?a=1&b=2";
    odd.admin_me = "https://blog.example/";
    out.push_back(odd);
    config::Config with_server = base;
    with_server.indieauth_server = true;
    out.push_back(with_server);
    config::Config with_token = base;
    with_token.token_endpoint = "https://tokens.example/token?x=<y>";
    out.push_back(with_token);
    return out;
}

TEST_F(LayoutFrameTest, AssembledPagesEqualRenderedPagesForEveryConfiguration) {
    for (const auto& c : configs()) {
        for (std::string title : {"", "Note 5", "A <script>alert(1)</script> & 'quotes' \"too\"", "{{page_title}}"}) {
            web::PageInfo page;
            page.title = title;
            expect_same_page(c, page);
        }
    }
}

TEST_F(LayoutFrameTest, PagesTheFrameDoesNotFitAreRenderedInFull) {
    web::PageInfo admin;
    admin.title = "Admin";
    admin.admin = true;
    admin.csrf_token = "token-123";
    web::PageInfo search;
    search.search_query = "caramel \"quoted\"";
    web::PageInfo scripted;
    scripted.scripts = {"/static/admin.js"};
    scripted.htmx = true;
    for (const auto& page : {admin, search, scripted}) expect_same_page(testing::SiteServices::default_config(), page);

    auto framed = services->site();
    framed->public_layout = web::make_layout_frame(*framed);
    auto html = web::render_page(*framed, admin, "error", {});
    ASSERT_TRUE(html.ok());
    EXPECT_NE(html->find("token-123"), std::string::npos);  // the admin's log-out form is there
}

// A permalink kept by the page cache as its title and content alone is
// answered with the same bytes and validators as the whole page, is charged
// only for its own parts, and a page the frame does not fit is kept whole.
TEST_F(LayoutFrameTest, CachedPagesKeepOnlyTheirOwnPartsAndAnswerTheSameBytes) {
    const std::string content = "<article class=\"h-entry\"><p>Caf\u00e9 &amp; <b>bold</b></p></article>\n";
    const std::time_t dated = std::time(nullptr) - 3600;
    for (const auto& c : configs()) {
        auto framed_site = services->site(c);
        framed_site->public_layout = web::make_layout_frame(*framed_site);
        ASSERT_NE(framed_site->public_layout, nullptr);
        auto plain_site = services->site(c);
        std::size_t frame_bytes = 0;
        for (const auto& l : framed_site->public_layout->literals) frame_bytes += l.size();
        for (std::string title : {"", "Note 5", "A <script>alert(1)</script> & 'quotes'"}) {
            web::PageInfo page;
            page.title = title;
            auto framed = web::cached_page_in_layout(*framed_site, page, content, dated);
            auto whole = web::cached_page_in_layout(*plain_site, page, content, dated);
            ASSERT_NE(framed, nullptr);
            ASSERT_NE(whole, nullptr);
            ASSERT_NE(whole->body, nullptr);
            EXPECT_EQ(framed->body, nullptr) << "kept as its parts";
            EXPECT_EQ(framed->bytes(), *whole->body);
            EXPECT_EQ(framed->etag(), whole->etag());
            EXPECT_EQ(framed->validator_lines, whole->validator_lines);
            EXPECT_LE(web::PageCache::entry_bytes("note:x", *framed) + frame_bytes,
                      web::PageCache::entry_bytes("note:x", *whole))
                << "the frame is not charged to each page";

            http::Request req;
            req.target = "/note/x";
            auto a = web::cached_page_response(*framed_site, req, framed);
            auto b = web::cached_page_response(*plain_site, req, whole);
            EXPECT_EQ(a.status, 200);
            EXPECT_EQ(a.body_view(), b.body_view());
            EXPECT_EQ(a.blocks, b.blocks);
            const std::string etag(framed->etag());
            req.headers.push_back({"If-None-Match", etag});
            auto revalidated = web::cached_page_response(*framed_site, req, framed);
            EXPECT_EQ(revalidated.status, 304);
            EXPECT_TRUE(revalidated.body_view().empty());
        }
    }
    web::PageInfo admin;
    admin.admin = true;
    admin.csrf_token = "token-123";
    auto site = services->site();
    site->public_layout = web::make_layout_frame(*site);
    auto kept = web::cached_page_in_layout(*site, admin, content, dated);
    ASSERT_NE(kept, nullptr);
    ASSERT_NE(kept->body, nullptr) << "a page the frame does not fit is kept whole";
    EXPECT_NE(kept->body->find("token-123"), std::string::npos);
}

// A kept permalink's content is compressed against the frame's dictionary (a
// sample permalink of the same site): the markup every permalink repeats costs
// a few bytes, and the page still answers exactly the whole page's bytes and
// validators — for prose, for content compression cannot shrink (kept as is),
// for empty and for large content, with and without a dictionary.
TEST_F(LayoutFrameTest, KeptPermalinksAreCompressedAndAnswerTheSameBytes) {
    auto site = services->site();
    auto plain_site = services->site();
    const std::string dictionary = web::sample_note_article(*site);
    EXPECT_EQ(dictionary, web::sample_note_article(*plain_site)) << "the same for every start of a site";
    ASSERT_NE(dictionary.find("h-entry"), std::string::npos);

    notes::Note note;
    note.id = 7;
    note.slug = "walking-to-the-harbour";
    note.published = true;
    note.created_at = Timestamp{} + std::chrono::seconds(1780000000);
    note.updated_at = note.created_at + std::chrono::hours(2);
    notes::RenderedNote rendered;
    rendered.name = "Walking to the harbour";
    rendered.title = *rendered.name;
    rendered.html =
        "<p>We left before dawn and walked the long way round, past the bakery on Quay Street where the first "
        "loaves were coming out, and down to the harbour wall. The tide was out; gulls argued over something on "
        "the mud. <a href=\"https://maps.example/harbour\">The route</a> is about four kilometres.</p>\n";
    const std::string prose = web::note_article_html(*site, note, {{"walks", "Walks"}, {"sea", "Sea"}}, {}, rendered);

    std::string noise;  // no repeats for LZ4 to find
    uint32_t x = 2463534242u;
    for (int i = 0; i < 600; ++i) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        noise.push_back(static_cast<char>('!' + x % 90));
    }
    std::string large;
    for (int i = 0; i < 3000; ++i) large += "<p>Paragraph " + std::to_string(i) + " of a very long note.</p>\n";

    const std::time_t dated = std::time(nullptr) - 3600;
    web::PageInfo page;
    page.title = *rendered.name;
    for (const std::string& dict : {dictionary, std::string()}) {
        site->public_layout = web::make_layout_frame(*site, dict);
        ASSERT_NE(site->public_layout, nullptr);
        for (const std::string& content : {prose, noise, large, std::string()}) {
            auto kept = web::cached_page_in_layout(*site, page, content, dated);
            auto whole = web::cached_page_in_layout(*plain_site, page, content, dated);
            ASSERT_NE(kept, nullptr);
            ASSERT_NE(whole, nullptr);
            ASSERT_NE(whole->body, nullptr);
            EXPECT_EQ(kept->content(), content);
            EXPECT_EQ(kept->bytes(), *whole->body);
            EXPECT_EQ(kept->validator_lines, whole->validator_lines);
            http::Request req;
            req.target = "/note/" + note.slug;
            EXPECT_EQ(web::cached_page_response(*site, req, kept).body_view(),
                      web::cached_page_response(*plain_site, req, whole).body_view());
            if (content == noise || content.empty()) {
                EXPECT_EQ(kept->content_bytes, 0u) << "kept as is: compressing would not make it smaller";
                EXPECT_EQ(kept->framed_content, content);
            } else {
                EXPECT_EQ(kept->content_bytes, content.size());
                EXPECT_LT(kept->framed_content.size(), content.size());
            }
        }
        auto kept = web::cached_page_in_layout(*site, page, prose, dated);
        if (!dict.empty()) {
            // The markup costs next to nothing against the sample: what is
            // left is about the note's own text (~340 bytes of its ~1,300).
            EXPECT_LT(kept->framed_content.size() * 100, prose.size() * 45) << kept->framed_content.size();
        }
    }
}

TEST_F(LayoutFrameTest, AConfigurationValueHoldingTheMarkerGetsNoFrame) {
    config::Config c = testing::SiteServices::default_config();
    c.site_name = "\x01page-title\x01";
    auto site = services->site(c);
    EXPECT_EQ(web::make_layout_frame(*site), nullptr);
}

}  // namespace
}  // namespace starpunk
