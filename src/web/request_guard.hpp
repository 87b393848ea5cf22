// Cross-site request defences for state-changing requests (SPEC §4.3).
//
// Invariants:
//   1. A POST that a browser marks as cross-site (`Sec-Fetch-Site: cross-site`)
//      or whose `Origin` is neither SITE_URL's origin nor the origin of the Host
//      it was sent to (`Origin: null` included) is refused before any handler runs.
//   2. Every POST to an admin route also carries the session's CSRF token, as the
//      form field `csrf_token` or the `X-CSRF-Token` header; it is compared in
//      constant time (SessionStore::csrf_matches).
// Micropub (bearer-token) requests are exempt: they come from other sites by design.
// "POST" above stands for every method changes_state() is true for.
#pragma once

#include <string>

#include "http/request.hpp"

namespace starpunk::web {

// True for every method but GET, HEAD and OPTIONS, the ones that must never
// change anything: those are what the cross-site and CSRF checks apply to, so
// a PUT, PATCH or DELETE route added later is covered like a POST.
bool changes_state(http::Method method);

// False when the request comes from another site (invariant 1); site_url is
// SITE_URL.
bool same_origin_request(std::string_view site_url, const http::Request& req);

// The CSRF token the request presents: X-CSRF-Token, else the form field
// `csrf_token` of an urlencoded or multipart body; empty when none.
std::string presented_csrf_token(const http::Request& req);

// The name of the hidden form field that carries the token.
inline constexpr std::string_view kCsrfField = "csrf_token";

}  // namespace starpunk::web
