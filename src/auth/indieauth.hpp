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
//
// Errors (all carry one clear, secret-free message for the login page):
//   invalid_input  -> the `me` is not a usable profile URL, or the callback is
//                     missing code/state, or the state is unknown/expired/used,
//                     or iss does not match;
//   conflict       -> the authorization server vouched for a different `me`
//                     than ADMIN_ME (logged at WARNING);
//   io             -> an endpoint could not be reached or answered nonsense.
// Thread-safety: begin() and complete() may be called concurrently.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "net/http_client.hpp"
#include "storage/pool.hpp"
#include "util/clock.hpp"
#include "util/result.hpp"

namespace starpunk::auth {

// Canonical profile URL: scheme and host lower-cased, empty path -> "/", no
// fragment, no userinfo, no "." or ".." segments; https only unless
// `allow_http` (which also admits ports and loopback/IP hosts).
// invalid_input with a message saying what is wrong.
Result<std::string> canonicalize_profile_url(std::string_view input, bool allow_http);

class IndieAuthClient {
public:
    IndieAuthClient(const config::Config& config, std::shared_ptr<storage::ConnectionPool> pool,
                    net::HttpClient& http, const Clock& clock);

    // Starts a login for `me`: discovers the endpoint, stores state + verifier,
    // and returns the URL to 302 the browser to.
    Result<std::string> begin(std::string_view me);

    // Completes it from the callback's query values; returns the canonical `me`
    // (== canonical ADMIN_ME) on success.
    Result<std::string> complete(std::string_view code, std::string_view state, std::optional<std::string_view> iss);

    // Deletes expired auth_state rows; returns how many went.
    Result<int> purge_expired();

private:
    const config::Config& config_;
    std::shared_ptr<storage::ConnectionPool> pool_;
    net::HttpClient& http_;
    const Clock& clock_;
};

}  // namespace starpunk::auth
