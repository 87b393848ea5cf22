// The built-in IndieAuth server's state (issue 13): authorization codes and
// access tokens. The HTTP side is web/handlers/indieauth_*.cpp.
//
// Invariants:
//   1. Codes and tokens are 256 random bits, base64url; only their SHA-256
//      (hex) is stored (indieauth_codes, indieauth_tokens; migration 009). The
//      values themselves exist only in the client's hands and never appear in
//      logs (log::redact at most).
//   2. A code is bound to the client_id, redirect_uri and PKCE S256 challenge
//      of its authorization request, and lives `code_lifetime` (10 minutes).
//   3. Redemption deletes the code's row before checking anything (DELETE …
//      RETURNING): a code is spent by its first redemption, right or wrong,
//      so a replay — even after a failed attempt — finds nothing.
//   4. Redemption fails, issuing nothing, unless the code exists and is
//      unexpired, client_id and redirect_uri equal the bound ones exactly,
//      and BASE64URL(SHA-256(code_verifier)) equals the challenge.
//   5. A token carries the scopes granted at consent (never more), its client
//      and `me`, and expires after `token_lifetime`. Revocation deletes it;
//      an expired token is deleted when presented. find_token() answers only
//      for live tokens and records last use (at most once a minute).
//   6. Everything is checked against the database on every use: no cache, so
//      a revocation holds from the next request on.
//   7. Refresh tokens (RFC 6749 §6, IndieAuth §5.5) are rows of kind
//      "refresh" in the same table, stored hashed the same way, living
//      `refresh_lifetime`. Every token issued from one authorization code
//      shares a random `family`. find_token() never accepts a refresh token
//      as an access token, and refresh() never accepts an access token.
//   8. Rotation: a refresh spends its refresh token (used_at set, in the same
//      transaction that issues the new pair), so each refresh token works
//      once. Presenting a spent one again is a replay: the whole family —
//      every access and refresh token descended from that authorization — is
//      deleted, and nothing is issued.
//   9. A refresh may narrow the scope, never widen it: the new pair carries the
//      scopes asked for, each of which must be among the presented refresh
//      token's scopes (which never exceed the original grant). A refused
//      refresh (wrong client, wider scope) spends nothing.
//  10. Revoking a refresh token (by value or by id) deletes its family;
//      revoking an access token deletes that token only.
// Errors: invalid_input (with an OAuth-style description) for a refused
// redemption or refresh (OAuth invalid_grant); unsupported for a refresh that
// asks for a scope beyond the refresh token's (OAuth invalid_scope); io when
// the database fails.
// Thread-safety: all methods may be called concurrently (pooled connections).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/pool.hpp"
#include "util/clock.hpp"
#include "util/result.hpp"

namespace starpunk::indieauth {

// What the owner approved for one client.
struct Grant {
    std::string client_id;
    std::string redirect_uri;
    std::string code_challenge;
    std::vector<std::string> scopes;  // empty: identity only
    std::string me;
};

enum class TokenKind { access, refresh };

struct TokenRecord {
    int64_t id = 0;
    TokenKind kind = TokenKind::access;
    int64_t family = 0;  // 0: issued before refresh tokens existed (no family)
    std::string me;
    std::string client_id;
    std::vector<std::string> scopes;
    Timestamp issued_at{};
    Timestamp expires_at{};
    std::optional<Timestamp> last_used_at;
};

struct IssuedToken {
    std::string access_token;   // give it to the client, never log it
    TokenRecord record;
    std::string refresh_token;  // empty unless refreshable; never log it
    TokenRecord refresh_record;
};

class AuthorizationServer {
public:
    struct Options {
        std::string issuer;  // SITE_URL + "/"; sent as `iss`
        std::string me;      // canonical ADMIN_ME
        std::chrono::seconds code_lifetime{600};
        std::chrono::seconds token_lifetime{std::chrono::hours(24) * 30};
        std::chrono::seconds refresh_lifetime{std::chrono::hours(24) * 90};
    };

    AuthorizationServer(std::shared_ptr<storage::ConnectionPool> pool, const Clock& clock, Options options);

    // A new code for `grant` (invariants 1-2).
    Result<std::string> issue_code(const Grant& grant);
    // Spends `code` (invariant 3) and returns its grant if invariant 4 holds.
    Result<Grant> redeem_code(std::string_view code, std::string_view client_id, std::string_view redirect_uri,
                              std::string_view code_verifier);
    // A new access token for a redeemed grant (invariant 5); with
    // `refreshable`, also a refresh token, both in a new family (invariant 7).
    Result<IssuedToken> issue_token(const Grant& grant, bool refreshable = false);
    // The refresh_token grant (invariants 7-9): spends `refresh_token` and
    // returns a new access and refresh token of the same family, with
    // `scopes` when given (a subset, invariant 9) else the old token's scopes.
    Result<IssuedToken> refresh(std::string_view refresh_token, std::string_view client_id,
                                const std::optional<std::vector<std::string>>& scopes);
    // The live access token with this value, or nullopt (never a refresh token).
    Result<std::optional<TokenRecord>> find_token(std::string_view token);
    // Deletes the token (a refresh token: its family, invariant 10); true when
    // one was found.
    Result<bool> revoke(std::string_view token);
    // The live access tokens and unspent refresh tokens, newest first (for the
    // admin's list); at most `limit`.
    Result<std::vector<TokenRecord>> live_tokens(int limit = 500);
    // Deletes the token with this id (the admin's revoke button; a refresh
    // token: its family); true when found.
    Result<bool> revoke_id(int64_t id);
    // Deletes expired codes and tokens; returns how many rows went.
    Result<int> purge_expired();

    const Options& options() const { return options_; }

private:
    // Inserts one token row; `value` is the secret itself (only its hash is stored).
    Result<TokenRecord> insert_token(storage::Connection& c, std::string_view value, TokenKind kind, int64_t family,
                                     const std::string& client_id, const std::vector<std::string>& scopes,
                                     const std::string& me);
    // Issues an access token and, with `refreshable`, a refresh token on `c`.
    Result<IssuedToken> issue_on(storage::Connection& c, const std::string& client_id,
                                 const std::vector<std::string>& scopes, const std::string& me, int64_t family,
                                 bool refreshable);

    std::shared_ptr<storage::ConnectionPool> pool_;
    const Clock& clock_;
    Options options_;
};

}  // namespace starpunk::indieauth
