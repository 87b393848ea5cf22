// JSON answers of the built-in IndieAuth server's client endpoints (RFC 6749
// §5.1-5.2): `Cache-Control: no-store` comes from the security headers (the
// endpoints live under /auth/), errors are {"error","error_description"}.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/response.hpp"
#include "web/site.hpp"

namespace starpunk::web {

http::Response oauth_json(int status, const nlohmann::json& body);
// 400 by default; a 401 carries `WWW-Authenticate: Bearer error="<error>"`.
http::Response oauth_error(int status, std::string_view error, std::string_view description);

// The profile a grant may read (IndieAuth §5.3.4): null without the `profile`
// scope; else url (`me`), name (SITE_AUTHOR, else SITE_NAME), photo
// (SITE_AUTHOR_PHOTO made absolute) when set, and email (SITE_AUTHOR_EMAIL)
// only when `email` was granted too and an address is configured.
nlohmann::json profile_json(const Site& site, const std::vector<std::string>& scopes, std::string_view me);

}  // namespace starpunk::web
