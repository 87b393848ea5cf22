// Micropub token handling (micropub/token_verifier.hpp): where the token comes
// from, what the token endpoint's answers mean, failing closed, and the
// verification cache (hit, TTL with a fake clock, bounded size) — against a
// scripted HttpClient.
#include "micropub/token_verifier.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth/indieauth.hpp"
#include "net/coalescing_client.hpp"
#include "support/fake_http_client.hpp"
#include "support/notes_harness.hpp"

namespace starpunk::micropub {
namespace {

using namespace std::chrono_literals;
using starpunk::testing::FakeHttpClient;

constexpr const char* kEndpoint = "https://tokens.example/token";
constexpr const char* kToken = "secret-token-0123456789";

// ---------------------------------------------------------------------------
// Where the token comes from

TEST(TokenExtract, FromTheAuthorizationHeader) {
    auto t = extract_token(std::string_view("Bearer abc123"), std::nullopt);
    ASSERT_TRUE(t);
    EXPECT_EQ(*t, "abc123");
    auto lower = extract_token(std::string_view("  bearer   abc123  "), std::nullopt);
    ASSERT_TRUE(lower);
    EXPECT_EQ(*lower, "abc123");
}

TEST(TokenExtract, FromTheFormField) {
    auto t = extract_token(std::nullopt, std::string_view("abc123"));
    ASSERT_TRUE(t);
    EXPECT_EQ(*t, "abc123");
}

TEST(TokenExtract, BothAtOnceIs400InvalidRequest) {
    auto t = extract_token(std::string_view("Bearer abc"), std::string_view("abc"));
    ASSERT_FALSE(t);
    EXPECT_EQ(t.failure().status, 400);
    EXPECT_EQ(t.failure().error, "invalid_request");
}

TEST(TokenExtract, NoneIs401Unauthorized) {
    for (auto header : {std::optional<std::string_view>{}, std::optional<std::string_view>("Bearer"),
                        std::optional<std::string_view>("Bearer    "), std::optional<std::string_view>("Basic dXNlcjpwdw==")}) {
        auto t = extract_token(header, std::nullopt);
        ASSERT_FALSE(t) << header.value_or("(none)");
        EXPECT_EQ(t.failure().status, 401);
        EXPECT_EQ(t.failure().error, "unauthorized");
        EXPECT_EQ(t.failure().www_authenticate, "Bearer");
    }
    auto empty_field = extract_token(std::nullopt, std::string_view(""));
    ASSERT_FALSE(empty_field);
    EXPECT_EQ(empty_field.failure().status, 401);
}

TEST(TokenExtract, ANonBearerHeaderDoesNotCountAsASecondToken) {
    auto t = extract_token(std::string_view("Basic dXNlcjpwdw=="), std::string_view("abc"));
    ASSERT_TRUE(t);
    EXPECT_EQ(*t, "abc");
}

// ---------------------------------------------------------------------------
// Verification

class TokenVerifierTest : public ::testing::Test {
protected:
    void SetUp() override {
        config.site_url = "https://site.example";
        config.admin_me = "https://ME.example";  // canonicalised before comparing
        config.token_endpoint = kEndpoint;
        make();
    }
    void make(TokenVerifierOptions options = {}, std::shared_ptr<auth::EndpointCache> cache = nullptr) {
        verifier = std::make_unique<TokenVerifier>(config, http, clock, std::move(cache), options);
    }
    void answer(int status, std::string body) { http.on_get(kEndpoint, {status, std::move(body), {}}); }
    void answer_admin(std::string scope = "create update") {
        answer(200, R"({"me":"https://me.example/","client_id":"https://app.example/","scope":")" + scope + "\"}");
    }
    size_t fetches() const { return http.count(net::Method::get, kEndpoint); }

    config::Config config;
    FakeClock clock{starpunk::testing::test_epoch()};
    FakeHttpClient http;
    std::unique_ptr<TokenVerifier> verifier;
};

TEST_F(TokenVerifierTest, AcceptsTheAdminsTokenAndSendsItAsBearer) {
    answer_admin();
    auto info = verifier->verify(kToken);
    ASSERT_TRUE(info) << info.failure().description;
    EXPECT_EQ(info->me, "https://me.example/");
    EXPECT_EQ(info->client_id, "https://app.example/");
    EXPECT_EQ(info->scopes, (std::vector<std::string>{"create", "update"}));
    EXPECT_TRUE(info->can_create());
    EXPECT_FALSE(require_scope(*info, "create"));

    auto requests = http.requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].method, net::Method::get);
    EXPECT_EQ(requests[0].url, kEndpoint);
    EXPECT_EQ(requests[0].headers,
              (net::Fields{{"Authorization", std::string("Bearer ") + kToken}, {"Accept", "application/json"}}));
}

TEST_F(TokenVerifierTest, AnotherIdentityIs403Forbidden) {
    answer(200, R"({"me":"https://someone-else.example/","client_id":"https://app.example/","scope":"create"})");
    auto info = verifier->verify(kToken);
    ASSERT_FALSE(info);
    EXPECT_EQ(info.failure().status, 403);
    EXPECT_EQ(info.failure().error, "forbidden");
}

// A `me` that is no profile URL at all fails closed (403, not cached). Each
// value must really fail canonicalisation, so the test exercises that branch
// and not merely the comparison with ADMIN_ME.
TEST_F(TokenVerifierTest, AnUnusableMeIs403Forbidden) {
    for (const char* me : {"javascript:void", "foo:bar", "mailto:me@me.example", "me.example:", "https://"}) {
        SCOPED_TRACE(me);
        auto canon = auth::canonicalize_profile_url(me, config.outbound_http_allowed());
        ASSERT_FALSE(canon) << "precondition: '" << me << "' must not parse, but gave " << *canon;
        answer(200, nlohmann::json{{"me", me}, {"scope", "create"}}.dump());
        verifier->clear_cache();  // a 403 is remembered for a while (rejection cache)
        const size_t before = fetches();
        auto info = verifier->verify(kToken);
        ASSERT_FALSE(info) << "accepted a token vouched for by '" << me << "'";
        EXPECT_EQ(info.failure().status, 403);
        EXPECT_EQ(info.failure().error, "forbidden");
        EXPECT_EQ(verifier->cached(), 0u);
        EXPECT_EQ(fetches(), before + 1);
    }
}

TEST_F(TokenVerifierTest, MeIsComparedInCanonicalForm) {
    answer(200, R"({"me":"HTTPS://Me.Example","scope":"create"})");
    auto info = verifier->verify(kToken);
    ASSERT_TRUE(info) << info.failure().description;
    EXPECT_EQ(info->me, "https://me.example/");
}

TEST_F(TokenVerifierTest, MissingCreateScopeIs403InsufficientScope) {
    answer_admin("read update");
    auto info = verifier->verify(kToken);
    ASSERT_TRUE(info);  // the token is fine; it just cannot create
    auto missing = require_scope(*info, "create");
    ASSERT_TRUE(missing);
    EXPECT_EQ(missing->status, 403);
    EXPECT_EQ(missing->error, "insufficient_scope");
    EXPECT_NE(missing->www_authenticate.find("insufficient_scope"), std::string::npos);
    EXPECT_NE(missing->www_authenticate.find("scope=\"create\""), std::string::npos);
}

TEST_F(TokenVerifierTest, NoScopeAtAllIsInsufficientForCreate) {
    answer(200, R"({"me":"https://me.example/"})");
    auto info = verifier->verify(kToken);
    ASSERT_TRUE(info);
    EXPECT_TRUE(info->scopes.empty());
    EXPECT_TRUE(require_scope(*info, "create"));
}

TEST_F(TokenVerifierTest, LegacyPostScopeAllowsCreate) {
    answer_admin("post");
    auto info = verifier->verify(kToken);
    ASSERT_TRUE(info);
    EXPECT_FALSE(require_scope(*info, "create"));
}

TEST_F(TokenVerifierTest, ScopeAsAnArrayIsUnderstood) {
    answer(200, R"({"me":"https://me.example/","scope":["create","media"]})");
    auto info = verifier->verify(kToken);
    ASSERT_TRUE(info);
    EXPECT_TRUE(info->has_scope("media"));
    EXPECT_TRUE(info->can_create());
}

TEST_F(TokenVerifierTest, RejectedTokensAre401) {
    for (int status : {400, 401, 403, 404}) {
        answer(status, R"({"error":"invalid_token"})");
        verifier->clear_cache();  // rejections are cached for a while
        auto info = verifier->verify(kToken);
        ASSERT_FALSE(info) << status;
        EXPECT_EQ(info.failure().status, 401) << status;
        EXPECT_EQ(info.failure().error, "unauthorized");
        EXPECT_NE(info.failure().www_authenticate.find("invalid_token"), std::string::npos);
    }
}

TEST_F(TokenVerifierTest, InactiveOrErrorOrMeLessAnswersAre401) {
    for (const char* body : {R"({"active":false})", R"({"active":false,"me":"https://me.example/","scope":"create"})",
                             R"({"error":"invalid_token","me":"https://me.example/"})", R"({"scope":"create"})",
                             R"({"me":42,"scope":"create"})"}) {
        answer(200, body);
        verifier->clear_cache();  // rejections are cached for a while
        auto info = verifier->verify(kToken);
        ASSERT_FALSE(info) << body;
        EXPECT_EQ(info.failure().status, 401) << body;
    }
    EXPECT_EQ(verifier->cached(), 0u);
}

TEST_F(TokenVerifierTest, ActiveTrueIsAccepted) {
    answer(200, R"({"active":true,"me":"https://me.example/","scope":"create"})");
    EXPECT_TRUE(verifier->verify(kToken));
}

TEST_F(TokenVerifierTest, EndpointDownFailsClosedWith503) {
    FakeHttpClient::Answer down;
    down.error = make_error(ErrorCode::io, "connection refused");
    http.on_get(kEndpoint, down);
    auto info = verifier->verify(kToken);
    ASSERT_FALSE(info);
    EXPECT_EQ(info.failure().status, 503);
    EXPECT_EQ(info.failure().error, "temporarily_unavailable");
    EXPECT_EQ(verifier->cached(), 0u);
    // Not cached: the next request asks again (and succeeds once it is back).
    answer_admin();
    EXPECT_TRUE(verifier->verify(kToken));
    EXPECT_EQ(fetches(), 2u);
}

TEST_F(TokenVerifierTest, ServerErrorsAndNonsenseFailClosedWith503) {
    for (auto [status, body] : std::vector<std::pair<int, std::string>>{
             {500, R"({"me":"https://me.example/","scope":"create"})"},
             {502, ""},
             {302, ""},
             {200, "me=https%3A%2F%2Fme.example%2F&scope=create"},
             {200, "[\"https://me.example/\"]"}}) {
        answer(status, body);
        auto info = verifier->verify(kToken);
        ASSERT_FALSE(info) << status << " " << body;
        EXPECT_EQ(info.failure().status, 503) << status << " " << body;
    }
    EXPECT_EQ(verifier->cached(), 0u);
}

TEST_F(TokenVerifierTest, MalformedTokensAreRefusedWithoutAsking) {
    answer_admin();
    for (std::string bad : {std::string("has space"), std::string("line\r\nX-Injected: 1"), std::string("tab\there"),
                            std::string("caf\xc3\xa9"), std::string(5000, 'a')}) {
        auto info = verifier->verify(bad);
        ASSERT_FALSE(info);
        EXPECT_EQ(info.failure().status, 401);
    }
    EXPECT_EQ(fetches(), 0u);
}

TEST_F(TokenVerifierTest, FailureDescriptionsNeverContainTheToken) {
    answer(401, "{}");
    auto a = verifier->verify(kToken);
    verifier->clear_cache();
    answer(200, R"({"me":"https://other.example/"})");
    auto b = verifier->verify(kToken);
    verifier->clear_cache();
    answer(500, "");
    auto c = verifier->verify(kToken);
    for (const auto* o : {&a, &b, &c}) {
        ASSERT_FALSE(*o);
        EXPECT_EQ(o->failure().description.find(kToken), std::string::npos);
        EXPECT_EQ(o->failure().description.find("secret-"), std::string::npos);
    }
}

TEST_F(TokenVerifierTest, CacheHitAvoidsASecondFetch) {
    answer_admin();
    ASSERT_TRUE(verifier->verify(kToken));
    auto again = verifier->verify(kToken);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->me, "https://me.example/");
    EXPECT_EQ(fetches(), 1u);
    EXPECT_EQ(verifier->cached(), 1u);
}

TEST_F(TokenVerifierTest, CacheIsKeyedByTheToken) {
    answer_admin();
    ASSERT_TRUE(verifier->verify("token-one"));
    ASSERT_TRUE(verifier->verify("token-two"));
    ASSERT_TRUE(verifier->verify("token-one"));
    EXPECT_EQ(fetches(), 2u);
    EXPECT_EQ(verifier->cached(), 2u);
}

TEST_F(TokenVerifierTest, CachedEntriesExpireAfterTheTtl) {
    answer_admin();
    ASSERT_TRUE(verifier->verify(kToken));
    clock.advance(119s);
    ASSERT_TRUE(verifier->verify(kToken));
    EXPECT_EQ(fetches(), 1u);
    clock.advance(2s);  // 121 s after the first verification
    ASSERT_TRUE(verifier->verify(kToken));
    EXPECT_EQ(fetches(), 2u);
}

TEST_F(TokenVerifierTest, ARevokedTokenIsRefusedOnceItsEntryExpires) {
    answer_admin();
    ASSERT_TRUE(verifier->verify(kToken));
    answer(401, R"({"error":"invalid_token"})");  // revoked at the endpoint
    EXPECT_TRUE(verifier->verify(kToken));        // still cached
    clock.advance(121s);
    auto info = verifier->verify(kToken);
    ASSERT_FALSE(info);
    EXPECT_EQ(info.failure().status, 401);
}

// Issue 12: 40 requests with a bad token made 40 token-endpoint calls.
TEST_F(TokenVerifierTest, RejectionsAreCachedBriefly) {
    answer(401, R"({"error":"invalid_token"})");
    for (int i = 0; i < 40; ++i) {
        auto info = verifier->verify(kToken);
        ASSERT_FALSE(info);
        EXPECT_EQ(info.failure().status, 401);
        EXPECT_NE(info.failure().www_authenticate.find("invalid_token"), std::string::npos);
    }
    EXPECT_EQ(fetches(), 1u);
    EXPECT_EQ(verifier->cached(), 0u) << "never among the accepted";
    EXPECT_EQ(verifier->cached_rejections(), 1u);
    clock.advance(29s);
    EXPECT_FALSE(verifier->verify(kToken));
    EXPECT_EQ(fetches(), 1u);
    clock.advance(2s);  // 31 s after the rejection: asked again
    answer_admin();
    EXPECT_TRUE(verifier->verify(kToken));
    EXPECT_EQ(fetches(), 2u);
}

TEST_F(TokenVerifierTest, AnotherIdentitysTokenIsRememberedAs403) {
    answer(200, R"({"me":"https://someone-else.example/","scope":"create"})");
    for (int i = 0; i < 3; ++i) {
        auto info = verifier->verify(kToken);
        ASSERT_FALSE(info);
        EXPECT_EQ(info.failure().status, 403);
    }
    EXPECT_EQ(fetches(), 1u);
}

TEST_F(TokenVerifierTest, UnavailabilityIsNotCached) {
    answer(502, "");
    EXPECT_FALSE(verifier->verify(kToken));
    EXPECT_FALSE(verifier->verify(kToken));
    EXPECT_EQ(fetches(), 2u);
    EXPECT_EQ(verifier->cached_rejections(), 0u);
}

TEST_F(TokenVerifierTest, RejectionsAreBoundedAndCannotEvictAcceptedTokens) {
    TokenVerifierOptions o;
    o.max_rejections = 5;
    make(o);
    answer_admin();
    ASSERT_TRUE(verifier->verify("the-good-token"));
    answer(401, "{}");
    for (int i = 0; i < 100; ++i) {
        EXPECT_FALSE(verifier->verify("bad-token-" + std::to_string(i)));
        EXPECT_LE(verifier->cached_rejections(), 5u);
    }
    const size_t before = fetches();
    EXPECT_TRUE(verifier->verify("the-good-token"));
    EXPECT_EQ(fetches(), before);
}

// The outbound limit (net::CoalescingHttpClient) reached: 503 at once, with
// Retry-After, and nothing remembered.
TEST_F(TokenVerifierTest, ABusyOutboundClientIs503WithRetryAfter) {
    FakeHttpClient::Answer busy;
    busy.error = make_error(ErrorCode::busy, "1 outbound request(s) already in progress");
    http.on_get(kEndpoint, busy);
    auto info = verifier->verify(kToken);
    ASSERT_FALSE(info);
    EXPECT_EQ(info.failure().status, 503);
    EXPECT_EQ(info.failure().error, "temporarily_unavailable");
    EXPECT_GT(info.failure().retry_after_seconds, 0);
    EXPECT_EQ(verifier->cached_rejections(), 0u);
    answer_admin();
    EXPECT_TRUE(verifier->verify(kToken));
}

TEST_F(TokenVerifierTest, ABusyClientDuringDiscoveryIs503WithRetryAfterNotAFallback) {
    config.token_endpoint.clear();
    FakeHttpClient::Answer busy;
    busy.error = make_error(ErrorCode::busy, "1 outbound request(s) already in progress");
    http.on_get("https://me.example/", busy);
    auto info = verifier->verify(kToken);
    ASSERT_FALSE(info);
    EXPECT_EQ(info.failure().status, 503);
    EXPECT_GT(info.failure().retry_after_seconds, 0);
}

// Concurrent verifications of one token through the server's outbound client
// reach the token endpoint once (single flight).
TEST_F(TokenVerifierTest, ConcurrentVerificationsOfOneTokenShareOneRequest) {
    FakeHttpClient::Answer slow{401, R"({"error":"invalid_token"})", {}, {}, {}, 300ms};
    http.on_get(kEndpoint, slow);
    net::CoalescingHttpClient shared(http, {8});
    TokenVerifier v(config, shared, clock);
    std::vector<std::thread> threads;
    std::atomic<int> refused{0};
    for (int i = 0; i < 6; ++i) {
        threads.emplace_back([&] {
            auto info = v.verify(kToken);
            if (!info && info.failure().status == 401) ++refused;
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(refused.load(), 6);
    EXPECT_EQ(fetches(), 1u);
}

TEST_F(TokenVerifierTest, CacheSizeIsBounded) {
    TokenVerifierOptions o;
    o.max_entries = 3;
    make(o);
    answer_admin();
    for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE(verifier->verify("token-" + std::to_string(i)));
        clock.advance(1s);
        EXPECT_LE(verifier->cached(), 3u);
    }
    // The newest survive: token-9 is still cached, token-0 is not.
    const size_t before = fetches();
    ASSERT_TRUE(verifier->verify("token-9"));
    EXPECT_EQ(fetches(), before);
    ASSERT_TRUE(verifier->verify("token-0"));
    EXPECT_EQ(fetches(), before + 1);
}

TEST_F(TokenVerifierTest, DiscoversTheTokenEndpointFromAdminMeAndCachesIt) {
    config.token_endpoint.clear();
    http.on_get("https://me.example/",
                {200, "<!doctype html><title>me</title>",
                 {{"Link", "<https://auth.example/auth>; rel=\"authorization_endpoint\", "
                           "<https://tokens.example/token>; rel=\"token_endpoint\""}}});
    answer_admin();
    ASSERT_TRUE(verifier->verify("token-one"));
    ASSERT_TRUE(verifier->verify("token-two"));
    EXPECT_EQ(http.count(net::Method::get, "https://me.example/"), 1u);  // one-hour endpoint cache
    EXPECT_EQ(fetches(), 2u);
}

TEST_F(TokenVerifierTest, SharesTheEndpointCacheWithIndieAuth) {
    config.token_endpoint.clear();
    auto cache = std::make_shared<auth::EndpointCache>(clock);
    auth::Endpoints e;
    e.authorization_endpoint = "https://auth.example/auth";
    e.token_endpoint = kEndpoint;
    cache->put("https://me.example/", e);  // as a login would have left it
    make({}, cache);
    answer_admin();
    ASSERT_TRUE(verifier->verify(kToken));
    EXPECT_EQ(http.count(net::Method::get, "https://me.example/"), 0u);
}

TEST_F(TokenVerifierTest, TokenEndpointOverridesDiscovery) {
    auto cache = std::make_shared<auth::EndpointCache>(clock);
    auth::Endpoints e;
    e.authorization_endpoint = "https://auth.example/auth";
    e.token_endpoint = "https://discovered.example/token";
    cache->put("https://me.example/", e);
    make({}, cache);
    answer_admin();
    ASSERT_TRUE(verifier->verify(kToken));
    EXPECT_EQ(fetches(), 1u);
    EXPECT_EQ(http.count(net::Method::get, "https://discovered.example/token"), 0u);
}

TEST_F(TokenVerifierTest, NoDiscoverableTokenEndpointFailsClosedWith503) {
    config.token_endpoint.clear();
    http.on_get("https://me.example/", {200, R"(<link rel="authorization_endpoint" href="https://auth.example/a">)", {}});
    auto info = verifier->verify(kToken);
    ASSERT_FALSE(info);
    EXPECT_EQ(info.failure().status, 503);

    FakeHttpClient::Answer down;
    down.error = make_error(ErrorCode::io, "timeout");
    http.on_get("https://me.example/", down);
    verifier->clear_cache();
    auto again = TokenVerifier(config, http, clock).verify(kToken);  // fresh endpoint cache
    ASSERT_FALSE(again);
    EXPECT_EQ(again.failure().status, 503);
    EXPECT_EQ(fetches(), 0u);
}

TEST_F(TokenVerifierTest, NoAdminMeFailsClosed) {
    config.admin_me.clear();
    answer_admin();
    auto info = verifier->verify(kToken);
    ASSERT_FALSE(info);
    EXPECT_EQ(info.failure().status, 503);
    EXPECT_EQ(fetches(), 0u);
}

TEST_F(TokenVerifierTest, DevModeWithoutAdminMeUsesDevAdminMe) {
    config.admin_me.clear();
    config.dev_mode = true;
    config.dev_admin_me = "https://me.example/";
    answer_admin();
    EXPECT_TRUE(verifier->verify(kToken));
}

}  // namespace
}  // namespace starpunk::micropub
