// TOTP (auth/totp.hpp): RFC 4226 and RFC 6238 test vectors, base32, the
// store (±1 step, no replay, on/off ends password sessions), the tickets
// between password and code, and the throttle staying armed across a right
// password while a code is still to come.
#include <gtest/gtest.h>

#include "auth/login_throttle.hpp"
#include "auth/password.hpp"
#include "auth/sessions.hpp"
#include "auth/totp.hpp"
#include "support/notes_harness.hpp"
#include "support/secrets.hpp"

namespace starpunk {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kRfcKey = "12345678901234567890";  // RFC 4226 / 6238 SHA-1 seed

Timestamp at(int64_t unix_seconds) { return Timestamp{std::chrono::seconds(unix_seconds)}; }

TEST(Totp, Rfc4226HotpVectors) {
    const char* expected[] = {"755224", "287082", "359152", "969429", "338314",
                              "254676", "287922", "162583", "399871", "520489"};
    for (uint64_t i = 0; i < 10; ++i) EXPECT_EQ(auth::hotp(kRfcKey, i), expected[i]) << i;
}

TEST(Totp, Rfc6238Sha1Vectors) {
    // RFC 6238 Appendix B, the SHA-1 rows (8 digits).
    const std::pair<int64_t, const char*> rows[] = {{59, "94287082"},         {1111111109, "07081804"},
                                                    {1111111111, "14050471"}, {1234567890, "89005924"},
                                                    {2000000000, "69279037"}, {20000000000, "65353130"}};
    for (const auto& [t, code] : rows) {
        EXPECT_EQ(auth::hotp(kRfcKey, static_cast<uint64_t>(auth::totp_step(at(t))), 8), code) << t;
    }
    EXPECT_EQ(auth::totp_step(at(59)), 1);
    EXPECT_EQ(auth::totp_step(at(60)), 2);
}

TEST(Totp, Base32RoundTripsAndRefusesOtherCharacters) {
    EXPECT_EQ(auth::base32_encode("foobar"), "MZXW6YTBOI");  // RFC 4648 §10 (unpadded)
    EXPECT_EQ(auth::base32_encode(kRfcKey), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    EXPECT_EQ(auth::base32_decode("mzxw6ytboi======").value(), "foobar");
    EXPECT_EQ(auth::base32_decode("GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ").value(), kRfcKey);
    EXPECT_FALSE(auth::base32_decode("MZXW1"));  // '1' is not base32
}

TEST(Totp, OtpauthUriNamesIssuerAccountAndSecret) {
    EXPECT_EQ(auth::otpauth_uri("ABC", "My Site", "https://me.example/"),
              "otpauth://totp/My%20Site:https%3A%2F%2Fme.example%2F?secret=ABC&issuer=My%20Site&algorithm=SHA1&digits=6&"
              "period=30");
}

struct TotpStoreTest : ::testing::Test {
    testing::NotesHarness h;
    std::unique_ptr<auth::TotpStore> store;

    void SetUp() override {
        ASSERT_EQ(h.start(), "");
        store = std::make_unique<auth::TotpStore>(h.pool, h.clock);
    }
    std::string code_at(const std::string& secret, int64_t step_offset) {
        return auth::hotp(auth::base32_decode(secret).value(),
                          static_cast<uint64_t>(auth::totp_step(h.clock.now()) + step_offset));
    }
};

TEST_F(TotpStoreTest, OffUntilEnabledAndOffAgainAfterDisable) {
    EXPECT_FALSE(store->is_enabled().value());
    EXPECT_FALSE(store->verify("123456").value());
    auto secret = store->enable();
    ASSERT_TRUE(secret);
    EXPECT_EQ(auth::base32_decode(*secret)->size(), auth::kTotpSecretBytes);
    EXPECT_TRUE(store->is_enabled().value());
    auto other = store->enable();  // a new secret each time
    EXPECT_NE(*other, *secret);
    ASSERT_TRUE(store->disable().ok());
    EXPECT_FALSE(store->is_enabled().value());
    EXPECT_FALSE(store->verify(code_at(*other, 0)).value());
}

TEST_F(TotpStoreTest, AcceptsOneStepEitherSideAndNeverTheSameCodeTwice) {
    auto secret = store->enable().value();
    EXPECT_FALSE(store->verify(code_at(secret, -2)).value());
    EXPECT_FALSE(store->verify(code_at(secret, 2)).value());
    EXPECT_TRUE(store->verify(code_at(secret, -1)).value());
    EXPECT_FALSE(store->verify(code_at(secret, -1)).value());  // replayed
    const std::string now_code = code_at(secret, 0);
    EXPECT_TRUE(store->verify(now_code).value());
    EXPECT_FALSE(store->verify(now_code).value());              // replayed within its window
    EXPECT_FALSE(store->verify(code_at(secret, -1)).value());  // an older step after a newer one
    h.clock.advance(30s);
    EXPECT_FALSE(store->verify(now_code).value());  // still inside ±1, but spent
    EXPECT_TRUE(store->verify(code_at(secret, 0)).value());
    for (std::string bad : {"", "12345", "1234567", "12345a", " 123456"}) EXPECT_FALSE(store->verify(bad).value()) << bad;
}

TEST_F(TotpStoreTest, TurningOnOrOffEndsPasswordSessions) {
    auth::SessionStore::Options o;
    o.secret = "test-secret-test-secret-test-secret";
    o.admin_me = "https://me.example/";
    auth::SessionStore sessions(h.pool, h.clock, o);
    auto before = sessions.create("https://me.example/", auth::LoginMethod::password, "", "");
    auto other = sessions.create("https://me.example/", auth::LoginMethod::indieauth, "", "");
    ASSERT_TRUE(store->enable());
    EXPECT_FALSE(sessions.validate(before->token).value().has_value());
    EXPECT_TRUE(sessions.validate(other->token).value().has_value());
    auto during = sessions.create("https://me.example/", auth::LoginMethod::password, "", "");
    ASSERT_TRUE(store->disable().ok());
    EXPECT_FALSE(sessions.validate(during->token).value().has_value());
}

TEST(PendingSecondFactor, TicketsAreBoundToTheAddressExpireAndAllowFiveWrongCodes) {
    FakeClock clock(Timestamp{std::chrono::seconds(1'700'000'000)});
    auth::PendingSecondFactor pending(clock);
    auto t = pending.begin("192.0.2.1").value();
    EXPECT_EQ(t.size(), 43u);
    EXPECT_TRUE(pending.valid(t, "192.0.2.1"));
    EXPECT_FALSE(pending.valid(t, "192.0.2.2"));
    EXPECT_FALSE(pending.valid(testing::with_first_char_changed(t), "192.0.2.1"));
    for (int i = 0; i < auth::PendingSecondFactor::kMaxWrongCodes - 1; ++i) pending.wrong_code(t);
    EXPECT_TRUE(pending.valid(t, "192.0.2.1"));
    pending.wrong_code(t);
    EXPECT_FALSE(pending.valid(t, "192.0.2.1"));

    auto late = pending.begin("192.0.2.1").value();
    clock.advance(auth::PendingSecondFactor::kLifetime);
    EXPECT_FALSE(pending.valid(late, "192.0.2.1"));
    auto done = pending.begin("192.0.2.1").value();
    pending.finish(done);
    EXPECT_FALSE(pending.valid(done, "192.0.2.1"));
}

TEST(PasswordAttemptWithSecondFactor, ARightPasswordDoesNotForgetFailuresWhileACodeIsToCome) {
    testing::NotesHarness h;
    ASSERT_EQ(h.start(), "");
    auth::PasswordStore store(h.pool, h.clock);
    ASSERT_TRUE(store.set("the right password").ok());
    auth::LoginThrottle throttle(h.clock);
    using O = auth::PasswordAttempt::Outcome;
    throttle.failed("192.0.2.1");  // e.g. a wrong code
    h.clock.advance(1s);
    EXPECT_EQ(auth::attempt_password_login(store, throttle, "192.0.2.1", "the right password", false)->outcome,
              O::accepted);
    throttle.failed("192.0.2.1");  // the second wrong code waits 2 s: the first was not forgotten
    EXPECT_EQ(throttle.wait("192.0.2.1"), 2s);
}

}  // namespace
}  // namespace starpunk
