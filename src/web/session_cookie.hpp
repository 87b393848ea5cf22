// The one place that reads and writes the admin session cookie (SPEC §4.1 step 8).
//
// Cookie `starpunk_session`: HttpOnly, SameSite=Lax, Path=/, Secure when
// SITE_URL is https, Max-Age = SESSION_LIFETIME days. The value is the session
// token; it never appears in logs.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "http/request.hpp"
#include "web/site.hpp"

namespace starpunk::web {

inline constexpr std::string_view kSessionCookieName = "starpunk_session";

// The session cookie's value, when the request carries one.
std::optional<std::string> session_cookie(const http::Request& req);

// Set-Cookie values that hand the browser a session token / make it forget it.
std::string session_set_cookie(const Site& site, std::string_view token);
std::string session_clear_cookie(const Site& site);

}  // namespace starpunk::web
