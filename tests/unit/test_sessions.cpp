// Session lifecycle (auth/sessions.hpp): creation, sliding expiry, the absolute
// cap, logout, purge, CSRF tokens bound to one session.
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
    auto s = store->create("https://me.example/", "Firefox", "127.0.0.1");
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
    auto a = store->create("https://me.example/", "", "");
    auto b = store->create("https://me.example/", "", "");
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_NE(a->token, b->token);
    EXPECT_TRUE(lookup(a->token));
    EXPECT_TRUE(lookup(b->token));
}

TEST_F(SessionsTest, UnknownOrMalformedTokensAreAnonymous) {
    ASSERT_TRUE(store->create("https://me.example/", "", "").ok());
    EXPECT_FALSE(lookup(""));
    EXPECT_FALSE(lookup("not a token"));
    EXPECT_FALSE(lookup(std::string(43, 'A')));
    EXPECT_FALSE(lookup(std::string(10000, 'A')));
}

TEST_F(SessionsTest, ExpiresAfterTheLifetimeWithoutUse) {
    auto s = store->create("https://me.example/", "", "");
    ASSERT_TRUE(s.ok());
    h.clock.advance(24h * 30 - 1s);
    EXPECT_TRUE(lookup(s->token));  // used: slides
    h.clock.advance(24h * 30 + 1s);
    EXPECT_FALSE(lookup(s->token));
    EXPECT_EQ(rows(), 0) << "an expired session presented is deleted";
}

TEST_F(SessionsTest, UseSlidesTheExpiryButNotPastTheAbsoluteCap) {
    auto s = store->create("https://me.example/", "", "");
    ASSERT_TRUE(s.ok());
    for (int day = 1; day < 90; ++day) {
        h.clock.advance(24h);
        ASSERT_TRUE(lookup(s->token)) << "day " << day;
    }
    h.clock.advance(24h);
    EXPECT_FALSE(lookup(s->token)) << "90 days after login the session ends however often it is used";
}

TEST_F(SessionsTest, DestroyEndsTheSession) {
    auto s = store->create("https://me.example/", "", "");
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE(store->destroy(s->token).ok());
    EXPECT_FALSE(lookup(s->token));
    EXPECT_TRUE(store->destroy(s->token).ok()) << "logging out twice is not an error";
}

TEST_F(SessionsTest, PurgeRemovesOnlyExpiredSessions) {
    auto old_one = store->create("https://me.example/", "", "");
    h.clock.advance(24h * 20);
    auto fresh = store->create("https://me.example/", "", "");
    h.clock.advance(24h * 15);
    auto purged = store->purge_expired();
    ASSERT_TRUE(purged.ok());
    EXPECT_EQ(*purged, 1);
    EXPECT_FALSE(lookup(old_one->token));
    EXPECT_TRUE(lookup(fresh->token));
}

TEST_F(SessionsTest, CsrfTokenIsBoundToOneSession) {
    auto a = store->create("https://me.example/", "", "");
    auto b = store->create("https://me.example/", "", "");
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
    auto s = store->create("https://me.example/", ua, "::1");
    ASSERT_TRUE(s.ok());
    auto lease = h.pool->acquire();
    auto st = (*lease)->prepare("SELECT user_agent FROM sessions");
    ASSERT_TRUE((*st)->step().value());
    EXPECT_EQ((*st)->text(0), std::string(255, 'a'));
    (*st)->reset();
}

}  // namespace
}  // namespace starpunk
