// Session lifecycle (auth/sessions.hpp): creation, sliding expiry, the absolute
// cap, logout, purge, CSRF tokens bound to one session, and sessions bound to
// the configuration they were made under.
#include <gtest/gtest.h>

#include "auth/sessions.hpp"
#include "support/notes_harness.hpp"
#include "util/crypto.hpp"

namespace starpunk {
namespace {

using namespace std::chrono_literals;

struct SessionsTest : ::testing::Test {
    testing::NotesHarness h;
    std::unique_ptr<auth::SessionStore> store;

    void SetUp() override {
        ASSERT_EQ(h.start(), "");
        auth::SessionStore::Options o;
        o.lifetime = 24h * 30;
        o.absolute_lifetime = 24h * 90;
        o.touch_interval = 60s;
        o.secret = "test-secret-test-secret-test-secret";
        o.admin_me = "https://me.example/";
        store = std::make_unique<auth::SessionStore>(h.pool, h.clock, o);
    }

    std::optional<auth::Session> lookup(const std::string& token) {
        auto s = store->validate(token);
        EXPECT_TRUE(s.ok());
        return s.ok() ? *s : std::nullopt;
    }

    int64_t rows() {
        auto lease = h.pool->acquire();
        auto st = (*lease)->prepare("SELECT COUNT(*) FROM sessions");
        (void)(*st)->step();
        int64_t n = (*st)->integer(0);
        (*st)->reset();
        return n;
    }
};

TEST_F(SessionsTest, CreatedSessionValidatesAndStoresOnlyTheHash) {
    auto s = store->create("https://me.example/", auth::LoginMethod::indieauth, "Firefox", "127.0.0.1");
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->token.size(), 43u);  // 256 bits, base64url
    auto found = lookup(s->token);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->me, "https://me.example/");

    auto lease = h.pool->acquire();
    auto st = (*lease)->prepare("SELECT session_token_hash FROM sessions");
    ASSERT_TRUE((*st)->step().value());
    std::string stored = (*st)->text(0);
    (*st)->reset();
    EXPECT_NE(stored, s->token);
    EXPECT_EQ(stored, sha256_hex(s->token));
}

TEST_F(SessionsTest, EveryLoginGetsANewToken) {
    auto a = store->create("https://me.example/", auth::LoginMethod::indieauth, "", "");
    auto b = store->create("https://me.example/", auth::LoginMethod::indieauth, "", "");
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_NE(a->token, b->token);
    EXPECT_TRUE(lookup(a->token));
    EXPECT_TRUE(lookup(b->token));
}

TEST_F(SessionsTest, UnknownOrMalformedTokensAreAnonymous) {
    ASSERT_TRUE(store->create("https://me.example/", auth::LoginMethod::indieauth, "", "").ok());
    EXPECT_FALSE(lookup(""));
    EXPECT_FALSE(lookup("not a token"));
    EXPECT_FALSE(lookup(std::string(43, 'A')));
    EXPECT_FALSE(lookup(std::string(10000, 'A')));
}

TEST_F(SessionsTest, ExpiresAfterTheLifetimeWithoutUse) {
    auto s = store->create("https://me.example/", auth::LoginMethod::indieauth, "", "");
    ASSERT_TRUE(s.ok());
    h.clock.advance(24h * 30 - 1s);
    EXPECT_TRUE(lookup(s->token));  // used: slides
    h.clock.advance(24h * 30 + 1s);
    EXPECT_FALSE(lookup(s->token));
    EXPECT_EQ(rows(), 0) << "an expired session presented is deleted";
}

TEST_F(SessionsTest, UseSlidesTheExpiryButNotPastTheAbsoluteCap) {
    auto s = store->create("https://me.example/", auth::LoginMethod::indieauth, "", "");
    ASSERT_TRUE(s.ok());
    for (int day = 1; day < 90; ++day) {
        h.clock.advance(24h);
        ASSERT_TRUE(lookup(s->token)) << "day " << day;
    }
    h.clock.advance(24h);
    EXPECT_FALSE(lookup(s->token)) << "90 days after login the session ends however often it is used";
}

TEST_F(SessionsTest, DestroyEndsTheSession) {
    auto s = store->create("https://me.example/", auth::LoginMethod::indieauth, "", "");
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE(store->destroy(s->token).ok());
    EXPECT_FALSE(lookup(s->token));
    EXPECT_TRUE(store->destroy(s->token).ok()) << "logging out twice is not an error";
}

TEST_F(SessionsTest, PurgeRemovesOnlyExpiredSessions) {
    auto old_one = store->create("https://me.example/", auth::LoginMethod::indieauth, "", "");
    h.clock.advance(24h * 20);
    auto fresh = store->create("https://me.example/", auth::LoginMethod::indieauth, "", "");
    h.clock.advance(24h * 15);
    auto purged = store->purge_expired();
    ASSERT_TRUE(purged.ok());
    EXPECT_EQ(*purged, 1);
    EXPECT_FALSE(lookup(old_one->token));
    EXPECT_TRUE(lookup(fresh->token));
}

TEST_F(SessionsTest, CsrfTokenIsBoundToOneSession) {
    auto a = store->create("https://me.example/", auth::LoginMethod::indieauth, "", "");
    auto b = store->create("https://me.example/", auth::LoginMethod::indieauth, "", "");
    auto sa = lookup(a->token);
    auto sb = lookup(b->token);
    ASSERT_TRUE(sa && sb);
    EXPECT_EQ(store->csrf_token(*sa), store->csrf_token(*sa)) << "stable for the session";
    EXPECT_NE(store->csrf_token(*sa), store->csrf_token(*sb));
    EXPECT_GE(store->csrf_token(*sa).size(), 43u);

    auth::SessionStore::Options other = store->options();
    other.secret = "another-secret-another-secret-another";
    auth::SessionStore other_store(h.pool, h.clock, other);
    EXPECT_NE(other_store.csrf_token(*sa), store->csrf_token(*sa)) << "keyed by SESSION_SECRET";
}

TEST_F(SessionsTest, ClientInfoIsClippedOnACharacterBoundary) {
    std::string ua(255, 'a');
    ua += "\xC3\xA9\xC3\xA9";  // é crosses the 256-byte limit
    auto s = store->create("https://me.example/", auth::LoginMethod::indieauth, ua, "::1");
    ASSERT_TRUE(s.ok());
    auto lease = h.pool->acquire();
    auto st = (*lease)->prepare("SELECT user_agent FROM sessions");
    ASSERT_TRUE((*st)->step().value());
    EXPECT_EQ((*st)->text(0), std::string(255, 'a'));
    (*st)->reset();
}

// ---- Invariant 6 (issue 12: a /dev/login session still reached /admin/ after
// a restart with DEV_MODE off and another ADMIN_ME) ---------------------------

struct BoundSessionsTest : SessionsTest {
    // The store as a restart with other settings would build it.
    std::unique_ptr<auth::SessionStore> restarted(std::string admin_me, std::string dev_me) {
        auth::SessionStore::Options o = store->options();
        o.admin_me = std::move(admin_me);
        o.dev_me = std::move(dev_me);
        return std::make_unique<auth::SessionStore>(h.pool, h.clock, o);
    }
    std::string method_of_the_only_row() { return h.sql_text("SELECT login_method FROM sessions"); }
};

TEST_F(BoundSessionsTest, TheLoginMethodIsStored) {
    ASSERT_TRUE(store->create("https://me.example/", auth::LoginMethod::indieauth, "", ""));
    EXPECT_EQ(method_of_the_only_row(), "indieauth");
    ASSERT_EQ(h.sql("DELETE FROM sessions"), "");
    auto dev = restarted("https://me.example/", "https://me.example/");
    auto s = dev->create("https://me.example/", auth::LoginMethod::dev, "", "");
    ASSERT_TRUE(s);
    EXPECT_EQ(method_of_the_only_row(), "dev");
    auto found = dev->validate(s->token);
    ASSERT_TRUE(found && *found);
    EXPECT_EQ((*found)->method, auth::LoginMethod::dev);
}

TEST_F(BoundSessionsTest, ADevSessionEndsWhenDevModeIsTurnedOff) {
    auto dev = restarted("https://me.example/", "https://me.example/");
    auto s = dev->create("https://me.example/", auth::LoginMethod::dev, "", "");
    ASSERT_TRUE(s);
    EXPECT_TRUE(*dev->validate(s->token));
    auto prod = restarted("https://me.example/", "");
    EXPECT_FALSE(*prod->validate(s->token)) << "same me, but made by /dev/login";
    EXPECT_EQ(rows(), 0) << "a refused session is deleted";
    EXPECT_FALSE(*dev->validate(s->token)) << "turning DEV_MODE back on does not revive it";
}

TEST_F(BoundSessionsTest, ADevSessionEndsWhenDevAdminMeChanges) {
    auto dev = restarted("https://me.example/", "http://dev.example/");
    auto s = dev->create("http://dev.example/", auth::LoginMethod::dev, "", "");
    ASSERT_TRUE(s);
    EXPECT_FALSE(*restarted("https://me.example/", "http://other-dev.example/")->validate(s->token));
}

TEST_F(BoundSessionsTest, AnIndieAuthSessionEndsWhenAdminMeChanges) {
    auto s = store->create("https://me.example/", auth::LoginMethod::indieauth, "", "");
    ASSERT_TRUE(s);
    EXPECT_TRUE(*restarted("https://me.example/", "https://dev.example/")->validate(s->token))
        << "DEV_MODE does not matter to an IndieAuth session";
    EXPECT_FALSE(*restarted("https://someone-else.example/", "")->validate(s->token));
    EXPECT_EQ(rows(), 0);
    EXPECT_FALSE(*store->validate(s->token));
}

TEST_F(BoundSessionsTest, NoAdminIdentityMeansNoIndieAuthSession) {
    auto s = store->create("https://me.example/", auth::LoginMethod::indieauth, "", "");
    ASSERT_TRUE(s);
    EXPECT_FALSE(*restarted("", "")->validate(s->token));
}

TEST_F(BoundSessionsTest, SessionsFromBeforeTheLoginMethodAreRefused) {
    auto s = store->create("https://me.example/", auth::LoginMethod::indieauth, "", "");
    ASSERT_TRUE(s);
    ASSERT_EQ(h.sql("UPDATE sessions SET login_method = NULL"), "");
    EXPECT_FALSE(*store->validate(s->token));
    EXPECT_EQ(rows(), 0);
    auto t = store->create("https://me.example/", auth::LoginMethod::indieauth, "", "");
    ASSERT_TRUE(t);
    ASSERT_EQ(h.sql("UPDATE sessions SET login_method = 'webauthn'"), "");
    EXPECT_FALSE(*store->validate(t->token)) << "an unknown method is refused";
}

}  // namespace
}  // namespace starpunk
