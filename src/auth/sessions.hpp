// Admin sessions (SPEC §4.1 step 8, §4.3).
//
// Session lifecycle invariants:
//   1. A session token is 256 random bits, base64url; only SHA-256(token), hex,
//      is stored (sessions.session_token_hash). The token itself exists only in
//      the browser's cookie, so a leaked database cannot be replayed.
//   2. Every login creates a new token; nothing reuses or extends an old one.
//   3. A session is valid while now < expires_at and now < created_at +
//      absolute_lifetime. expires_at slides to now + lifetime on use (written at
//      most once per `touch_interval`, so reading pages does not write on every
//      request) but never past the absolute cap.
//   4. An expired or unparseable session is deleted when it is presented, and
//      purge_expired() removes the rest. Logout deletes the row: the cookie is
//      worthless from then on, whatever the browser does with it.
//   5. The CSRF token is HMAC-SHA256(secret, "csrf\n" + token hash), base64url:
//      bound to one session, derivable without storing anything, and compared in
//      constant time.
//   6. A session is bound to the identity it was made for and to how it was
//      made (sessions.login_method): an IndieAuth or password session is live
//      only while its `me` equals Options::admin_me (canonical ADMIN_ME), a
//      password session also only until the password is set again or removed
//      (auth/password.hpp deletes them), a dev-login
//      session only while Options::dev_me is set (DEV_MODE on) and equals its
//      `me`. A session that fails this — DEV_MODE turned off, ADMIN_ME or
//      DEV_ADMIN_ME changed, or a row from before login_method existed — is
//      refused and deleted when presented, like an expired one: turning the
//      configuration back does not revive it.
// Errors: io when the database fails (callers fail closed: no session).
// Thread-safety: all methods may be called concurrently (pooled connections).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "storage/pool.hpp"
#include "util/clock.hpp"
#include "util/result.hpp"

namespace starpunk::auth {

// How a session was made.
enum class LoginMethod { indieauth, dev, password };

struct Session {
    int64_t id = 0;
    std::string me;
    LoginMethod method = LoginMethod::indieauth;
    std::string token_hash;  // hex SHA-256 of the cookie value
    Timestamp created_at{};
    Timestamp expires_at{};
};

struct NewSession {
    std::string token;  // the cookie value; give it to the browser, never log it
    Session session;
};

class SessionStore {
public:
    struct Options {
        std::chrono::hours lifetime{24 * 30};           // SESSION_LIFETIME days, sliding
        std::chrono::hours absolute_lifetime{24 * 90};  // hard cap from creation
        std::chrono::seconds touch_interval{60};
        std::string secret;  // SESSION_SECRET; keys the CSRF tokens
        // Invariant 6: who may hold a session now. Empty admin_me: no IndieAuth
        // session is live; empty dev_me (DEV_MODE off): no dev session is.
        std::string admin_me;  // canonical ADMIN_ME (DEV_ADMIN_ME in DEV_MODE without ADMIN_ME)
        std::string dev_me;    // the identity /dev/login grants, when DEV_MODE is on
    };

    SessionStore(std::shared_ptr<storage::ConnectionPool> pool, const Clock& clock, Options options);

    // A new session for `me`, made by `method`. user_agent/ip are kept for the
    // admin's information (truncated to 256 bytes).
    Result<NewSession> create(std::string_view me, LoginMethod method, std::string_view user_agent,
                              std::string_view ip);

    // The live session for a cookie value, or nullopt (unknown, expired,
    // malformed, or no longer allowed by the configuration: invariant 6).
    Result<std::optional<Session>> validate(std::string_view token);

    // Ends the session this token belongs to (no error when there is none).
    Status destroy(std::string_view token);

    // Deletes every expired session; returns how many.
    Result<int> purge_expired();

    // The CSRF token that belongs to `session` (compare with constant_time_equal).
    std::string csrf_token(const Session& session) const;

    const Options& options() const { return options_; }

private:
    std::shared_ptr<storage::ConnectionPool> pool_;
    const Clock& clock_;
    Options options_;
};

// "indieauth" / "dev" / "password": the stored form of a LoginMethod.
std::string_view login_method_name(LoginMethod method);

// The SHA-256 hex under which a token is stored.
std::string session_token_hash(std::string_view token);

}  // namespace starpunk::auth
