// The dispatcher's gate (web/app.hpp), checked over the whole route table so a
// route is covered the day it is added: admin pages need a session (302 to the
// login page), admin JSON answers 401, every admin POST needs the session's
// CSRF token, and cross-site POSTs are refused.
#include <gtest/gtest.h>

#include <deque>
#include <regex>

#include "auth/sessions.hpp"
#include "support/notes_harness.hpp"
#include "support/site_harness.hpp"
#include "web/access.hpp"
#include "web/app.hpp"
#include "web/request_guard.hpp"
#include "web/session_cookie.hpp"
#include "util/temp_file.hpp"
#include "support/temp_dir.hpp"

namespace starpunk {
namespace {

using namespace std::chrono_literals;
using web::Access;
using web::access_of;
using http::Method;

struct GateTest : ::testing::Test {
    testing::NotesHarness h;
    std::unique_ptr<auth::SessionStore> sessions;
    std::unique_ptr<testing::SiteServices> services;
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
        services = std::make_unique<testing::SiteServices>(h);
        site = services->site();
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

TEST_F(GateTest, CrossSitePostsAreRefusedEverywhereButMicropubAndOAuthClientEndpoints) {
    for (const auto& route : app->router().routes()) {
        if (route.method != Method::post || web::called_cross_site(route)) continue;
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

// A CSRF token belongs to one session: a valid token of another live session
// (another browser of the same admin, say) opens no form of this one.
TEST_F(GateTest, CsrfTokenOfAnotherLiveSessionIsRefused) {
    auto other = sessions->create("https://me.example/", auth::LoginMethod::indieauth, "", "");
    ASSERT_TRUE(other.ok());
    auto other_live = sessions->validate(other->token);
    ASSERT_TRUE(other_live.ok() && other_live->has_value());
    const std::string other_csrf = sessions->csrf_token(**other_live);
    ASSERT_NE(other_csrf, csrf) << "two sessions share one CSRF token";
    int checked = 0;
    for (const auto& route : app->router().routes()) {
        if (route.method != Method::post || !web::is_admin_route(route)) continue;
        const std::string path = concrete(route.pattern);
        auto form = send(Method::post, path, with_session({{"Content-Type", "application/x-www-form-urlencoded"}}),
                         "csrf_token=" + other_csrf);
        EXPECT_EQ(form.status, 403) << route.pattern;
        auto header = send(Method::post, path, with_session({{"X-CSRF-Token", other_csrf}}));
        EXPECT_EQ(header.status, 403) << route.pattern;
        ++checked;
    }
    EXPECT_GT(checked, 0);
    // Both sessions are untouched, and each token still works with its own session.
    ASSERT_TRUE(sessions->validate(token)->has_value());
    token = other->token;
    auto own = send(Method::post, "/auth/logout", with_session({{"X-CSRF-Token", other_csrf}}));
    EXPECT_EQ(own.status, 302);
    EXPECT_FALSE(sessions->validate(other->token)->has_value());
}

// An expired session is no session: every admin request with its cookie — a
// POST carrying the token that was valid while it lived included — is treated
// as anonymous (302 to the login page, or 401 for admin JSON), not as a live
// session with a bad CSRF token. Both limits: a lifetime without use (sliding)
// and the absolute cap from login however often the session is used.
TEST_F(GateTest, AdminRequestsWithAnExpiredSessionAreRefused) {
    auto refused_everywhere = [&](const char* why) {
        SCOPED_TRACE(why);
        int checked = 0;
        for (const auto& route : app->router().routes()) {
            if (!web::is_admin_route(route)) continue;
            const std::string path = concrete(route.pattern);
            auto res = route.method == Method::post
                           ? send(Method::post, path,
                                  with_session({{"Content-Type", "application/x-www-form-urlencoded"}}),
                                  "csrf_token=" + csrf)
                           : send(route.method, path, with_session());
            if (access_of(route) == Access::admin_api) {
                EXPECT_EQ(res.status, 401) << route.pattern;
            } else {
                EXPECT_EQ(res.status, 302) << route.pattern;
                EXPECT_EQ(res.header("Location").value_or(""), "/auth/login") << route.pattern;
            }
            ++checked;
        }
        EXPECT_GT(checked, 0);
        auto row = sessions->validate(token);
        ASSERT_TRUE(row.ok());
        EXPECT_FALSE(row->has_value());
    };
    // Control: while the session lives, a POST without its token is a CSRF
    // refusal (403), i.e. the gate did see an admin.
    auto live = send(Method::post, "/auth/logout", with_session());
    ASSERT_EQ(live.status, 403);

    h.clock.advance(sessions->options().lifetime + 1s);  // a whole lifetime without use
    refused_everywhere("sliding lifetime ran out");

    auto s = sessions->create("https://me.example/", auth::LoginMethod::indieauth, "", "");
    ASSERT_TRUE(s.ok());
    token = s->token;
    csrf = sessions->csrf_token(s->session);
    const auto step = sessions->options().lifetime - 1h;  // used just often enough to keep sliding
    auto used = std::chrono::hours{0};
    while (used + step < sessions->options().absolute_lifetime) {
        h.clock.advance(step);
        used += step;
        ASSERT_TRUE(sessions->validate(token)->has_value()) << "in use and within the cap";
    }
    h.clock.advance(sessions->options().absolute_lifetime - used + 1s);
    refused_everywhere("absolute lifetime ran out");
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
    auto check = [&](std::vector<http::Header> headers) {
        http::Request req;
        req.headers = std::move(headers);
        return web::same_origin_request("https://blog.example", req);
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

// The gate's cross-site and CSRF checks cover every method that may change
// something, not only POST: a PUT, PATCH or DELETE route added to the table
// is guarded the day it is added.
TEST(RequestGuard, EveryMethodButGetHeadOptionsChangesState) {
    EXPECT_FALSE(web::changes_state(Method::get));
    EXPECT_FALSE(web::changes_state(Method::head));
    EXPECT_FALSE(web::changes_state(Method::options));
    for (auto m : {Method::post, Method::put, Method::patch, Method::delete_, Method::other}) {
        EXPECT_TRUE(web::changes_state(m)) << http::method_name(m);
    }
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

// A note form with photos arrives spooled to a file (issue 14): the token is
// read from the file, before or after the file parts, and a token-like text
// inside a file part does not count.
TEST(RequestGuard, PresentedCsrfTokenOfASpooledMultipartBody) {
    testing::TempDir dir;
    auto spooled = [&](const std::string& body) {
        auto file = TempFile::create(dir.path());
        EXPECT_TRUE(file);
        EXPECT_TRUE((*file)->append(body));
        return std::shared_ptr<TempFile>(std::move(*file));
    };
    http::Request req;
    std::string mct = "multipart/form-data; boundary=XX";
    req.headers = {{"Content-Type", mct}};
    const std::string big(200 * 1024, 'x');  // larger than one read
    const std::string file_part =
        "--XX\r\nContent-Disposition: form-data; name=\"photo[]\"; filename=\"a.jpg\"\r\n\r\n" + big + "\r\n";
    const std::string token_part = "--XX\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\ntok\r\n";
    req.body_file = spooled(token_part + file_part + "--XX--\r\n");
    EXPECT_EQ(web::presented_csrf_token(req), "tok");
    req.body_file = spooled(file_part + token_part + "--XX--\r\n");
    EXPECT_EQ(web::presented_csrf_token(req), "tok");
    req.body_file = spooled("--XX\r\nContent-Disposition: form-data; name=\"csrf_token\"; filename=\"t\"\r\n\r\ntok\r\n--XX--\r\n");
    EXPECT_EQ(web::presented_csrf_token(req), "");
    req.body_file = spooled("not multipart at all");
    EXPECT_EQ(web::presented_csrf_token(req), "");
}

}  // namespace
}  // namespace starpunk
