// Micropub access tokens (SPEC §5.1): where a request's token comes from, and
// whether the admin's token endpoint vouches for it.
//
// Invariants:
//   1. A token is presented exactly one way: `Authorization: Bearer <token>` or
//      the form field `access_token` (query string for GET, body for POST).
//      Both at once -> 400 invalid_request (RFC 6750 §2); neither -> 401.
//   2. Fail closed: a request is accepted only when the token endpoint answered
//      2xx with a JSON `me` whose canonical form equals canonical ADMIN_ME
//      (DEV_ADMIN_ME in DEV_MODE without ADMIN_ME). Anything else — endpoint
//      unknown, unreachable, 5xx, unreadable answer — refuses the request; it
//      is never "probably fine".
//   3. The token endpoint is TOKEN_ENDPOINT when set, else the one discovered
//      from ADMIN_ME through the shared auth::EndpointCache (one hour, the same
//      cache IndieAuth login uses).
//   4. Accepted tokens are cached, keyed by SHA-256(token) (the token itself is
//      never kept), for `ttl` (2 minutes): a revoked token keeps working for at
//      most that long. At most `max_entries`; when full, expired entries go
//      first, then the entry closest to expiry. Rejections — the endpoint's
//      401 or another identity's 403 — are cached apart, for `rejection_ttl`
//      (30 s), at most `max_rejections` of them (when full, expired ones go,
//      then all): a bad token sent again and again costs one endpoint call per
//      30 s, and a flood of bad tokens cannot evict good ones. A 503 (endpoint
//      unusable) is never cached.
//   5. The token never appears in a log line, error message or stored note:
//      logs show log::redact(token) (a short prefix) at most.
//   7. With the built-in IndieAuth server (indieauth/authorization_server.hpp)
//      a token is first looked up locally, on every request and never cached
//      (a revocation holds at once): a live token of its own is accepted with
//      its scopes, no outbound call made. A token it does not know goes to
//      TOKEN_ENDPOINT when one is set, else it is refused (401): the built-in
//      server is then the site's only token endpoint.
//   6. Outbound calls go through the HttpClient given, which in the server is
//      a net::CoalescingHttpClient: concurrent verifications of one token (and
//      discoveries of one profile) share one request, and when its limit of
//      threads is reached the request is refused at once — 503 with
//      Retry-After — rather than hold a worker.
//
// Failures (micropub/failure.hpp):
//   401 unauthorized             the endpoint rejected the token (4xx, `active:
//                                false`, an `error` member, or no `me`)
//   403 forbidden                it vouched for someone other than ADMIN_ME
//   503 temporarily_unavailable  no token endpoint known, ADMIN_ME unusable, the
//                                endpoint unreachable, 5xx or not JSON; or the
//                                outbound limit reached (Retry-After: 5)
// Scope is checked separately (require_scope) because queries need none.
//
// Thread-safety: verify() may be called concurrently; the caches have their
// own lock and the token endpoint is fetched without holding it (invariant 6
// says how concurrent misses for one token are shared).
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/discovery.hpp"
#include "config/config.hpp"
#include "indieauth/authorization_server.hpp"
#include "micropub/failure.hpp"
#include "net/http_client.hpp"
#include "util/clock.hpp"

namespace starpunk::micropub {

// What the token endpoint said about an accepted token.
struct TokenInfo {
    std::string me;         // canonical; equals canonical ADMIN_ME
    std::string client_id;  // as the endpoint sent it (may be empty)
    std::vector<std::string> scopes;

    bool has_scope(std::string_view scope) const;
    // `create`, or the legacy `post` that predates it.
    bool can_create() const { return has_scope("create") || has_scope("post"); }
};

// Picks the token out of the request (invariant 1). `authorization` is the
// Authorization header, if any: only the Bearer scheme (any case) carries a
// token; other schemes count as no token. `form_token` is the access_token
// field, if present. An empty token counts as none.
Outcome<std::string> extract_token(std::optional<std::string_view> authorization,
                                   std::optional<std::string_view> form_token);

// 403 insufficient_scope (with its WWW-Authenticate challenge) unless `info`
// carries `scope` (for "create", also the legacy "post").
std::optional<Failure> require_scope(const TokenInfo& info, std::string_view scope);

// The 401 for a request without a token.
Failure missing_token();

struct TokenVerifierOptions {
    std::chrono::seconds ttl{120};
    std::size_t max_entries = 256;
    std::chrono::seconds rejection_ttl{30};
    std::size_t max_rejections = 1024;
};

class TokenVerifier {
public:
    // `endpoints` is shared with the IndieAuth client when given; null -> own cache.
    TokenVerifier(const config::Config& config, net::HttpClient& http, const Clock& clock,
                  std::shared_ptr<auth::EndpointCache> endpoints = nullptr, TokenVerifierOptions options = {});

    // Invariant 7: tokens of the built-in server (null: none; it must outlive
    // the verifier). Set before the first verify().
    void set_local_server(indieauth::AuthorizationServer* server) { local_ = server; }

    // See the invariants and failures above.
    Outcome<TokenInfo> verify(std::string_view token);

    // Accepted / rejected tokens currently cached (fresh or not yet purged); for tests.
    std::size_t cached() const;
    std::size_t cached_rejections() const;
    void clear_cache();  // both

private:
    Outcome<std::string> token_endpoint();
    Outcome<std::string> admin_identity() const;
    // Remembers a rejection (invariant 4) and returns it.
    Failure rejected(const std::string& key, Failure failure);

    const config::Config& config_;
    net::HttpClient& http_;
    const Clock& clock_;
    std::shared_ptr<auth::EndpointCache> endpoints_;
    TokenVerifierOptions options_;
    indieauth::AuthorizationServer* local_ = nullptr;

    struct Entry {
        TokenInfo info;
        Timestamp expires;
    };
    struct Rejection {
        Failure failure;
        Timestamp expires;
    };
    mutable std::mutex mutex_;
    std::map<std::string, Entry, std::less<>> cache_;         // key: raw SHA-256 of the token
    std::map<std::string, Rejection, std::less<>> rejected_;  // the same key
};

}  // namespace starpunk::micropub
