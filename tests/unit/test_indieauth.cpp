// The IndieAuth client (auth/indieauth.hpp): profile-URL canonicalisation, the
// authorization URL begin() builds (PKCE S256, state in auth_state), and every
// way complete() can end — with a scripted HttpClient and a fake clock.
#include "auth/indieauth.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include "storage/migrations.hpp"
#include "support/fake_http_client.hpp"
#include "support/notes_harness.hpp"
#include "support/temp_dir.hpp"
#include "util/crypto.hpp"

namespace starpunk::auth {
namespace {

using namespace std::chrono_literals;
using starpunk::testing::FakeHttpClient;
using starpunk::testing::TempDir;

// ---------------------------------------------------------------------------
// Canonicalisation

TEST(IndieAuthCanonical, Table) {
    struct Case {
        const char* in;
        bool allow_http;
        const char* want;  // nullptr: invalid_input
    };
    const Case cases[] = {
        {"https://example.com", false, "https://example.com/"},
        {"example.com", false, "https://example.com/"},
        {"  HTTPS://Example.COM/  ", false, "https://example.com/"},
        {"https://example.com/Users/Alice", false, "https://example.com/Users/Alice"},
        {"https://example.com/u/alice/", false, "https://example.com/u/alice/"},
        {"https://example.com/?a=1", false, "https://example.com/?a=1"},
        {"https://example.com:443/", false, "https://example.com/"},
        {"https://sub.example.com/", false, "https://sub.example.com/"},
        {"http://example.com/", false, nullptr},
        {"http://example.com/", true, "http://example.com/"},
        {"http://example.com:80/", true, "http://example.com/"},
        {"https://example.com:8443/", false, nullptr},
        {"https://example.com:8443/", true, "https://example.com:8443/"},
        {"http://localhost:8000", true, "http://localhost:8000/"},
        {"https://localhost/", false, nullptr},
        {"https://127.0.0.1/", false, nullptr},
        {"http://127.0.0.1:9000/me", true, "http://127.0.0.1:9000/me"},
        {"http://[::1]:9000/", true, "http://[::1]:9000/"},
        {"https://[::1]/", false, nullptr},
        {"https://example.com/#me", false, nullptr},
        {"https://user:pw@example.com/", false, nullptr},
        {"https://user@example.com/", false, nullptr},
        {"https://example.com/a/./b", false, nullptr},
        {"https://example.com/a/../b", false, nullptr},
        {"https://example.com/..", false, nullptr},
        {"https://example.com/%2e%2e/x", false, nullptr},
        {"mailto:me@example.com", false, nullptr},
        {"ftp://example.com/", true, nullptr},
        {"https://", false, nullptr},
        {"", false, nullptr},
        {"   ", false, nullptr},
        {"https://exa mple.com/", false, nullptr},
        {"https://bücher.example/", false, nullptr},
        {"https://xn--bcher-kva.example/", false, "https://xn--bcher-kva.example/"},
        {"https://-bad.example/", false, nullptr},
        // Another scheme is refused, never read as "https://<scheme><rest>".
        {"javascript:void", false, nullptr},
        {"javascript:void", true, nullptr},
        {"foo:bar", false, nullptr},
        {"foo:bar", true, nullptr},
        {"mailto:x@y", false, nullptr},
        {"mailto:x@y", true, nullptr},
        {"https:example.com", false, nullptr},
        // Without a scheme, a host with a port is still a host.
        {"example.com:8443/me", true, "https://example.com:8443/me"},
        {"example.com:443", false, "https://example.com/"},
        {"localhost:8000", true, "https://localhost:8000/"},
        {"127.0.0.1:9000", true, "https://127.0.0.1:9000/"},
    };
    for (const auto& c : cases) {
        auto got = canonicalize_profile_url(c.in, c.allow_http);
        if (c.want == nullptr) {
            EXPECT_FALSE(got) << "'" << c.in << "' -> " << (got ? *got : "");
            if (!got) {
                EXPECT_EQ(got.error().code, ErrorCode::invalid_input) << c.in;
                EXPECT_FALSE(got.error().message.empty());
            }
        } else {
            ASSERT_TRUE(got) << c.in << ": " << got.error().message;
            EXPECT_EQ(*got, c.want) << c.in;
            auto again = canonicalize_profile_url(*got, c.allow_http);  // idempotent
            ASSERT_TRUE(again);
            EXPECT_EQ(*again, *got);
        }
    }
}

// Input that names a scheme other than http(s) fails for that reason — not
// because the text, read as a host name with "https://" in front, happened to
// be invalid for some other reason (or, worse, valid).
TEST(IndieAuthCanonical, OtherSchemesAreRefusedForTheirScheme) {
    for (const char* in : {"javascript:void", "foo:bar", "mailto:x@y", "JavaScript:alert(1)", "data:text/html,hi",
                           "tel:+15551234567", "me.example:"}) {
        for (bool allow_http : {false, true}) {
            auto got = canonicalize_profile_url(in, allow_http);
            ASSERT_FALSE(got) << "'" << in << "' -> " << *got;
            EXPECT_EQ(got.error().code, ErrorCode::invalid_input) << in;
            EXPECT_NE(got.error().message.find("must start with https://"), std::string::npos)
                << in << ": " << got.error().message;
        }
    }
}

// ---------------------------------------------------------------------------
// The flow

constexpr const char* kSite = "https://site.example";
constexpr const char* kMe = "https://me.example/";
constexpr const char* kAuth = "https://auth.example/authorize";
constexpr const char* kMeta = "https://auth.example/.well-known/oauth-authorization-server";
constexpr const char* kIssuer = "https://auth.example/";

std::map<std::string, std::string> query_of(const std::string& url) {
    std::map<std::string, std::string> out;
    auto u = boost::urls::parse_uri(url);
    EXPECT_TRUE(u) << url;
    if (!u) return out;
    for (auto p : u->params()) out[p.key] = p.value;
    return out;
}

class IndieAuthFlow : public ::testing::Test {
protected:
    void SetUp() override {
        config.site_url = kSite;
        config.admin_me = "https://ME.example";  // canonicalised before comparing
        config.indielogin_url = "https://indielogin.example";
        auto m = storage::run_migrations(dir / "starpunk.db");
        ASSERT_TRUE(m) << m.error().message;
        storage::ConnectionPool::Options po;
        po.path = dir / "starpunk.db";
        po.size = 2;
        auto p = storage::ConnectionPool::open(po);
        ASSERT_TRUE(p) << p.error().message;
        pool = *p;
        client = std::make_unique<IndieAuthClient>(config, pool, http, clock);
    }

    void advertise_metadata() {
        http.on_get(kMe, {200, "<html><head></head></html>", {{"Link", std::string("<") + kMeta + ">; rel=\"indieauth-metadata\""}}});
        http.on_get(kMeta, {200,
                            std::string(R"({"issuer":")") + kIssuer + R"(","authorization_endpoint":")" + kAuth +
                                R"(","token_endpoint":"https://auth.example/token"})",
                            {}});
    }
    void redeem_answers(int status, std::string body) { http.on_post(kAuth, {status, std::move(body), {}}); }

    // Starts a login and returns the parameters of the authorization URL.
    std::map<std::string, std::string> begin_ok(const std::string& me = kMe) {
        auto url = client->begin(me);
        EXPECT_TRUE(url) << url.error().message;
        return url ? query_of(*url) : std::map<std::string, std::string>{};
    }

    std::string sql_text(const std::string& query) {
        auto lease = pool->acquire();
        auto stmt = (**lease).prepare(query);
        if (!stmt) return "<" + stmt.error().message + ">";
        auto row = (*stmt)->step();
        std::string out = row && *row ? (*stmt)->text(0) : std::string();
        (*stmt)->reset();
        return out;
    }
    int state_rows() { return std::stoi(sql_text("SELECT count(*) FROM auth_state")); }

    TempDir dir;
    config::Config config;
    FakeClock clock{starpunk::testing::test_epoch()};
    FakeHttpClient http;
    std::shared_ptr<storage::ConnectionPool> pool;
    std::unique_ptr<IndieAuthClient> client;
};

TEST_F(IndieAuthFlow, BeginBuildsTheAuthorizationUrlWithPkceS256) {
    advertise_metadata();
    auto url = client->begin("me.example");
    ASSERT_TRUE(url) << url.error().message;
    EXPECT_EQ(url->rfind(std::string(kAuth) + "?", 0), 0u) << *url;
    auto q = query_of(*url);
    EXPECT_EQ(q["response_type"], "code");
    EXPECT_EQ(q["client_id"], "https://site.example/");
    EXPECT_EQ(q["redirect_uri"], "https://site.example/auth/callback");
    EXPECT_EQ(q["code_challenge_method"], "S256");
    EXPECT_EQ(q["me"], kMe);
    EXPECT_GE(q["state"].size(), 22u);  // >= 128 bits, base64url
    EXPECT_NE(url->find("redirect_uri=https%3A%2F%2Fsite.example%2Fauth%2Fcallback"), std::string::npos) << *url;

    const std::string state = q["state"];
    const std::string verifier = sql_text("SELECT code_verifier FROM auth_state WHERE state = '" + state + "'");
    EXPECT_GE(verifier.size(), 43u);
    EXPECT_EQ(q["code_challenge"], base64url(sha256(verifier)));
    EXPECT_EQ(sql_text("SELECT expires_at FROM auth_state WHERE state = '" + state + "'"),
              format_db_time(clock.now() + 5min));
    EXPECT_EQ(sql_text("SELECT redirect_uri FROM auth_state WHERE state = '" + state + "'"),
              "https://site.example/auth/callback");

    auto again = begin_ok();
    EXPECT_NE(again["state"], state);  // fresh state and verifier every time
    EXPECT_NE(again["code_challenge"], q["code_challenge"]);
    EXPECT_EQ(state_rows(), 2);
}

TEST_F(IndieAuthFlow, BeginKeepsAnExistingQueryOnTheEndpoint) {
    http.on_get(kMe, {200, R"(<link rel="authorization_endpoint" href="https://auth.example/a?tenant=x#frag">)", {}});
    auto url = client->begin(kMe);
    ASSERT_TRUE(url) << url.error().message;
    EXPECT_EQ(url->rfind("https://auth.example/a?tenant=x&response_type=code&", 0), 0u) << *url;
    EXPECT_EQ(url->find('#'), std::string::npos);
}

TEST_F(IndieAuthFlow, BeginRefusesABadOrForeignMe) {
    advertise_metadata();
    auto bad = client->begin("not a url at all");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, ErrorCode::invalid_input);
    auto other = client->begin("https://someone-else.example/");
    ASSERT_FALSE(other);
    EXPECT_EQ(other.error().code, ErrorCode::conflict);
    EXPECT_EQ(state_rows(), 0);
    EXPECT_TRUE(http.requests().empty());  // nothing fetched for either
}

TEST_F(IndieAuthFlow, FallsBackToIndieLoginWhenNothingIsAdvertisedOrReachable) {
    http.on_get(kMe, {200, "<p>no links</p>", {}});
    auto q = begin_ok();
    EXPECT_FALSE(q.empty());
    auto url = client->begin(kMe);
    ASSERT_TRUE(url);
    EXPECT_EQ(url->rfind("https://indielogin.example/authorize?", 0), 0u) << *url;

    // Redeemed at INDIELOGIN_URL, whose issuer is "<INDIELOGIN_URL>/".
    http.on_post("https://indielogin.example/authorize", {200, R"({"me":"https://me.example/"})", {}});
    auto wrong_iss = client->complete("code", q["state"], std::string_view("https://evil.example/"));
    ASSERT_FALSE(wrong_iss);
    auto ok = client->complete("code", query_of(*url)["state"], std::string_view("https://indielogin.example/"));
    ASSERT_TRUE(ok) << ok.error().message;

    FakeHttpClient down;  // profile unreachable: same fallback
    IndieAuthClient offline(config, pool, down, clock);
    auto u2 = offline.begin(kMe);
    ASSERT_TRUE(u2) << u2.error().message;
    EXPECT_EQ(u2->rfind("https://indielogin.example/authorize?", 0), 0u) << *u2;
}

TEST_F(IndieAuthFlow, RefusesAnHttpEndpointUnlessAllowed) {
    http.on_get(kMe, {200, R"(<link rel="authorization_endpoint" href="http://auth.example/a">)", {}});
    auto url = client->begin(kMe);
    ASSERT_FALSE(url);
    EXPECT_EQ(url.error().code, ErrorCode::io);
    EXPECT_EQ(state_rows(), 0);
}

TEST_F(IndieAuthFlow, CompleteSucceedsAndRedeemsWithTheStoredVerifier) {
    advertise_metadata();
    redeem_answers(200, R"({"me":"https://me.example"})");
    auto q = begin_ok();
    const std::string verifier = sql_text("SELECT code_verifier FROM auth_state");
    auto me = client->complete("the-code", q["state"], std::string_view(kIssuer));
    ASSERT_TRUE(me) << me.error().message;
    EXPECT_EQ(*me, kMe);
    EXPECT_EQ(state_rows(), 0);

    const auto requests = http.requests();
    const auto& redeem = requests.back();
    EXPECT_EQ(redeem.method, net::Method::post);
    EXPECT_EQ(redeem.url, kAuth);
    const net::Fields want = {{"grant_type", "authorization_code"},
                              {"code", "the-code"},
                              {"client_id", "https://site.example/"},
                              {"redirect_uri", "https://site.example/auth/callback"},
                              {"code_verifier", verifier}};
    EXPECT_EQ(redeem.form, want);
    ASSERT_FALSE(redeem.headers.empty());
    EXPECT_EQ(redeem.headers[0], (std::pair<std::string, std::string>{"Accept", "application/json"}));
    EXPECT_EQ(q["code_challenge"], base64url(sha256(verifier)));
}

TEST_F(IndieAuthFlow, NextRidesWithTheStateAndComesBackOnlyOnSuccess) {
    advertise_metadata();
    redeem_answers(200, R"({"me":"https://me.example"})");
    auto url = client->begin(kMe, "/auth/authorize?client_id=x");
    ASSERT_TRUE(url);
    const auto q = query_of(*url);
    EXPECT_EQ(url->find("authorize%3Fclient_id"), std::string::npos);  // not sent to the outside server
    std::string next = "untouched";
    auto refused = client->complete("code", "unknown-state", std::string_view(kIssuer), &next);
    ASSERT_FALSE(refused);
    EXPECT_EQ(next, "untouched");
    auto me = client->complete("the-code", q.at("state"), std::string_view(kIssuer), &next);
    ASSERT_TRUE(me) << me.error().message;
    EXPECT_EQ(next, "/auth/authorize?client_id=x");
    // Without a next: empty.
    auto q2 = begin_ok();
    std::string none = "x";
    ASSERT_TRUE(client->complete("the-code", q2["state"], std::string_view(kIssuer), &none));
    EXPECT_EQ(none, "");
}

TEST_F(IndieAuthFlow, UnknownStateAndMissingValues) {
    advertise_metadata();
    redeem_answers(200, R"({"me":"https://me.example/"})");
    auto unknown = client->complete("code", "no-such-state", std::string_view(kIssuer));
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code, ErrorCode::invalid_input);
    auto q = begin_ok();
    EXPECT_EQ(client->complete("", q["state"], std::nullopt).error().code, ErrorCode::invalid_input);
    EXPECT_EQ(client->complete("code", "", std::nullopt).error().code, ErrorCode::invalid_input);
    EXPECT_EQ(http.count(net::Method::post, kAuth), 0u);
}

TEST_F(IndieAuthFlow, ExpiredStateIsRefusedAndGone) {
    advertise_metadata();
    redeem_answers(200, R"({"me":"https://me.example/"})");
    auto q = begin_ok();
    clock.advance(5min + 1s);
    auto r = client->complete("code", q["state"], std::string_view(kIssuer));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
    EXPECT_NE(r.error().message.find("expired"), std::string::npos) << r.error().message;
    EXPECT_EQ(state_rows(), 0);
    EXPECT_EQ(http.count(net::Method::post, kAuth), 0u);
}

TEST_F(IndieAuthFlow, ReplayedStateFails) {
    advertise_metadata();
    redeem_answers(200, R"({"me":"https://me.example/"})");
    auto q = begin_ok();
    ASSERT_TRUE(client->complete("code", q["state"], std::string_view(kIssuer)));
    auto replay = client->complete("code", q["state"], std::string_view(kIssuer));
    ASSERT_FALSE(replay);
    EXPECT_EQ(replay.error().code, ErrorCode::invalid_input);
    EXPECT_EQ(http.count(net::Method::post, kAuth), 1u);
}

TEST_F(IndieAuthFlow, FailedCallbackStillConsumesTheState) {
    advertise_metadata();
    redeem_answers(200, R"({"me":"https://me.example/"})");
    auto q = begin_ok();
    ASSERT_FALSE(client->complete("code", q["state"], std::string_view("https://wrong.example/")));
    auto retry = client->complete("code", q["state"], std::string_view(kIssuer));
    ASSERT_FALSE(retry);
    EXPECT_EQ(retry.error().code, ErrorCode::invalid_input);
}

TEST_F(IndieAuthFlow, IssuerMustMatchWhenAdvertised) {
    advertise_metadata();
    redeem_answers(200, R"({"me":"https://me.example/"})");
    auto mismatch = client->complete("code", begin_ok()["state"], std::string_view("https://auth.example"));
    ASSERT_FALSE(mismatch);
    EXPECT_EQ(mismatch.error().code, ErrorCode::invalid_input);
    auto missing = client->complete("code", begin_ok()["state"], std::nullopt);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ErrorCode::invalid_input);
    EXPECT_EQ(http.count(net::Method::post, kAuth), 0u);
}

TEST_F(IndieAuthFlow, NoIssuerKnownMeansIssIsNotRequired) {
    http.on_get(kMe, {200, std::string(R"(<link rel="authorization_endpoint" href=")") + kAuth + "\">", {}});
    redeem_answers(200, R"({"me":"https://me.example/"})");
    auto me = client->complete("code", begin_ok()["state"], std::nullopt);
    ASSERT_TRUE(me) << me.error().message;
}

TEST_F(IndieAuthFlow, MeMismatchIsAConflict) {
    advertise_metadata();
    redeem_answers(200, R"({"me":"https://impostor.example/"})");
    auto r = client->complete("code", begin_ok()["state"], std::string_view(kIssuer));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::conflict);
}

TEST_F(IndieAuthFlow, EndpointErrorsAreIo) {
    advertise_metadata();
    // Unreachable.
    http.on_post(kAuth, {0, "", {}, "", make_error(ErrorCode::io, "POST https://auth.example/authorize: timed out")});
    auto down = client->complete("code", begin_ok()["state"], std::string_view(kIssuer));
    ASSERT_FALSE(down);
    EXPECT_EQ(down.error().code, ErrorCode::io);
    // Refused.
    redeem_answers(400, R"({"error":"invalid_grant","error_description":"code expired"})");
    auto refused = client->complete("secret-code-123", begin_ok()["state"], std::string_view(kIssuer));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::io);
    EXPECT_NE(refused.error().message.find("invalid_grant"), std::string::npos) << refused.error().message;
    EXPECT_EQ(refused.error().message.find("secret-code-123"), std::string::npos);
    // Nonsense.
    for (const char* body : {"<html>", "{}", R"({"me":42})", R"({"me":"not a url"})"}) {
        redeem_answers(200, body);
        auto r = client->complete("code", begin_ok()["state"], std::string_view(kIssuer));
        ASSERT_FALSE(r) << body;
        EXPECT_EQ(r.error().code, ErrorCode::io) << body;
    }
}

TEST_F(IndieAuthFlow, ACallbackAfterARestartRediscoversTheEndpoint) {
    advertise_metadata();
    redeem_answers(200, R"({"me":"https://me.example/"})");
    auto q = begin_ok();
    IndieAuthClient restarted(config, pool, http, clock);  // no memory of the pending login
    auto me = restarted.complete("code", q["state"], std::string_view(kIssuer));
    ASSERT_TRUE(me) << me.error().message;
}

TEST_F(IndieAuthFlow, DiscoveryIsCachedAndCanBeShared) {
    advertise_metadata();
    auto shared = std::make_shared<EndpointCache>(clock);
    IndieAuthClient a(config, pool, http, clock, shared);
    ASSERT_TRUE(a.begin(kMe));
    ASSERT_TRUE(a.begin(kMe));
    EXPECT_EQ(http.count(net::Method::get, kMe), 1u);
    ASSERT_TRUE(shared->peek(kMe));
    EXPECT_EQ(shared->peek(kMe)->issuer, kIssuer);
}

TEST_F(IndieAuthFlow, PurgeExpired) {
    advertise_metadata();
    (void)begin_ok();
    (void)begin_ok();
    clock.advance(3min);
    (void)begin_ok();
    EXPECT_EQ(*client->purge_expired(), 0);
    clock.advance(2min + 1s);
    EXPECT_EQ(*client->purge_expired(), 2);
    EXPECT_EQ(state_rows(), 1);
}

TEST_F(IndieAuthFlow, DevModeWithoutAdminMeUsesDevAdminMe) {
    config.admin_me.clear();
    config.dev_mode = true;
    config.dev_admin_me = "http://127.0.0.1:8000/";
    http.on_get("http://127.0.0.1:8000/", {200, R"(<link rel="authorization_endpoint" href="/auth">)", {}});
    http.on_post("http://127.0.0.1:8000/auth", {200, R"({"me":"http://127.0.0.1:8000"})", {}});
    auto q = begin_ok("http://127.0.0.1:8000");
    auto me = client->complete("code", q["state"], std::nullopt);
    ASSERT_TRUE(me) << me.error().message;
    EXPECT_EQ(*me, "http://127.0.0.1:8000/");
}

TEST_F(IndieAuthFlow, NoAdminIdentityIsAnInternalError) {
    config.admin_me.clear();
    auto r = client->begin(kMe);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::internal);
}

}  // namespace
}  // namespace starpunk::auth
