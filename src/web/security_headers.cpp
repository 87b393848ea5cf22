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

// The four headers every response carries, as one block of lines built once.
std::string_view site_lines() {
    static const std::string lines = http::header_line("Content-Security-Policy", kCsp) +
                                     http::header_line("X-Content-Type-Options", "nosniff") +
                                     http::header_line("Referrer-Policy", "strict-origin-when-cross-origin") +
                                     http::header_line("X-Frame-Options", "DENY");
    return lines;
}

}  // namespace

void apply_site_headers(const http::Request& req, http::Response& res) {
    // Runs for every response: one pass drops whatever the handler set under
    // these names, then they go in once, as one shared block (the same effect
    // as set_header for each, without a scan or a copy per header). Handlers'
    // own blocks never hold these names (http/response.hpp).
    const bool private_area = is_private_area(req.path);
    std::erase_if(res.headers, [&](const auto& h) {
        const std::string_view name = h.first;
        return http::iequals(name, "Content-Security-Policy") || http::iequals(name, "X-Content-Type-Options") ||
               http::iequals(name, "Referrer-Policy") || http::iequals(name, "X-Frame-Options") ||
               (private_area && http::iequals(name, "Cache-Control"));
    });
    res.add_block(site_lines());  // static: outlives every response
    if (private_area) res.headers.emplace_back("Cache-Control", "no-store");
}

}  // namespace starpunk::web
