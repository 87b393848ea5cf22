// The built-in IndieAuth server's authorization request (IndieAuth 2022-02
// §5.2, RFC 6749 §4.1.1, RFC 7636): what GET /auth/authorize and the consent
// form carry, parsed and checked. Pure, thread-safe; fuzzed
// (fuzz/fuzz_authorization_request.cpp).
//
// Rules:
//   1. client_id (IndieAuth §3.2): an http(s) URL with a path, no fragment,
//      no userinfo, no "." or ".." segments; the host a domain name, or the
//      loopback 127.0.0.1 / [::1]. http, ports and loopback only when
//      `allow_http` (ALLOW_HTTP_ENDPOINTS / DEV_MODE); otherwise https with a
//      domain name.
//   2. redirect_uri: an absolute http(s) URL without fragment or userinfo
//      (http only when allow_http or on a loopback host, RFC 8252 §7.3).
//      Whether it belongs to the client is decided later (client.hpp).
//   3. response_type is "code" ("id", the 2020 profile-only form, is read as
//      "code"); state is required (at most 1 KiB); code_challenge is required
//      and code_challenge_method must be S256 — "plain" or missing is refused.
//   4. scope: space-separated; known scopes (kSupportedScopes) are kept in
//      the order sent, without duplicates; unknown ones are listed apart and
//      never granted. No scope at all asks for the identity only.
//   5. An error in client_id or redirect_uri is never sent to redirect_uri
//      (the browser stays here: `redirect = false`); any later error goes back
//      to the client as ?error=…&state=…&iss=… (`redirect = true`).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/form.hpp"

namespace starpunk::indieauth {

// Scopes the server knows: Micropub's, plus "profile" (the answer carries the
// owner's name, URL and photo) and "email" (with profile: the address; the
// web layer grants it only when SITE_AUTHOR_EMAIL is set).
inline constexpr std::string_view kSupportedScopes[] = {"create", "update", "delete", "undelete", "media", "draft",
                                                         "profile", "email"};
bool supported_scope(std::string_view scope);

struct AuthorizationRequest {
    std::string client_id;
    std::string redirect_uri;
    std::string state;
    std::string code_challenge;
    std::vector<std::string> scopes;          // rule 4: known scopes only
    std::vector<std::string> ignored_scopes;  // unknown scopes, for the consent page
    std::string me;                           // as sent (a hint only)
};

struct RequestError {
    bool redirect = false;     // rule 5
    std::string error;         // OAuth error code: invalid_request, unsupported_response_type, …
    std::string description;   // what to fix, for people
};

struct ParsedRequest {
    std::optional<AuthorizationRequest> request;  // set when valid
    RequestError error;                           // meaningful when !request
    // client_id and redirect_uri as sent, for a redirecting error (rule 5).
    std::string redirect_uri;
    std::string state;
};

ParsedRequest parse_authorization_request(const http::FormData& fields, bool allow_http);

// Rule 1 alone: empty when `client_id` is acceptable, else what is wrong.
std::string client_id_problem(std::string_view client_id, bool allow_http);
// Rule 2 alone.
std::string redirect_uri_problem(std::string_view redirect_uri, bool allow_http);

// Splits a space-separated scope string (any ASCII whitespace) into words.
std::vector<std::string> split_scope(std::string_view scope);
std::string join_scopes(const std::vector<std::string>& scopes);

// `uri` with the query parameters appended (`?` or `&` as needed, names and
// values percent_encode()d — util/strings.hpp: all but RFC 3986's unreserved
// characters, so '+', '&' and '=' survive form decoding), any fragment dropped.
std::string with_query(std::string_view uri, const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace starpunk::indieauth
