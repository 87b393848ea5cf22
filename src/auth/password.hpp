// The owner's password (issue 13): login without a third party.
//
// Invariants:
//   1. Only an Argon2id hash (libsodium crypto_pwhash_str, its "$argon2id$…"
//      encoded string with salt and cost parameters) is stored, in the
//      one-row table owner_password (migration 008). The password itself is
//      never stored, logged or put in an error message.
//   2. The password reaches StarPunk from a terminal without echo or from
//      standard input (`starpunk set-password`), never from argv.
//   3. Setting (or removing) the password ends every session made with a
//      password, in the same transaction: a leaked old password buys nothing.
//   4. Checking costs the same whether or not a password is set: without one,
//      the attempt is verified against a dummy hash and fails, so neither the
//      answer nor its timing tells whether a password exists.
// Thread-safety: everything here may be called concurrently.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "storage/pool.hpp"
#include "util/clock.hpp"
#include "util/result.hpp"

namespace starpunk::auth {

inline constexpr size_t kMinPasswordBytes = 10;
inline constexpr size_t kMaxPasswordBytes = 1024;

// invalid_input (saying what to fix) unless kMinPasswordBytes <= size <=
// kMaxPasswordBytes and the password has no NUL or line break.
Status check_password_rules(std::string_view password);

// An Argon2id encoded hash of `password` (interactive cost: 2 passes, 64 MiB).
// invalid_input when check_password_rules fails; internal when libsodium
// cannot work (out of memory).
Result<std::string> hash_password(std::string_view password);

// True when `password` matches the encoded hash (constant time in libsodium).
// False for a malformed hash.
bool verify_password(std::string_view encoded_hash, std::string_view password);

class PasswordStore {
public:
    PasswordStore(std::shared_ptr<storage::ConnectionPool> pool, const Clock& clock);

    // Stores the hash of `password` (replacing any), ends password sessions.
    Status set(std::string_view password);
    // Removes the password, ends password sessions; no error when none is set.
    Status clear();
    // Invariant 4: true only when a password is set and `password` matches it.
    // io when the database fails (the caller refuses the login).
    Result<bool> check(std::string_view password);
    // Whether a password is set (for `starpunk` commands, never for pages).
    Result<bool> is_set();

private:
    Result<std::optional<std::string>> stored_hash();
    Status replace(const std::optional<std::string>& hash);

    std::shared_ptr<storage::ConnectionPool> pool_;
    const Clock& clock_;
};

}  // namespace starpunk::auth

#include "auth/login_throttle.hpp"

namespace starpunk::auth {

// One password login attempt from `address` (the client's IP), throttled
// (auth/login_throttle.hpp). A refusal is logged with the address and the
// failure counts, never with the password. A right password forgets the
// address's failures only when it is the last factor (`last_factor`); with a
// second factor still to come (auth/totp.hpp) they stay, so wrong codes keep
// adding up across password re-entries. io when the database fails.
struct PasswordAttempt {
    enum class Outcome { accepted, refused, throttled } outcome = Outcome::refused;
    std::chrono::seconds retry_after{0};  // throttled: how long to wait
};
Result<PasswordAttempt> attempt_password_login(PasswordStore& store, LoginThrottle& throttle, std::string_view address,
                                               std::string_view password, bool last_factor = true);

}  // namespace starpunk::auth
