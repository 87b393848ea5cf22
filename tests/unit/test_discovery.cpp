// IndieAuth endpoint discovery (auth/discovery.hpp): the Link header parser,
// HTML <link> discovery, metadata documents, precedence and the cache.
#include "auth/discovery.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "support/fake_http_client.hpp"

namespace starpunk::auth {
namespace {

using namespace std::chrono_literals;
using starpunk::testing::FakeHttpClient;

// ---------------------------------------------------------------------------
// Link header

TEST(DiscoveryLinkHeader, MultipleLinksQuotedRelListsAndCommasInside) {
    auto links = parse_link_header(
        R"(<https://a.example/auth?x=1,2>; rel="authorization_endpoint token_endpoint", )"
        R"(</meta>;REL=indieauth-metadata ;title="a, b; c", <https://c.example/>; rel=micropub)");
    ASSERT_EQ(links.size(), 3u);
    EXPECT_EQ(links[0].target, "https://a.example/auth?x=1,2");
    EXPECT_EQ(links[0].rels, (std::vector<std::string>{"authorization_endpoint", "token_endpoint"}));
    EXPECT_EQ(links[1].target, "/meta");
    EXPECT_EQ(links[1].rels, (std::vector<std::string>{"indieauth-metadata"}));
    EXPECT_EQ(links[2].rels, (std::vector<std::string>{"micropub"}));
}

TEST(DiscoveryLinkHeader, CaseWhitespaceFirstRelOnlyAndAnchors) {
    auto links = parse_link_header(" <x> ;\trel = \"Authorization_Endpoint\"\t; rel=ignored ,<y>; anchor=\"#a\"; rel=me");
    ASSERT_EQ(links.size(), 2u);
    EXPECT_EQ(links[0].rels, (std::vector<std::string>{"authorization_endpoint"}));
    EXPECT_FALSE(links[0].has_anchor);
    EXPECT_TRUE(links[1].has_anchor);
}

TEST(DiscoveryLinkHeader, MalformedValuesAreSkippedNotFatal) {
    auto links = parse_link_header(R"(garbage, <a>; rel="unterminated, <b>; rel=ok)");
    // The unterminated quote swallows the rest of its link-value: only "a" is lost.
    for (const auto& l : links) EXPECT_NE(l.target, "a");
    auto more = parse_link_header(R"(nope; rel=x, <good>; rel=ok, <bad> junk, <also>; rel="fine")");
    ASSERT_EQ(more.size(), 2u);
    EXPECT_EQ(more[0].target, "good");
    EXPECT_EQ(more[1].target, "also");
    EXPECT_TRUE(parse_link_header("").empty());
    EXPECT_TRUE(parse_link_header("<unterminated").empty());
    EXPECT_TRUE(parse_link_header(",,,  ,").empty());
    std::string many;
    for (int i = 0; i < 200; ++i) many += "<x>; rel=a, ";
    EXPECT_EQ(parse_link_header(many).size(), kMaxLinks);
}

TEST(DiscoveryLinkHeader, RelativeTargetsResolveAgainstTheFinalUrl) {
    net::Headers h;
    h.add("Link", R"(</auth>; rel="authorization_endpoint")");
    h.add("Link", R"(<token>; rel="token_endpoint", <https://other.example/m>; rel="indieauth-metadata")");
    auto links = links_from_headers(h, "https://me.example/u/profile");
    EXPECT_EQ(links.authorization_endpoint, "https://me.example/auth");
    EXPECT_EQ(links.token_endpoint, "https://me.example/u/token");
    EXPECT_EQ(links.metadata, "https://other.example/m");
}

TEST(DiscoveryLinkHeader, OnlyHttpUrlsAndNoAnchoredLinks) {
    net::Headers h;
    h.add("Link", R"(<javascript:alert(1)>; rel=authorization_endpoint, <mailto:a@b>; rel=token_endpoint)");
    h.add("Link", R"(</x>; rel=indieauth-metadata; anchor="/other")");
    auto links = links_from_headers(h, "https://me.example/");
    EXPECT_EQ(links.authorization_endpoint, "");
    EXPECT_EQ(links.token_endpoint, "");
    EXPECT_EQ(links.metadata, "");
}

TEST(DiscoveryResolve, Rfc3986) {
    EXPECT_EQ(resolve_url("https://a.example/b/c", "../d#frag").value_or(""), "https://a.example/d");
    EXPECT_EQ(resolve_url("https://a.example/b/c", "//h.example/x").value_or(""), "https://h.example/x");
    EXPECT_EQ(resolve_url("https://a.example/b/c", "?q=1").value_or(""), "https://a.example/b/c?q=1");
    EXPECT_EQ(resolve_url("https://a.example/", "HttPS://b.example/X").value_or(""), "https://b.example/X");
    EXPECT_FALSE(resolve_url("https://a.example/", "ftp://x/"));
    EXPECT_FALSE(resolve_url("not a base", "/x"));
}

// ---------------------------------------------------------------------------
// HTML

TEST(DiscoveryHtml, LinkElementsFirstOneWinsAndBaseHref) {
    auto links = links_from_html(R"(<!doctype html><html><head>
        <link rel="stylesheet" href="/s.css">
        <link rel="AUTHORIZATION_ENDPOINT me" href="/auth">
        <link rel="authorization_endpoint" href="/second">
        <link rel="token_endpoint" href="https://t.example/token">
        </head><body><link rel="indieauth-metadata" href="meta.json"></body></html>)",
                                 "https://me.example/u/");
    EXPECT_EQ(links.authorization_endpoint, "https://me.example/auth");
    EXPECT_EQ(links.token_endpoint, "https://t.example/token");
    EXPECT_EQ(links.metadata, "https://me.example/u/meta.json");

    auto based = links_from_html(R"(<head><base href="/root/"><link rel="authorization_endpoint" href="a"></head>)",
                                 "https://me.example/u/p");
    EXPECT_EQ(based.authorization_endpoint, "https://me.example/root/a");

    auto nothing = links_from_html("<a rel=authorization_endpoint href=/x>anchors do not count</a><link rel=x>",
                                   "https://me.example/");
    EXPECT_EQ(nothing.authorization_endpoint, "");
    EXPECT_EQ(links_from_html("", "https://me.example/").authorization_endpoint, "");
}

// ---------------------------------------------------------------------------
// Metadata document

TEST(DiscoveryMetadata, ParsesAndValidates) {
    auto m = parse_metadata(R"({"issuer":"https://auth.example/","authorization_endpoint":"https://auth.example/auth",
                               "token_endpoint":"/token"})",
                            "https://auth.example/.well-known/oauth-authorization-server");
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_EQ(m->issuer, "https://auth.example/");
    EXPECT_EQ(m->authorization_endpoint, "https://auth.example/auth");
    EXPECT_EQ(m->token_endpoint, "https://auth.example/token");

    for (const char* bad : {"", "[]", "not json", R"({"issuer":"https://a.example/"})",
                            R"({"authorization_endpoint":42})",
                            R"({"authorization_endpoint":"https://a.example/a","issuer":"https://a.example/?q"})",
                            R"({"authorization_endpoint":"https://a.example/a","issuer":"urn:x"})"}) {
        auto r = parse_metadata(bad, "https://a.example/meta");
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, ErrorCode::io);
    }
}

// ---------------------------------------------------------------------------
// discover_endpoints: precedence

constexpr const char* kMe = "https://me.example/";
constexpr const char* kMeta = "https://auth.example/meta";

FakeHttpClient::Answer metadata_answer() {
    return {200, R"({"issuer":"https://auth.example/","authorization_endpoint":"https://auth.example/auth",
                    "token_endpoint":"https://auth.example/token"})",
            {{"Content-Type", "application/json"}}};
}

TEST(DiscoveryEndpoints, HeaderMetadataBeatsEverythingElse) {
    FakeHttpClient http;
    http.on_get(kMe, {200, R"(<link rel="authorization_endpoint" href="https://html.example/auth">)",
                      {{"Content-Type", "text/html; charset=utf-8"},
                       {"Link", "<https://legacy.example/auth>; rel=\"authorization_endpoint\""},
                       {"Link", std::string("<") + kMeta + ">; rel=\"indieauth-metadata\""}}});
    http.on_get(kMeta, metadata_answer());
    auto e = discover_endpoints(http, kMe);
    ASSERT_TRUE(e) << e.error().message;
    EXPECT_EQ(e->authorization_endpoint, "https://auth.example/auth");
    EXPECT_EQ(e->token_endpoint, "https://auth.example/token");
    EXPECT_EQ(e->issuer, "https://auth.example/");
    EXPECT_EQ(e->metadata_url, kMeta);
}

TEST(DiscoveryEndpoints, HtmlMetadataBeatsHeaderLegacyRels) {
    FakeHttpClient http;
    http.on_get(kMe, {200, std::string(R"(<link rel="indieauth-metadata" href=")") + kMeta + "\">",
                      {{"Link", "<https://legacy.example/auth>; rel=\"authorization_endpoint\""}}});
    http.on_get(kMeta, metadata_answer());
    auto e = discover_endpoints(http, kMe);
    ASSERT_TRUE(e) << e.error().message;
    EXPECT_EQ(e->authorization_endpoint, "https://auth.example/auth");
    EXPECT_EQ(e->issuer, "https://auth.example/");
}

TEST(DiscoveryEndpoints, HeaderLegacyBeatsHtmlLegacyAndIssuerIsUnknown) {
    FakeHttpClient http;
    http.on_get(kMe, {200,
                      R"(<link rel="authorization_endpoint" href="/html-auth"><link rel="token_endpoint" href="/html-token">)",
                      {{"Link", "</hdr-auth>; rel=\"authorization_endpoint\""}}});
    auto e = discover_endpoints(http, kMe);
    ASSERT_TRUE(e) << e.error().message;
    EXPECT_EQ(e->authorization_endpoint, "https://me.example/hdr-auth");
    EXPECT_EQ(e->token_endpoint, "https://me.example/html-token");
    EXPECT_EQ(e->issuer, "");
}

TEST(DiscoveryEndpoints, RelativeLinksUseTheUrlAfterRedirects) {
    FakeHttpClient http;
    FakeHttpClient::Answer page{200, R"(<link rel="authorization_endpoint" href="auth">)", {}};
    page.final_url = "https://www.me.example/home/";
    http.on_get(kMe, page);
    auto e = discover_endpoints(http, kMe);
    ASSERT_TRUE(e) << e.error().message;
    EXPECT_EQ(e->authorization_endpoint, "https://www.me.example/home/auth");
}

TEST(DiscoveryEndpoints, BrokenMetadataFallsBackToLegacyRelsElseIsAnError) {
    FakeHttpClient http;
    http.on_get(kMe, {200, R"(<link rel="authorization_endpoint" href="/auth">)",
                      {{"Link", std::string("<") + kMeta + ">; rel=\"indieauth-metadata\""}}});
    http.on_get(kMeta, {500, "oops", {}});
    auto e = discover_endpoints(http, kMe);
    ASSERT_TRUE(e) << e.error().message;
    EXPECT_EQ(e->authorization_endpoint, "https://me.example/auth");

    FakeHttpClient only_meta;
    only_meta.on_get(kMe, {200, "", {{"Link", std::string("<") + kMeta + ">; rel=\"indieauth-metadata\""}}});
    only_meta.on_get(kMeta, {200, "{not json", {}});
    auto bad = discover_endpoints(only_meta, kMe);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, ErrorCode::io);
}

TEST(DiscoveryEndpoints, NothingAdvertisedIsNotFoundUnreachableIsIo) {
    FakeHttpClient http;
    http.on_get(kMe, {200, "<p>just a page</p>", {{"Content-Type", "text/html"}}});
    auto none = discover_endpoints(http, kMe);
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, ErrorCode::not_found);

    http.on_get(kMe, {404, "", {}});
    auto missing = discover_endpoints(http, kMe);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ErrorCode::io);

    FakeHttpClient down;
    auto unreachable = discover_endpoints(down, kMe);
    ASSERT_FALSE(unreachable);
    EXPECT_EQ(unreachable.error().code, ErrorCode::io);
}

TEST(DiscoveryEndpoints, NonHtmlBodiesAreNotParsed) {
    FakeHttpClient http;
    http.on_get(kMe, {200, R"(<link rel="authorization_endpoint" href="/auth">)", {{"Content-Type", "text/plain"}}});
    auto e = discover_endpoints(http, kMe);
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().code, ErrorCode::not_found);
}

// ---------------------------------------------------------------------------
// Cache

TEST(DiscoveryCache, KeepsSuccessesForAnHourAndNeverFailures) {
    FakeClock clock(Timestamp{} + 1000h);
    EndpointCache cache(clock);
    FakeHttpClient http;
    auto first = cache.get(http, kMe);  // unreachable: not cached
    ASSERT_FALSE(first);
    http.on_get(kMe, {200, R"(<link rel="authorization_endpoint" href="/auth">)", {}});
    ASSERT_TRUE(cache.get(http, kMe));
    ASSERT_TRUE(cache.get(http, kMe));
    EXPECT_EQ(http.count(net::Method::get, kMe), 2u);
    ASSERT_TRUE(cache.peek(kMe));

    clock.advance(59min);
    ASSERT_TRUE(cache.get(http, kMe));
    EXPECT_EQ(http.count(net::Method::get, kMe), 2u);
    clock.advance(2min);
    EXPECT_FALSE(cache.peek(kMe));
    ASSERT_TRUE(cache.get(http, kMe));
    EXPECT_EQ(http.count(net::Method::get, kMe), 3u);

    cache.clear();
    EXPECT_FALSE(cache.peek(kMe));
}

}  // namespace
}  // namespace starpunk::auth
