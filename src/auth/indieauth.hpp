// The IndieAuth client side of admin login (SPEC §4.1): StarPunk sends the
// admin to their authorization endpoint and redeems the code that comes back.
//
// Login flow invariants:
//   1. `me` is canonicalised (IndieAuth profile-URL rules) before anything else;
//      the flow only ever succeeds for canonical(me) == canonical(ADMIN_ME).
//   2. The authorization endpoint is discovered from ADMIN_ME (HTTP Link header,
//      then <link rel="indieauth-metadata"> -> metadata JSON, then
//      <link rel="authorization_endpoint">); none found -> INDIELOGIN_URL's
//      /authorize with issuer "<INDIELOGIN_URL>/".
//   3. Every attempt stores a fresh `state` (>= 128 random bits) and PKCE
//      verifier in auth_state with a 5-minute expiry; the callback deletes the
//      state row before anything else (single use), so a replayed callback fails.
//   4. `iss`, when the server advertised an issuer, must equal it.
//   5. Secrets (code, state, verifier) appear in logs only as a short prefix.
//   6. The `next` given to begin() rides in the state's row (after_login,
//      migration 011) and comes back from complete() only with a success;
//      it is stored as given — the web layer keeps only safe values.
//
// Errors (all carry one clear, secret-free message for the login page):
//   invalid_input  -> the `me` is not a usable profile URL, or the callback is
//                     missing code/state, or the state is unknown/expired/used,
//                     or iss does not match;
//   conflict       -> begin() was given a `me` other than ADMIN_ME, or the
//                     authorization server vouched for a different `me` than
//                     ADMIN_ME (both logged at WARNING);
//   io             -> the database or an endpoint could not be reached, or the
//                     endpoint answered an error or nonsense (the message says
//                     which, without secrets; details go to the log);
//   internal       -> ADMIN_ME (DEV_ADMIN_ME in DEV_MODE) is unset or unusable;
//   busy           -> the outbound limit (net::CoalescingHttpClient) is reached:
//                     nothing was asked, try again in a few seconds (the state
//                     of a callback refused so is used up: log in again).
// Discovery failing (unreachable profile, no endpoint advertised) is not an
// error: the login falls back to INDIELOGIN_URL and says so in the log.
// Thread-safety: begin() and complete() may be called concurrently.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "auth/discovery.hpp"
#include "config/config.hpp"
#include "net/http_client.hpp"
#include "storage/pool.hpp"
#include "util/clock.hpp"
#include "util/result.hpp"

namespace starpunk::auth {

// Canonical profile URL: scheme and host lower-cased, empty path -> "/", no
// fragment, no userinfo, no "." or ".." segments; https only unless
// `allow_http` (which also admits ports and loopback/IP hosts). Input without
// a scheme ("example.com", "example.com:8443/") means https; any other scheme
// ("mailto:x@y", "javascript:void", "foo:bar") is refused, never read as a host.
// invalid_input with a message saying what is wrong.
Result<std::string> canonicalize_profile_url(std::string_view input, bool allow_http);

// The identity that may log in through IndieAuth: canonical ADMIN_ME, or
// canonical DEV_ADMIN_ME in DEV_MODE without ADMIN_ME. internal when neither
// is set or the value is not a usable profile URL.
Result<std::string> admin_identity(const config::Config& config);

class IndieAuthClient {
public:
    // `endpoints` may be shared with other users of discovery (Micropub token
    // verification); null -> the client keeps its own one-hour cache.
    IndieAuthClient(const config::Config& config, std::shared_ptr<storage::ConnectionPool> pool,
                    net::HttpClient& http, const Clock& clock, std::shared_ptr<EndpointCache> endpoints = nullptr);

    // Starts a login for `me`: discovers the endpoint, stores state + verifier
    // (and `next`, where the browser goes after the login, with the state; the
    // caller validates it — web/login_page.hpp safe_next), and returns the URL
    // to 302 the browser to.
    Result<std::string> begin(std::string_view me, std::string_view next = {});

    // Completes it from the callback's query values; returns the canonical `me`
    // (== canonical ADMIN_ME) on success, and sets `*next` (when given) to the
    // `next` stored by begin() — empty when none; only on success.
    Result<std::string> complete(std::string_view code, std::string_view state, std::optional<std::string_view> iss,
                                 std::string* next = nullptr);

    // Deletes expired auth_state rows; returns how many went.
    Result<int> purge_expired();

private:
    // The endpoints to use for ADMIN_ME: discovered (cached), else
    // INDIELOGIN_URL; busy when the outbound limit is reached.
    Result<Endpoints> endpoints_for(const std::string& admin);
    // Canonical ADMIN_ME (DEV_ADMIN_ME in DEV_MODE without ADMIN_ME).
    Result<std::string> admin_identity() const;

    const config::Config& config_;
    std::shared_ptr<storage::ConnectionPool> pool_;
    net::HttpClient& http_;
    const Clock& clock_;
    std::shared_ptr<EndpointCache> endpoints_;
    // The endpoints each pending state was sent to, so the callback redeems at
    // (and checks `iss` against) exactly that server. auth_state has no column
    // for them; after a restart the callback falls back to discovery.
    struct Pending {
        Endpoints endpoints;
        Timestamp expires;
    };
    std::mutex pending_mutex_;
    std::map<std::string, Pending, std::less<>> pending_;
};

}  // namespace starpunk::auth
