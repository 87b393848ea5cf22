// The built-in IndieAuth server (indieauth/): PKCE S256, the authorization
// request rules, client pages and redirect_uri rules, codes (single use,
// expiry, binding), tokens (scopes, expiry, revocation), and Micropub
// accepting its tokens without an outbound call.
#include <gtest/gtest.h>

#include "http/form.hpp"
#include "indieauth/authorization_request.hpp"
#include "indieauth/authorization_server.hpp"
#include "indieauth/client.hpp"
#include "indieauth/pkce.hpp"
#include "micropub/token_verifier.hpp"
#include "support/fake_http_client.hpp"
#include "support/notes_harness.hpp"
#include "util/crypto.hpp"
#include "support/secrets.hpp"

namespace starpunk::indieauth {
namespace {

using namespace std::chrono_literals;

// RFC 7636 Appendix B.
constexpr std::string_view kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr std::string_view kChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

TEST(Pkce, S256MatchesTheRfcExample) {
    EXPECT_EQ(s256_challenge(kVerifier), kChallenge);
    EXPECT_TRUE(verify_s256(kVerifier, kChallenge));
}

TEST(Pkce, WrongShortLongOrOddVerifiersFail) {
    std::string wrong(kVerifier);
    wrong[0] = 'e';
    EXPECT_FALSE(verify_s256(wrong, kChallenge));
    EXPECT_FALSE(verify_s256("short", s256_challenge("short")));       // < 43 characters
    std::string long_one(129, 'a');
    EXPECT_FALSE(verify_s256(long_one, s256_challenge(long_one)));    // > 128
    std::string odd = std::string(43, 'a') + "+";
    EXPECT_FALSE(verify_s256(odd, s256_challenge(odd)));              // '+' is not unreserved
    // plain PKCE would compare the verifier itself: never accepted.
    EXPECT_FALSE(verify_s256(kVerifier, kVerifier));
}

http::FormData good_request(std::string scope = "create update") {
    http::FormData f;
    f.add("response_type", "code");
    f.add("client_id", "https://app.example/");
    f.add("redirect_uri", "https://app.example/callback");
    f.add("state", "xyz");
    f.add("code_challenge", std::string(kChallenge));
    f.add("code_challenge_method", "S256");
    f.add("scope", scope);
    return f;
}

http::FormData replaced(const http::FormData& base, std::string_view name, std::optional<std::string> value) {
    http::FormData out;
    for (const auto& [k, v] : base.items()) {
        if (k != name) out.add(k, v);
    }
    if (value) out.add(std::string(name), *value);
    return out;
}

TEST(AuthorizationRequest, AValidRequestKeepsKnownScopesInOrder) {
    auto p = parse_authorization_request(good_request("update create bogus create profile"), false);
    ASSERT_TRUE(p.request) << p.error.description;
    EXPECT_EQ(p.request->scopes, (std::vector<std::string>{"update", "create", "profile"}));
    EXPECT_EQ(p.request->ignored_scopes, (std::vector<std::string>{"bogus"}));
    EXPECT_EQ(p.request->client_id, "https://app.example/");
    EXPECT_EQ(p.request->code_challenge, kChallenge);
}

TEST(AuthorizationRequest, ClientIdAndRedirectUriErrorsNeverRedirect) {
    const auto base = good_request();
    for (std::string bad : {"", "app.example", "ftp://app.example/", "https://app.example", "https://u:p@app.example/",
                            "https://app.example/#x", "https://app.example/a/../b", "https://10.0.0.1/",
                            "http://app.example/", "https://127.0.0.1/", "https://app.example:8443/"}) {
        auto p = parse_authorization_request(replaced(base, "client_id", bad), false);
        EXPECT_FALSE(p.request) << bad;
        EXPECT_FALSE(p.error.redirect) << bad;
    }
    for (std::string bad : {"", "/callback", "javascript:alert(1)", "https://app.example/cb#frag", "http://app.example/cb"}) {
        auto p = parse_authorization_request(replaced(base, "redirect_uri", bad), false);
        EXPECT_FALSE(p.request) << bad;
        EXPECT_FALSE(p.error.redirect) << bad;
    }
}

TEST(AuthorizationRequest, LoopbackAndHttpOnlyWhenAllowed) {
    auto local = replaced(replaced(good_request(), "client_id", "http://127.0.0.1:9000/"), "redirect_uri",
                          "http://127.0.0.1:9000/cb");
    EXPECT_FALSE(parse_authorization_request(local, false).request);
    EXPECT_TRUE(parse_authorization_request(local, true).request);
    // Other IP addresses never, even when http is allowed.
    EXPECT_FALSE(parse_authorization_request(replaced(good_request(), "client_id", "http://192.168.1.2/"), true).request);
}

TEST(AuthorizationRequest, LaterErrorsGoBackToTheClient) {
    const auto base = good_request();
    struct Case {
        const char* name;
        std::optional<std::string> value;
        const char* error;
    };
    for (const Case& c : {Case{"response_type", "token", "unsupported_response_type"},
                          Case{"state", std::nullopt, "invalid_request"},
                          Case{"code_challenge", std::nullopt, "invalid_request"},
                          Case{"code_challenge_method", "plain", "invalid_request"},
                          Case{"code_challenge_method", std::nullopt, "invalid_request"},
                          Case{"code_challenge", "too-short", "invalid_request"},
                          Case{"scope", std::string(2000, 'a'), "invalid_scope"}}) {
        auto p = parse_authorization_request(replaced(base, c.name, c.value), false);
        EXPECT_FALSE(p.request) << c.name;
        EXPECT_TRUE(p.error.redirect) << c.name;
        EXPECT_EQ(p.error.error, c.error) << c.name;
        EXPECT_EQ(p.redirect_uri, "https://app.example/callback");
    }
}

TEST(AuthorizationRequest, NoScopeAsksForIdentityOnly) {
    auto p = parse_authorization_request(replaced(good_request(), "scope", std::nullopt), false);
    ASSERT_TRUE(p.request);
    EXPECT_TRUE(p.request->scopes.empty());
}

TEST(WithQuery, EncodesSoFormDecodingGivesTheValuesBack) {
    auto uri = with_query("https://app.example/cb?x=1#frag", {{"state", "a+b&c=d e"}, {"iss", "https://me.example/"}});
    EXPECT_EQ(uri, "https://app.example/cb?x=1&state=a%2Bb%26c%3Dd%20e&iss=https%3A%2F%2Fme.example%2F");
    auto q = http::parse_urlencoded(uri.substr(uri.find('?') + 1));
    ASSERT_TRUE(q);
    EXPECT_EQ(q->get("state"), "a+b&c=d e");
}

// Found by fuzz_authorization_request: a redirect_uri whose query ends with
// '?' ("?c?") got "state=" glued to it ("c?state=xyz"), so the client could
// not find its state.
TEST(WithQuery, KeepsEveryParameterWhateverTheQueryEndsWith) {
    EXPECT_EQ(with_query("https://app.example/cb", {{"state", "s"}}), "https://app.example/cb?state=s");
    EXPECT_EQ(with_query("https://app.example/cb?", {{"state", "s"}}), "https://app.example/cb?state=s");
    EXPECT_EQ(with_query("https://app.example/cb?x=1&", {{"state", "s"}}), "https://app.example/cb?x=1&state=s");
    for (std::string_view base : {"https://app.example?c?", "https://app.example/cb?a=b?", "https://app.example/cb??"}) {
        auto uri = with_query(base, {{"state", "xyz"}, {"code", "c"}});
        auto q = http::parse_urlencoded(uri.substr(uri.find('?') + 1));
        ASSERT_TRUE(q) << uri;
        EXPECT_EQ(q->get("state"), "xyz") << uri;
        EXPECT_EQ(q->get("code"), "c") << uri;
    }
}

net::HttpResponse answer(std::string type, std::string body, net::Fields headers = {}) {
    net::HttpResponse r;
    r.status = 200;
    r.headers.add("Content-Type", std::move(type));
    for (auto& [n, v] : headers) r.headers.add(n, v);
    r.body = std::move(body);
    r.final_url = "https://app.example/";
    return r;
}

TEST(Client, MetadataDocumentCountsOnlyForItsOwnClientId) {
    auto doc = answer("application/json", R"({"client_id":"https://app.example/","client_name":"App",
        "logo_uri":"/logo.png","redirect_uris":["https://other.example/cb"]})");
    auto info = read_client("https://app.example/", doc);
    EXPECT_EQ(info.name, "App");
    EXPECT_EQ(info.logo, "https://app.example/logo.png");
    EXPECT_EQ(info.redirect_uris, (std::vector<std::string>{"https://other.example/cb"}));
    auto impostor = read_client("https://app.example/",
                                answer("application/json", R"({"client_id":"https://evil.example/","redirect_uris":["https://evil.example/cb"]})"));
    EXPECT_TRUE(impostor.redirect_uris.empty());
}

TEST(Client, HtmlRedirectUriLinksFromHeaderAndBody) {
    auto page = answer("text/html", R"(<link rel="redirect_uri" href="https://other.example/cb">)",
                       {{"Link", "<https://third.example/cb>; rel=\"redirect_uri\""}});
    auto info = read_client("https://app.example/", page);
    EXPECT_EQ(info.redirect_uris, (std::vector<std::string>{"https://third.example/cb", "https://other.example/cb"}));
}

TEST(Client, HtmlHAppGivesNameAndLogo) {
    auto page = answer("text/html", R"(<!doctype html><title>Not this</title>
        <div class="h-card"><span class="p-name">Someone else</span></div>
        <div class="h-app"><img class="u-logo" src="/logo.png" alt="">
          <a class="u-url p-name" href="/">  Quill
            Editor </a></div>)");
    auto info = read_client("https://app.example/", page);
    EXPECT_EQ(info.name, "Quill Editor");
    EXPECT_EQ(info.logo, "https://app.example/logo.png");

    // The legacy h-x-app; a logo as <a href>; <base> respected; a nested item's
    // name is not the app's.
    auto legacy = read_client("https://app.example/", answer("text/html", R"(<base href="https://cdn.example/x/">
        <section class="h-x-app"><div class="p-author h-card"><span class="p-name">Author</span></div>
        <a class="u-logo" href="l.svg">logo</a><h1 class="p-name">Legacy <b>App</b></h1></section>)"));
    EXPECT_EQ(legacy.name, "Legacy App");
    EXPECT_EQ(legacy.logo, "https://cdn.example/x/l.svg");

    // No p-name: the h-app's own text. A javascript: or data: logo is dropped.
    auto implied = read_client("https://app.example/", answer("text/html",
        R"x(<p class="h-app">Plain <img class="u-logo" src="javascript:alert(1)" alt="app"></p>)x"));
    EXPECT_EQ(implied.name, "Plain app");
    EXPECT_EQ(implied.logo, "");
    auto data_logo = read_client("https://app.example/", answer("text/html",
        R"(<div class="h-app"><img class="u-logo" src="data:image/png;base64,AAAA"><span class="p-name">D</span></div>)"));
    EXPECT_EQ(data_logo.logo, "");
    EXPECT_EQ(data_logo.name, "D");

    // No h-app at all: nothing (the consent page shows the host).
    auto bare = read_client("https://app.example/", answer("text/html", "<title>App</title><p class=\"p-name\">x</p>"));
    EXPECT_EQ(bare.name, "");
    EXPECT_EQ(bare.logo, "");
    // A very long name is cut at a character boundary.
    std::string long_name;
    for (int i = 0; i < 150; ++i) long_name += "\xc3\xa9";  // é, 2 bytes each
    auto cut = read_client("https://app.example/",
                           answer("text/html", "<div class=\"h-app\"><span class=\"p-name\">" + long_name + "</span></div>"));
    EXPECT_EQ(cut.name.size(), 200u);
    EXPECT_EQ(cut.name, long_name.substr(0, 200));
}

TEST(Client, RedirectUriSameOriginOrListed) {
    ClientInfo none;
    EXPECT_EQ(redirect_uri_refusal("https://app.example/", "https://app.example/cb?x=1", none), "");
    EXPECT_NE(redirect_uri_refusal("https://app.example/", "https://app.example:444/cb", none), "");
    EXPECT_NE(redirect_uri_refusal("https://app.example/", "http://app.example/cb", none), "");
    EXPECT_NE(redirect_uri_refusal("https://app.example/", "https://sub.app.example/cb", none), "");
    ClientInfo listed;
    listed.redirect_uris = {"https://other.example/cb"};
    EXPECT_EQ(redirect_uri_refusal("https://app.example/", "https://other.example/cb", listed), "");
    EXPECT_NE(redirect_uri_refusal("https://app.example/", "https://other.example/cb2", listed), "");
}

TEST(Client, FetchFailureIsAnError) {
    testing::FakeHttpClient http;
    auto r = fetch_client(http, "https://unknown.example/");
    EXPECT_FALSE(r);
    http.on_get("https://gone.example/", {404, "", {}});
    EXPECT_FALSE(fetch_client(http, "https://gone.example/"));
}

struct ServerTest : ::testing::Test {
    testing::NotesHarness h;
    std::unique_ptr<AuthorizationServer> server;

    void SetUp() override {
        ASSERT_EQ(h.start(), "");
        AuthorizationServer::Options o;
        o.issuer = "https://me.example/";
        o.me = "https://me.example/";
        o.token_lifetime = 24h;
        server = std::make_unique<AuthorizationServer>(h.pool, h.clock, o);
    }

    Grant grant(std::vector<std::string> scopes = {"create"}) {
        return Grant{"https://app.example/", "https://app.example/cb", std::string(kChallenge), std::move(scopes),
                     "https://me.example/"};
    }
    Result<Grant> redeem(const std::string& code, std::string_view verifier = kVerifier,
                         std::string_view client = "https://app.example/", std::string_view redirect = "https://app.example/cb") {
        return server->redeem_code(code, client, redirect, verifier);
    }
    int64_t count(const char* table) {
        auto lease = h.pool->acquire();
        auto st = (*lease)->prepare(std::string("SELECT COUNT(*) FROM ") + table);
        (void)(*st)->step();
        int64_t n = (*st)->integer(0);
        (*st)->reset();
        return n;
    }
    std::string stored(const std::string& sql) {
        auto lease = h.pool->acquire();
        auto st = (*lease)->prepare(sql);
        if (!(*st)->step().value()) return {};
        std::string v = (*st)->text(0);
        (*st)->reset();
        return v;
    }
};

TEST_F(ServerTest, CodeIsStoredHashedAndRedeemsOnce) {
    auto code = server->issue_code(grant({"create", "update"}));
    ASSERT_TRUE(code);
    EXPECT_EQ(stored("SELECT code_hash FROM indieauth_codes"), sha256_hex(*code));
    auto g = redeem(*code);
    ASSERT_TRUE(g) << g.error().message;
    EXPECT_EQ(g->scopes, (std::vector<std::string>{"create", "update"}));
    EXPECT_EQ(g->me, "https://me.example/");
    auto again = redeem(*code);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ErrorCode::invalid_input);
}

TEST_F(ServerTest, AFailedRedemptionSpendsTheCode) {
    auto code = server->issue_code(grant());
    ASSERT_TRUE(code);
    std::string wrong(kVerifier);
    wrong.back() = 'x';
    EXPECT_FALSE(redeem(*code, wrong));
    EXPECT_FALSE(redeem(*code));  // the right verifier is too late
    EXPECT_EQ(count("indieauth_codes"), 0);
}

TEST_F(ServerTest, CodeIsBoundToClientRedirectAndChallenge) {
    auto c1 = server->issue_code(grant());
    EXPECT_NE(redeem(*c1, kVerifier, "https://other.example/").error().message.find("client_id"), std::string::npos);
    auto c2 = server->issue_code(grant());
    EXPECT_NE(redeem(*c2, kVerifier, "https://app.example/", "https://app.example/other").error().message.find("redirect_uri"),
              std::string::npos);
    auto c3 = server->issue_code(grant());
    EXPECT_NE(redeem(*c3, "").error().message.find("code_verifier"), std::string::npos);
    auto c4 = server->issue_code(grant());
    EXPECT_TRUE(redeem(*c4));
}

TEST_F(ServerTest, CodeExpiresAfterTenMinutes) {
    auto late = server->issue_code(grant());
    auto in_time = server->issue_code(grant());
    h.clock.advance(599s);
    EXPECT_TRUE(redeem(*in_time));
    h.clock.advance(1s);
    EXPECT_FALSE(redeem(*late));
}

TEST_F(ServerTest, TokensAreHashedScopedExpireAndRevoke) {
    auto issued = server->issue_token(grant({"create", "media"}));
    ASSERT_TRUE(issued);
    EXPECT_EQ(stored("SELECT token_hash FROM indieauth_tokens"), sha256_hex(issued->access_token));
    auto found = server->find_token(issued->access_token);
    ASSERT_TRUE(found && *found);
    EXPECT_EQ((*found)->scopes, (std::vector<std::string>{"create", "media"}));
    EXPECT_EQ((*found)->client_id, "https://app.example/");
    EXPECT_FALSE(server->find_token(testing::with_first_char_changed(issued->access_token)).value());

    EXPECT_TRUE(server->revoke(issued->access_token).value());
    EXPECT_FALSE(server->find_token(issued->access_token).value());
    EXPECT_FALSE(server->revoke(issued->access_token).value());

    auto expiring = server->issue_token(grant());
    h.clock.advance(24h);
    EXPECT_FALSE(server->find_token(expiring->access_token).value());
    EXPECT_EQ(count("indieauth_tokens"), 0);  // deleted when presented
}

TEST_F(ServerTest, LiveTokensListNewestFirstAndRevokeById) {
    auto a = server->issue_token(grant({"create"}));
    auto b = server->issue_token(grant({"media"}));
    auto list = server->live_tokens();
    ASSERT_TRUE(list);
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ((*list)[0].id, b->record.id);
    EXPECT_EQ((*list)[1].scopes, (std::vector<std::string>{"create"}));
    EXPECT_TRUE(server->revoke_id(a->record.id).value());
    EXPECT_FALSE(server->revoke_id(a->record.id).value());
    EXPECT_FALSE(server->find_token(a->access_token).value());
    EXPECT_TRUE(server->find_token(b->access_token).value());
    h.clock.advance(24h);
    EXPECT_TRUE(server->live_tokens()->empty());
}

TEST_F(ServerTest, PurgeRemovesExpiredCodesAndTokens) {
    (void)server->issue_code(grant());
    (void)server->issue_token(grant());
    EXPECT_EQ(server->purge_expired().value(), 0);
    h.clock.advance(25h);
    EXPECT_EQ(server->purge_expired().value(), 2);
}

TEST_F(ServerTest, RefreshRotatesAndIsStoredHashed) {
    auto first = server->issue_token(grant({"create", "media"}), true);
    ASSERT_TRUE(first);
    ASSERT_FALSE(first->refresh_token.empty());
    EXPECT_NE(first->refresh_token, first->access_token);
    EXPECT_EQ(first->refresh_record.family, first->record.family);
    EXPECT_NE(first->record.family, 0);
    EXPECT_EQ(stored("SELECT kind FROM indieauth_tokens WHERE token_hash = '" + sha256_hex(first->refresh_token) + "'"),
              "refresh");
    EXPECT_EQ(stored("SELECT COUNT(*) FROM indieauth_tokens WHERE token_hash = '" + first->refresh_token + "'"), "0");
    // A refresh token is not an access token, and an access token does not refresh.
    EXPECT_FALSE(server->find_token(first->refresh_token).value());
    auto wrong_kind = server->refresh(first->access_token, "https://app.example/", std::nullopt);
    ASSERT_FALSE(wrong_kind);
    EXPECT_EQ(wrong_kind.error().code, ErrorCode::invalid_input);

    h.clock.advance(1h);
    auto second = server->refresh(first->refresh_token, "https://app.example/", std::nullopt);
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(second->record.scopes, (std::vector<std::string>{"create", "media"}));
    EXPECT_EQ(second->record.family, first->record.family);
    EXPECT_NE(second->refresh_token, first->refresh_token);
    EXPECT_EQ(second->record.expires_at, h.clock.now() + 24h);
    EXPECT_EQ(second->refresh_record.expires_at, h.clock.now() + std::chrono::hours(24) * 90);
    EXPECT_TRUE(server->find_token(second->access_token).value());
    // The old access token lives on until it expires or is revoked.
    EXPECT_TRUE(server->find_token(first->access_token).value());
    // The new refresh token works once more.
    auto third = server->refresh(second->refresh_token, "https://app.example/", std::nullopt);
    ASSERT_TRUE(third) << third.error().message;
}

TEST_F(ServerTest, ReplayedRefreshTokenRevokesTheFamily) {
    auto first = server->issue_token(grant({"create"}), true);
    auto other = server->issue_token(grant({"create"}), true);  // another authorization: untouched
    auto second = server->refresh(first->refresh_token, "https://app.example/", std::nullopt);
    ASSERT_TRUE(second);
    auto replay = server->refresh(first->refresh_token, "https://app.example/", std::nullopt);
    ASSERT_FALSE(replay);
    EXPECT_EQ(replay.error().code, ErrorCode::invalid_input);
    EXPECT_NE(replay.error().message.find("already used"), std::string::npos);
    EXPECT_FALSE(server->find_token(first->access_token).value());
    EXPECT_FALSE(server->find_token(second->access_token).value());
    EXPECT_FALSE(server->refresh(second->refresh_token, "https://app.example/", std::nullopt));
    EXPECT_TRUE(server->find_token(other->access_token).value());
    EXPECT_TRUE(server->refresh(other->refresh_token, "https://app.example/", std::nullopt));
}

TEST_F(ServerTest, RefreshNarrowsNeverWidensAndRefusalsSpendNothing) {
    auto first = server->issue_token(grant({"create", "update"}), true);
    auto wide = server->refresh(first->refresh_token, "https://app.example/", std::vector<std::string>{"create", "delete"});
    ASSERT_FALSE(wide);
    EXPECT_EQ(wide.error().code, ErrorCode::unsupported);
    auto stranger = server->refresh(first->refresh_token, "https://evil.example/", std::nullopt);
    ASSERT_FALSE(stranger);
    EXPECT_EQ(stranger.error().code, ErrorCode::invalid_input);
    // Neither refusal spent the token.
    auto narrow = server->refresh(first->refresh_token, "https://app.example/", std::vector<std::string>{"update"});
    ASSERT_TRUE(narrow) << narrow.error().message;
    EXPECT_EQ(narrow->record.scopes, (std::vector<std::string>{"update"}));
    EXPECT_EQ(narrow->refresh_record.scopes, (std::vector<std::string>{"update"}));
    // Narrowed for good: "create" cannot come back through the new token.
    auto back = server->refresh(narrow->refresh_token, "https://app.example/", std::vector<std::string>{"create"});
    ASSERT_FALSE(back);
    EXPECT_EQ(back.error().code, ErrorCode::unsupported);
}

TEST_F(ServerTest, RefreshTokenExpiresAndRevocationTakesTheFamily) {
    auto first = server->issue_token(grant({"create"}), true);
    auto second = server->refresh(first->refresh_token, "https://app.example/", std::nullopt);
    ASSERT_TRUE(second);
    // Revoking the access token leaves the refresh token.
    EXPECT_TRUE(server->revoke(second->access_token).value());
    EXPECT_TRUE(server->find_token(first->access_token).value());
    // Revoking the refresh token takes every token of the family.
    EXPECT_TRUE(server->revoke(second->refresh_token).value());
    EXPECT_FALSE(server->find_token(first->access_token).value());
    EXPECT_EQ(count("indieauth_tokens"), 0);

    auto late = server->issue_token(grant({"create"}), true);
    h.clock.advance(std::chrono::hours(24) * 90);
    EXPECT_FALSE(server->refresh(late->refresh_token, "https://app.example/", std::nullopt));
}

TEST_F(ServerTest, LiveTokensShowRefreshTokensAndRevokeIdTakesTheFamily) {
    auto first = server->issue_token(grant({"create"}), true);
    auto second = server->refresh(first->refresh_token, "https://app.example/", std::nullopt);
    auto list = server->live_tokens().value();
    // Two access tokens and the one unspent refresh token.
    ASSERT_EQ(list.size(), 3u);
    EXPECT_EQ(list[0].id, second->refresh_record.id);
    EXPECT_EQ(list[0].kind, TokenKind::refresh);
    EXPECT_EQ(list[1].kind, TokenKind::access);
    EXPECT_TRUE(server->revoke_id(list[0].id).value());
    EXPECT_TRUE(server->live_tokens()->empty());
    EXPECT_FALSE(server->find_token(second->access_token).value());
}

TEST_F(ServerTest, MicropubAcceptsItsOwnTokensWithoutAnOutboundCall) {
    config::Config c;
    c.admin_me = "https://me.example/";
    testing::FakeHttpClient http;  // answers nothing: any outbound call would fail
    micropub::TokenVerifier verifier(c, http, h.clock);
    verifier.set_local_server(server.get());
    auto issued = server->issue_token(grant({"create"}));
    auto ok = verifier.verify(issued->access_token);
    ASSERT_TRUE(ok) << ok.failure().description;
    EXPECT_TRUE(ok->can_create());
    EXPECT_EQ(ok->client_id, "https://app.example/");
    // Unknown and revoked tokens: 401 at once, still without asking anyone.
    EXPECT_EQ(verifier.verify("not-one-of-ours-0123456789").failure().status, 401);
    ASSERT_TRUE(server->revoke(issued->access_token).value());
    EXPECT_EQ(verifier.verify(issued->access_token).failure().status, 401);
    EXPECT_TRUE(http.requests().empty());
}

TEST_F(ServerTest, MicropubStillAsksTokenEndpointForTokensItDoesNotKnow) {
    config::Config c;
    c.admin_me = "https://me.example/";
    c.token_endpoint = "https://tokens.example/token";
    testing::FakeHttpClient http;
    http.on_get(c.token_endpoint, {200, R"({"me":"https://me.example/","scope":"create"})", {{"Content-Type", "application/json"}}});
    micropub::TokenVerifier verifier(c, http, h.clock);
    verifier.set_local_server(server.get());
    EXPECT_TRUE(verifier.verify("an-outside-token-0123456789"));
    EXPECT_EQ(http.requests().size(), 1u);
}

}  // namespace
}  // namespace starpunk::indieauth
