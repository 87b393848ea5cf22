// The one choke point for headers every response carries (SPEC §4.3, §9).
// The server calls finalize_response() exactly once per response, after the
// handler (or the server's own error path) produced it and before it is written:
//   * Content-Security-Policy (no inline script; object-src 'none';
//     base-uri 'none'; frame-ancestors 'none'), X-Content-Type-Options: nosniff,
//     Referrer-Policy: strict-origin-when-cross-origin, X-Frame-Options: DENY;
//   * X-Request-ID: the request's id;
//   * Cache-Control: no-store on admin, auth and dev pages (whatever the handler said);
//   * a Content-Type with charset when the response has a body and none was set.
// Handlers never set these themselves.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "http/request.hpp"
#include "http/response.hpp"

namespace starpunk::http {

void finalize_response(const Request& req, Response& res);

// The id for a request: the client's X-Request-ID when it is a sane token
// (1-128 characters of [A-Za-z0-9._:-]), otherwise a fresh random UUID (v4).
std::string choose_request_id(std::optional<std::string_view> client_value);

// A random UUID v4 string. Thread-safe.
std::string random_uuid();

}  // namespace starpunk::http
