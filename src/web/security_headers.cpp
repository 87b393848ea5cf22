#include "web/security_headers.hpp"

namespace starpunk::web {

namespace {
constexpr std::string_view kCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

// Paths whose responses must never be stored (admin, login, dev).
bool is_private_area(std::string_view path) {
    return path.starts_with("/admin") || path.starts_with("/auth/") || path.starts_with("/dev/");
}

}  // namespace

void apply_site_headers(const http::Request& req, http::Response& res) {
    res.set_header("Content-Security-Policy", kCsp);
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "strict-origin-when-cross-origin");
    res.set_header("X-Frame-Options", "DENY");
    if (is_private_area(req.path)) res.set_header("Cache-Control", "no-store");
}

}  // namespace starpunk::web
