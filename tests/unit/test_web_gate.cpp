// The dispatcher's gate (web/app.hpp), checked over the whole route table so a
// route is covered the day it is added: admin pages need a session (302 to the
// login page), admin JSON answers 401, every admin POST needs the session's
// CSRF token, and cross-site POSTs are refused.
#include <gtest/gtest.h>

#include <deque>
#include <regex>

#include "auth/sessions.hpp"
#include "support/notes_harness.hpp"
#include "web/access.hpp"
#include "web/app.hpp"
#include "web/request_guard.hpp"
#include "web/session_cookie.hpp"

namespace starpunk {
namespace {

using web::Access;
using web::access_of;
using http::Method;

struct GateTest : ::testing::Test {
    testing::NotesHarness h;
    std::unique_ptr<auth::SessionStore> sessions;
    std::shared_ptr<web::Site> site;
    std::unique_ptr<web::App> app;
    std::string token;
    std::string csrf;

    void SetUp() override {
        ASSERT_EQ(h.start(), "");
        auth::SessionStore::Options o;
        o.secret = "gate-test-secret-gate-test-secret-gate";
        o.admin_me = "https://me.example/";
        sessions = std::make_unique<auth::SessionStore>(h.pool, h.clock, o);
        auto templates = web::Templates::load();
        ASSERT_TRUE(templates.ok());
        site = std::make_shared<web::Site>();
        site->config.site_url = "https://blog.example";
        site->templates = *templates;
        site->sessions = sessions.get();
        app = std::make_unique<web::App>(site);
        auto s = sessions->create("https://me.example/", auth::LoginMethod::indieauth, "", "");
        ASSERT_TRUE(s.ok());
        token = s->token;
        auto live = sessions->validate(token);
        csrf = sessions->csrf_token(**live);
    }

    // A concrete path for a route pattern: every parameter becomes "1".
    static std::string concrete(const std::string& pattern) {
        return std::regex_replace(pattern, std::regex(R"(\{[a-z_]+\*?\})"), "1");
    }

    http::Response send(Method method, const std::string& path, std::vector<http::Header> headers = {},
                        std::string body = {}) {
        storage_.push_back(path);
        http::Request req;
        req.method = method;
        req.method_text = http::method_name(method);
        req.target = storage_.back();
        req.raw_path = storage_.back();
        req.path = path;
        req.headers = std::move(headers);
        req.body = std::move(body);
        (void)app->prepare(req);
        return app->handle(req);
    }

    std::vector<http::Header> with_session(std::vector<http::Header> extra = {}) {
        cookie_ = "starpunk_session=" + token;
        extra.push_back({"Cookie", cookie_});
        return extra;
    }

    std::deque<std::string> storage_;
    std::string cookie_;
};

TEST_F(GateTest, AdminRoutesWithoutSessionRedirectOrAnswer401) {
    int checked = 0;
    for (const auto& route : app->router().routes()) {
        if (access_of(route) != Access::admin && access_of(route) != Access::admin_api) continue;
        auto res = send(route.method, concrete(route.pattern));
        if (access_of(route) == Access::admin) {
            EXPECT_EQ(res.status, 302) << route.pattern;
            EXPECT_EQ(res.header("Location").value_or(""), "/auth/login") << route.pattern;
        } else {
            EXPECT_EQ(res.status, 401) << route.pattern;
        }
        ++checked;
    }
    EXPECT_GT(checked, 0);
}

TEST_F(GateTest, AdminPostsWithoutCsrfTokenAre403) {
    int checked = 0;
    for (const auto& route : app->router().routes()) {
        if (route.method != Method::post) continue;
        if (access_of(route) != Access::admin && access_of(route) != Access::admin_api) continue;
        std::string path = concrete(route.pattern);
        auto none = send(Method::post, path, with_session({{"Content-Type", "application/x-www-form-urlencoded"}}), "a=1");
        EXPECT_EQ(none.status, 403) << route.pattern;
        auto wrong = send(Method::post, path, with_session({{"Content-Type", "application/x-www-form-urlencoded"}}),
                          "csrf_token=" + std::string(csrf.size(), 'x'));
        EXPECT_EQ(wrong.status, 403) << route.pattern;
        ++checked;
    }
    EXPECT_GT(checked, 0);
}

TEST_F(GateTest, CrossSitePostsAreRefusedEverywhereButMicropub) {
    for (const auto& route : app->router().routes()) {
        if (route.method != Method::post || access_of(route) == Access::bearer) continue;
        std::string path = concrete(route.pattern);
        auto fetch = send(Method::post, path, {{"Sec-Fetch-Site", "cross-site"}});
        EXPECT_EQ(fetch.status, 403) << route.pattern;
        auto origin = send(Method::post, path, {{"Origin", "https://evil.example"}});
        EXPECT_EQ(origin.status, 403) << route.pattern;
        auto null_origin = send(Method::post, path, {{"Origin", "null"}});
        EXPECT_EQ(null_origin.status, 403) << route.pattern;
    }
}

TEST_F(GateTest, LogoutWithTheRightTokenEndsTheSession) {
    auto res = send(Method::post, "/auth/logout",
                    with_session({{"Content-Type", "application/x-www-form-urlencoded"}, {"Origin", "https://blog.example"}}),
                    "csrf_token=" + csrf);
    EXPECT_EQ(res.status, 302);
    EXPECT_EQ(res.header("Location").value_or(""), "/");
    EXPECT_NE(res.header("Set-Cookie").value_or("").find("Max-Age=0"), std::string::npos);
    auto after = sessions->validate(token);
    ASSERT_TRUE(after.ok());
    EXPECT_FALSE(after->has_value());
}

TEST_F(GateTest, CsrfTokenInHeaderIsAccepted) {
    auto res = send(Method::post, "/auth/logout", with_session({{"X-CSRF-Token", csrf}}));
    EXPECT_EQ(res.status, 302);
}

TEST_F(GateTest, DevLoginIs404WithoutDevMode) {
    auto res = send(Method::get, "/dev/login");
    EXPECT_EQ(res.status, 404);
}

TEST(RequestGuard, SameOriginRules) {
    web::Site site;
    site.config.site_url = "https://blog.example";
    auto check = [&](std::vector<http::Header> headers) {
        http::Request req;
        req.headers = std::move(headers);
        return web::same_origin_request(site, req);
    };
    EXPECT_TRUE(check({}));
    EXPECT_TRUE(check({{"Origin", "https://blog.example"}}));
    EXPECT_TRUE(check({{"Origin", "HTTPS://Blog.Example"}}));
    EXPECT_TRUE(check({{"Origin", "http://127.0.0.1:8000"}, {"Host", "127.0.0.1:8000"}}));
    EXPECT_TRUE(check({{"Sec-Fetch-Site", "same-origin"}, {"Origin", "https://blog.example"}}));
    EXPECT_FALSE(check({{"Origin", "https://blog.example.evil"}}));
    EXPECT_FALSE(check({{"Origin", "http://blog.example"}, {"Host", "other"}}));
    EXPECT_FALSE(check({{"Origin", "null"}}));
    EXPECT_FALSE(check({{"Sec-Fetch-Site", "cross-site"}}));
}

TEST(RequestGuard, PresentedCsrfToken) {
    http::Request req;
    std::string ct = "application/x-www-form-urlencoded";
    req.headers = {{"Content-Type", ct}};
    req.body = "a=1&csrf_token=abc%2D1";
    EXPECT_EQ(web::presented_csrf_token(req), "abc-1");
    std::string mct = "multipart/form-data; boundary=XX";
    req.headers = {{"Content-Type", mct}};
    req.body = "--XX\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\ntok\r\n--XX--\r\n";
    EXPECT_EQ(web::presented_csrf_token(req), "tok");
    req.headers = {{"X-CSRF-Token", " hdr "}};
    EXPECT_EQ(web::presented_csrf_token(req), "hdr");
    req.headers = {};
    EXPECT_EQ(web::presented_csrf_token(req), "");
}

}  // namespace
}  // namespace starpunk
