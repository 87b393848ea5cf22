// JSON answers of the built-in IndieAuth server's client endpoints (RFC 6749
// §5.1-5.2): `Cache-Control: no-store` comes from the security headers (the
// endpoints live under /auth/), errors are {"error","error_description"}.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "http/response.hpp"

namespace starpunk::web {

http::Response oauth_json(int status, const nlohmann::json& body);
// 400 by default; a 401 carries `WWW-Authenticate: Bearer error="<error>"`.
http::Response oauth_error(int status, std::string_view error, std::string_view description);

}  // namespace starpunk::web
