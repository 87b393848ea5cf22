// The public-page layout rendered once (web::LayoutFrame): every page
// assembled from it is byte for byte the page the layout template renders,
// whatever the configuration, and pages it does not fit are rendered in full.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/site_harness.hpp"
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

TEST_F(LayoutFrameTest, AConfigurationValueHoldingTheMarkerGetsNoFrame) {
    config::Config c = testing::SiteServices::default_config();
    c.site_name = "\x01page-title\x01";
    auto site = services->site(c);
    EXPECT_EQ(web::make_layout_frame(*site), nullptr);
}

}  // namespace
}  // namespace starpunk
