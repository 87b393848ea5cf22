#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "http/finalize.hpp"
#include "http/static_files.hpp"
#include "web/security_headers.hpp"

using namespace starpunk::http;

TEST(Finalize, AddsNothingSiteSpecific) {
    Request req;
    req.path = "/admin/";
    req.request_id = "rid-1";
    Response res = html_response(200, "<p>x</p>");
    finalize_response(req, res);
    EXPECT_FALSE(res.header("Content-Security-Policy").has_value()) << "site policy lives in web/";
    EXPECT_FALSE(res.header("Cache-Control").has_value());
}

TEST(Finalize, BodyWithoutContentTypeGetsOctetStream) {
    Request req;
    Response res;
    res.body = "x";
    finalize_response(req, res);
    EXPECT_EQ(res.header("Content-Type"), "application/octet-stream");
}

TEST(SiteHeaders, AddsSecurityHeaders) {
    Request req;
    req.path = "/";
    Response res = html_response(200, "<p>x</p>");
    starpunk::web::apply_site_headers(req, res);
    EXPECT_EQ(res.header("X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(res.header("Referrer-Policy"), "strict-origin-when-cross-origin");
    EXPECT_EQ(res.header("X-Frame-Options"), "DENY");
    auto csp = std::string(*res.header("Content-Security-Policy"));
    EXPECT_NE(csp.find("script-src 'self'"), std::string::npos);
    EXPECT_NE(csp.find("object-src 'none'"), std::string::npos);
    EXPECT_NE(csp.find("base-uri 'none'"), std::string::npos);
    EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
    EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos);
    EXPECT_EQ(csp.find("unsafe-eval"), std::string::npos);
    EXPECT_FALSE(res.header("Cache-Control").has_value());
}

TEST(SiteHeaders, AdminAuthAndDevPagesAreNoStoreWhateverTheHandlerSaid) {
    for (const char* path : {"/admin/", "/admin/edit/3", "/admin/metrics", "/auth/login", "/dev/login"}) {
        Request req;
        req.path = path;
        Response res = html_response(200, "x");
        res.set_header("Cache-Control", "public, max-age=600");
        starpunk::web::apply_site_headers(req, res);
        EXPECT_EQ(res.header("Cache-Control"), "no-store") << path;
    }
}

TEST(SiteHeaders, HandlerCannotDuplicateSecurityHeaders) {
    Request req;
    req.path = "/";
    Response res = html_response(200, "x");
    res.add_header("X-Content-Type-Options", "bogus");
    starpunk::web::apply_site_headers(req, res);
    int count = 0;  // in the owned headers and the shared blocks alike
    for (auto& [k, v] : res.headers) count += (k == "X-Content-Type-Options");
    for (std::string_view block : res.blocks) {
        for_each_block_line(block, [&](std::string_view k, std::string_view) { count += (k == "X-Content-Type-Options"); });
    }
    EXPECT_EQ(count, 1);
    EXPECT_EQ(res.header("X-Content-Type-Options"), "nosniff");
}

TEST(RequestId, KeepsSaneClientTokens) {
    EXPECT_EQ(choose_request_id(std::string_view("abc-DEF_1.2:3")), "abc-DEF_1.2:3");
}

TEST(RequestId, ReplacesMissingOrHostileValuesWithUuid) {
    for (std::optional<std::string_view> bad :
         {std::optional<std::string_view>{}, std::optional<std::string_view>{""},
          std::optional<std::string_view>{"a b"}, std::optional<std::string_view>{"<x>"},
          std::optional<std::string_view>{"line\nbreak"}}) {
        std::string id = choose_request_id(bad);
        ASSERT_EQ(id.size(), 36u);
        EXPECT_EQ(id[14], '4');  // version nibble
    }
    std::string long_one(200, 'a');
    EXPECT_NE(choose_request_id(std::string_view(long_one)), long_one);
}

TEST(RequestId, UuidsHaveTheVersion4Shape) {
    const std::regex shape("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    for (int i = 0; i < 1000; ++i) {
        const std::string id = random_uuid();
        ASSERT_TRUE(std::regex_match(id, shape)) << id;
    }
}

TEST(RequestId, UuidsAreUnique) {
    std::set<std::string> seen;
    for (int i = 0; i < 10000; ++i) seen.insert(random_uuid());
    EXPECT_EQ(seen.size(), 10000u);
}

TEST(Etag, IfNoneMatchComparison) {
    EXPECT_TRUE(etag_matches("\"abc\"", "\"abc\""));
    EXPECT_TRUE(etag_matches("W/\"abc\"", "\"abc\""));  // weak comparison
    EXPECT_TRUE(etag_matches("\"x\", \"abc\"", "\"abc\""));
    EXPECT_TRUE(etag_matches("*", "\"abc\""));
    EXPECT_FALSE(etag_matches("\"abcd\"", "\"abc\""));
    EXPECT_FALSE(etag_matches("", "\"abc\""));
    EXPECT_FALSE(etag_matches(",,", "\"abc\""));
}

TEST(StaticFiles, ServesEmbeddedFilesWithTypesAndRevalidation) {
    StaticFiles files;
    Request req;
    auto res = files.serve(req, "style.css");
    ASSERT_TRUE(res.has_value());
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->header("Content-Type"), "text/css; charset=utf-8");
    EXPECT_FALSE(res->body_view().empty());
    std::string etag(*res->header("ETag"));
    Request again;
    again.headers.push_back({"If-None-Match", etag});
    auto res304 = files.serve(again, "style.css");
    EXPECT_EQ(res304->status, 304);
    EXPECT_TRUE(res304->body_view().empty());
}

TEST(StaticFiles, UnknownAndTraversalPathsMiss) {
    StaticFiles files;
    Request req;
    for (const char* p : {"nope.css", "../CMakeLists.txt", "/etc/passwd", "", "style.css/", "./style.css"}) {
        EXPECT_FALSE(files.serve(req, p).has_value()) << p;
    }
}

TEST(StaticFiles, VersionedUrlIsImmutable) {
    StaticFiles files;
    std::string url = files.url("style.css");
    ASSERT_NE(url.find("?v="), std::string::npos);
    Request req;
    std::string query = url.substr(url.find('?') + 1);
    req.query = query;
    auto res = files.serve(req, "style.css");
    EXPECT_NE(std::string(*res->header("Cache-Control")).find("immutable"), std::string::npos);
}

TEST(StaticFiles, ContentTypes) {
    EXPECT_EQ(StaticFiles::content_type_for("a.js"), "text/javascript; charset=utf-8");
    EXPECT_EQ(StaticFiles::content_type_for("a.WOFF2"), "font/woff2");
    EXPECT_EQ(StaticFiles::content_type_for("a.svg"), "image/svg+xml");
    EXPECT_EQ(StaticFiles::content_type_for("noext"), "application/octet-stream");
}
