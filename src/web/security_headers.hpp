// THE choke point for the site's headers (SPEC §4.3): every response —
// handler-made, the gate's, or the server's own 400/408/413/431 — passes here
// exactly once, through App::finalize, before it is written:
//   * Content-Security-Policy: same-origin scripts and styles only (no inline
//     script, no eval), object-src 'none', base-uri 'none',
//     frame-ancestors 'none'; images also from https: and data:;
//   * X-Content-Type-Options: nosniff, Referrer-Policy:
//     strict-origin-when-cross-origin, X-Frame-Options: DENY;
//   * Cache-Control: no-store under /admin, /auth/ and /dev/ (whatever the
//     handler said): private pages never enter a shared cache.
// Handlers never set these themselves; a value they set is replaced, not doubled.
#pragma once

#include "http/request.hpp"
#include "http/response.hpp"

namespace starpunk::web {

void apply_site_headers(const http::Request& req, http::Response& res);

}  // namespace starpunk::web
