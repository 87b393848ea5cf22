// The protocol-level headers every response carries. The server calls
// finalize_response() exactly once per response, after the handler (or the
// server's own error path) produced it, after Application::finalize (the
// site's own headers: web/security_headers.hpp) and before it is written:
//   * a Content-Type when the response has a body and none was set.
// X-Request-ID (the request's id, a sane token: choose_request_id) is written
// by the server itself as it serialises the head, from the request, so no
// response copies it. Knows no site paths or policies.
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
// The same into `out`, reusing its storage (the server's per-connection id).
void choose_request_id(std::optional<std::string_view> client_value, std::string& out);

// A random UUID v4 string. Thread-safe.
std::string random_uuid();

}  // namespace starpunk::http
