// The owner's password (auth/password.hpp) and the login throttle
// (auth/login_throttle.hpp): Argon2id in storage, wrong passwords refused and
// slowed down per address and overall, password sessions ending when the
// password changes.
#include <gtest/gtest.h>

#include "auth/login_throttle.hpp"
#include "auth/password.hpp"
#include "auth/sessions.hpp"
#include "support/notes_harness.hpp"

namespace starpunk {
namespace {

using namespace std::chrono_literals;

TEST(PasswordHash, IsArgon2idAndVerifiesOnlyTheRightPassword) {
    auto hash = auth::hash_password("correct horse battery");
    ASSERT_TRUE(hash.ok()) << hash.error().message;
    EXPECT_TRUE(hash->starts_with("$argon2id$")) << *hash;
    EXPECT_EQ(hash->find("correct horse"), std::string::npos);
    EXPECT_TRUE(auth::verify_password(*hash, "correct horse battery"));
    EXPECT_FALSE(auth::verify_password(*hash, "correct horse batterY"));
    EXPECT_FALSE(auth::verify_password(*hash, ""));
    EXPECT_FALSE(auth::verify_password("not a hash", "correct horse battery"));
    // Salted: the same password hashes differently each time.
    auto again = auth::hash_password("correct horse battery");
    ASSERT_TRUE(again.ok());
    EXPECT_NE(*hash, *again);
}

TEST(PasswordHash, RulesRefuseShortLongAndMultiLinePasswords) {
    EXPECT_EQ(auth::hash_password("short").error().code, ErrorCode::invalid_input);
    EXPECT_EQ(auth::hash_password(std::string(auth::kMaxPasswordBytes + 1, 'x')).error().code, ErrorCode::invalid_input);
    EXPECT_EQ(auth::hash_password("two\nlines here").error().code, ErrorCode::invalid_input);
    EXPECT_TRUE(auth::check_password_rules(std::string(auth::kMinPasswordBytes, 'x')).ok());
}

struct PasswordStoreTest : ::testing::Test {
    testing::NotesHarness h;
    std::unique_ptr<auth::PasswordStore> store;
    std::unique_ptr<auth::SessionStore> sessions;

    void SetUp() override {
        ASSERT_EQ(h.start(), "");
        store = std::make_unique<auth::PasswordStore>(h.pool, h.clock);
        auth::SessionStore::Options o;
        o.secret = "test-secret-test-secret-test-secret";
        o.admin_me = "https://me.example/";
        sessions = std::make_unique<auth::SessionStore>(h.pool, h.clock, o);
    }

    std::string stored() {
        auto lease = h.pool->acquire();
        auto st = (*lease)->prepare("SELECT password_hash FROM owner_password");
        if (!(*st)->step().value()) return {};
        std::string v = (*st)->text(0);
        (*st)->reset();
        return v;
    }
};

TEST_F(PasswordStoreTest, StoresOnlyTheArgon2idHash) {
    ASSERT_TRUE(store->set("a long enough password").ok());
    std::string hash = stored();
    EXPECT_TRUE(hash.starts_with("$argon2id$")) << hash;
    EXPECT_EQ(hash.find("long enough"), std::string::npos);
    EXPECT_TRUE(store->check("a long enough password").value());
    EXPECT_FALSE(store->check("a long enough passwore").value());
}

TEST_F(PasswordStoreTest, NoPasswordSetRefusesEverything) {
    EXPECT_FALSE(store->is_set().value());
    EXPECT_FALSE(store->check("").value());
    EXPECT_FALSE(store->check("anything at all").value());
    ASSERT_TRUE(store->set("a long enough password").ok());
    ASSERT_TRUE(store->clear().ok());
    EXPECT_FALSE(store->is_set().value());
    EXPECT_FALSE(store->check("a long enough password").value());
}

TEST_F(PasswordStoreTest, SettingThePasswordEndsPasswordSessionsOnly) {
    ASSERT_TRUE(store->set("the first password").ok());
    auto by_password = sessions->create("https://me.example/", auth::LoginMethod::password, "", "");
    auto by_indieauth = sessions->create("https://me.example/", auth::LoginMethod::indieauth, "", "");
    ASSERT_TRUE(by_password.ok() && by_indieauth.ok());
    ASSERT_TRUE(sessions->validate(by_password->token).value().has_value());
    EXPECT_EQ(sessions->validate(by_password->token).value()->method, auth::LoginMethod::password);

    ASSERT_TRUE(store->set("the second password").ok());
    EXPECT_FALSE(sessions->validate(by_password->token).value().has_value());
    EXPECT_TRUE(sessions->validate(by_indieauth->token).value().has_value());
}

TEST_F(PasswordStoreTest, PasswordSessionsAreBoundToAdminMe) {
    auto s = sessions->create("https://someone-else.example/", auth::LoginMethod::password, "", "");
    ASSERT_TRUE(s.ok());
    EXPECT_FALSE(sessions->validate(s->token).value().has_value());
}

TEST_F(PasswordStoreTest, AttemptsAreThrottledAndRefusalsNotHeard) {
    ASSERT_TRUE(store->set("the right password").ok());
    auth::LoginThrottle throttle(h.clock);
    using O = auth::PasswordAttempt::Outcome;
    auto first = auth::attempt_password_login(*store, throttle, "192.0.2.1", "wrong password 1");
    EXPECT_EQ(first->outcome, O::refused);
    // Right away, even the right password is not heard from that address.
    auto hurried = auth::attempt_password_login(*store, throttle, "192.0.2.1", "the right password");
    EXPECT_EQ(hurried->outcome, O::throttled);
    EXPECT_EQ(hurried->retry_after, 1s);
    // Another address is not slowed by it (below the overall allowance).
    EXPECT_EQ(auth::attempt_password_login(*store, throttle, "192.0.2.2", "the right password")->outcome, O::accepted);
    h.clock.advance(1s);
    EXPECT_EQ(auth::attempt_password_login(*store, throttle, "192.0.2.1", "the right password")->outcome, O::accepted);
    // Success forgot the address's failures.
    EXPECT_EQ(throttle.wait("192.0.2.1"), 0s);
}

TEST(LoginThrottle, DelayDoublesPerFailureUpToTheCap) {
    FakeClock clock(Timestamp{} + 1000h);
    auth::LoginThrottle::Options o;
    o.base = 1s;
    o.max_delay = 60s;
    o.global_allowance = 1000;
    auth::LoginThrottle t(clock, o);
    EXPECT_EQ(t.wait("a"), 0s);
    std::vector<std::chrono::seconds> waits;
    for (int i = 0; i < 8; ++i) {
        t.failed("a");
        waits.push_back(t.wait("a"));
        clock.advance(waits.back());
    }
    EXPECT_EQ(waits, (std::vector<std::chrono::seconds>{1s, 2s, 4s, 8s, 16s, 32s, 60s, 60s}));
    EXPECT_EQ(t.wait("b"), 0s);
}

TEST(LoginThrottle, OverallFailuresSlowEveryAddressAfterTheAllowance) {
    FakeClock clock(Timestamp{} + 1000h);
    auth::LoginThrottle::Options o;
    o.global_allowance = 3;
    o.global_max_delay = 10s;
    auth::LoginThrottle t(clock, o);
    t.failed("a");
    t.failed("b");
    t.failed("c");
    EXPECT_EQ(t.wait("fresh"), 0s);  // three free failures
    t.failed("d");
    EXPECT_EQ(t.wait("fresh"), 1s);
    t.failed("e");
    EXPECT_EQ(t.wait("fresh"), 2s);
    for (int i = 0; i < 10; ++i) t.failed("x" + std::to_string(i));
    EXPECT_EQ(t.wait("fresh"), 10s);  // capped
    EXPECT_EQ(t.overall_failures(), 15);
}

TEST(LoginThrottle, ForgetsAfterAQuietPeriodAndBoundsItsMemory) {
    FakeClock clock(Timestamp{} + 1000h);
    auth::LoginThrottle::Options o;
    o.forget_after = 60s;
    o.max_addresses = 2;
    o.global_allowance = 1000;
    auth::LoginThrottle t(clock, o);
    for (int i = 0; i < 5; ++i) t.failed("a");
    EXPECT_GT(t.wait("a"), 0s);
    clock.advance(60s);
    EXPECT_EQ(t.wait("a"), 0s);
    EXPECT_EQ(t.failed("a"), 1);  // counting starts again
    clock.advance(1s);
    t.failed("b");
    clock.advance(1s);
    t.failed("c");  // evicts "a", the oldest
    EXPECT_EQ(t.failed("a"), 1);
}

}  // namespace
}  // namespace starpunk
