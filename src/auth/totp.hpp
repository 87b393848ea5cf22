// TOTP (RFC 6238) as an optional second factor of the owner's password login
// (issue 13). `starpunk set-totp` turns it on, `starpunk set-totp --remove`
// off; /auth/login then asks for the 6-digit code after a right password.
//
// Invariants:
//   1. The secret is 20 bytes (160 bits, RFC 4226 §4) from libsodium's
//      randombytes_buf, stored base32 in the one-row table owner_totp
//      (migration 011). It is shown once, by `starpunk set-totp`, and never
//      logged or put on a page.
//   2. Codes: HOTP (RFC 4226) with HMAC-SHA-1 over the 30-second step count
//      since the Unix epoch, 6 digits. A code is accepted for the current step
//      and one step either side (clock drift), compared in constant time.
//   3. A code is spent by its success: the matched step is recorded
//      (owner_totp.last_step, updated only upwards in one statement), and a
//      code for that step or an earlier one is refused — a code seen by
//      someone else cannot be replayed within its window.
//   4. Turning TOTP on or off ends every password session, like setting the
//      password (auth/password.hpp invariant 3).
//   5. Between the password and the code, the login holds a ticket: 256
//      random bits, in memory only, bound to the client address, living 5
//      minutes, good for at most 5 wrong codes. Only a right password makes
//      one (PendingSecondFactor::begin is called after the password check).
// Thread-safety: everything here may be called concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "storage/pool.hpp"
#include "util/clock.hpp"
#include "util/result.hpp"

namespace starpunk::auth {

inline constexpr std::chrono::seconds kTotpStep{30};
inline constexpr size_t kTotpSecretBytes = 20;

// RFC 4648 base32 (A-Z2-7) without padding.
std::string base32_encode(std::string_view bytes);
// Decodes base32, ignoring case, spaces and '=' padding; nullopt on any other
// character.
std::optional<std::string> base32_decode(std::string_view text);

// RFC 4226 HOTP with HMAC-SHA-1: `digits` (6..8) decimal digits, zero-padded.
std::string hotp(std::string_view key, uint64_t counter, int digits = 6);
// The RFC 6238 step count of `t` (floor(unix seconds / 30)).
int64_t totp_step(Timestamp t);

// The otpauth:// URI authenticator apps read (Key Uri Format): label
// "issuer:account", secret, issuer, SHA1, 6 digits, 30 s.
std::string otpauth_uri(std::string_view secret_base32, std::string_view issuer, std::string_view account);

class TotpStore {
public:
    TotpStore(std::shared_ptr<storage::ConnectionPool> pool, const Clock& clock);

    // A new secret (invariant 1), replacing any, ending password sessions
    // (invariant 4); returns it base32-encoded, for the owner's app.
    Result<std::string> enable();
    // Removes the secret, ends password sessions; no error when none is set.
    Status disable();
    // Whether a secret is set.
    Result<bool> is_enabled();
    // Invariants 2-3: true when `code` is right for a step within ±1 of now
    // and later than the last step accepted; that step is then spent.
    // False when wrong, replayed, malformed or TOTP is off.
    Result<bool> verify(std::string_view code);

private:
    Status replace(const std::optional<std::string>& secret_base32);

    std::shared_ptr<storage::ConnectionPool> pool_;
    const Clock& clock_;
};

// Invariant 5: logins waiting for their code.
class PendingSecondFactor {
public:
    static constexpr std::chrono::seconds kLifetime{300};
    static constexpr int kMaxWrongCodes = 5;
    static constexpr size_t kMaxPending = 1000;

    explicit PendingSecondFactor(const Clock& clock) : clock_(clock) {}

    // A ticket for `address`, whose password was right.
    Result<std::string> begin(std::string_view address);
    // Whether `ticket` is live and was made for `address`.
    bool valid(std::string_view ticket, std::string_view address);
    // Records a wrong code; the ticket goes after kMaxWrongCodes.
    void wrong_code(std::string_view ticket);
    // The ticket is used up (a right code).
    void finish(std::string_view ticket);

private:
    struct Entry {
        std::string address;
        Timestamp expires{};
        int wrong = 0;
    };
    const Clock& clock_;
    std::mutex mutex_;
    std::map<std::string, Entry, std::less<>> tickets_;
};

}  // namespace starpunk::auth
