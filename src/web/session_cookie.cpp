#include "web/session_cookie.hpp"

#include "http/cookies.hpp"

namespace starpunk::web {

namespace {
http::CookieOptions session_cookie_options(const Site& site) {
    http::CookieOptions o;
    o.path = "/";
    o.http_only = true;
    o.secure = site.config.site_is_https();
    o.same_site = "Lax";
    return o;
}
}  // namespace

std::optional<std::string> session_cookie(const http::Request& req) {
    auto header = req.header("Cookie");
    if (!header) return std::nullopt;
    return http::find_cookie(*header, kSessionCookieName);
}

std::string session_set_cookie(const Site& site, std::string_view token) {
    auto o = session_cookie_options(site);
    o.max_age_seconds = static_cast<long long>(site.config.session_lifetime_days) * 24 * 3600;
    // The token is base64url, always a valid cookie value.
    return http::format_set_cookie(kSessionCookieName, token, o).value();
}

std::string session_clear_cookie(const Site& site) {
    auto o = session_cookie_options(site);
    o.max_age_seconds = 0;
    return http::format_set_cookie(kSessionCookieName, "", o).value();
}

}  // namespace starpunk::web
