#include "web/security_headers.hpp"

#include <vector>

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
    // Runs for every response: one pass drops whatever the handler set under
    // these names, then each goes in once (the same effect as set_header for
    // each, without a scan per header).
    const bool private_area = is_private_area(req.path);
    std::erase_if(res.headers, [&](const auto& h) {
        const std::string_view name = h.first;
        return http::iequals(name, "Content-Security-Policy") || http::iequals(name, "X-Content-Type-Options") ||
               http::iequals(name, "Referrer-Policy") || http::iequals(name, "X-Frame-Options") ||
               (private_area && http::iequals(name, "Cache-Control"));
    });
    res.headers.reserve(res.headers.size() + 6);  // these, and the server's X-Request-ID
    res.headers.emplace_back("Content-Security-Policy", kCsp);
    res.headers.emplace_back("X-Content-Type-Options", "nosniff");
    res.headers.emplace_back("Referrer-Policy", "strict-origin-when-cross-origin");
    res.headers.emplace_back("X-Frame-Options", "DENY");
    if (private_area) res.headers.emplace_back("Cache-Control", "no-store");
}

}  // namespace starpunk::web
