// Cookie request headers in, Set-Cookie header values out (RFC 6265).
//
// Pure functions on caller-supplied strings; safe to call from any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.hpp"

namespace starpunk::http {

// Parses a Cookie request header leniently (RFC 6265 §5.4): "a=1; b=2".
//   * pairs are separated by ';'; spaces and tabs around names and values are trimmed;
//   * a pair without '=' or with an empty name is skipped;
//   * a value wrapped in double quotes ("\"x\"") is returned without them;
//   * the first occurrence of a name wins (later duplicates are dropped);
//   * only the first `max_cookies` well-formed pairs (duplicates included) are
//     looked at; anything after them is ignored, bounding the work per request.
// Never fails: malformed pieces are skipped. Values are returned as sent (no
// percent-decoding, no validation).
std::vector<std::pair<std::string, std::string>> parse_cookie_header(std::string_view header,
                                                                     size_t max_cookies = 64);

// The value of cookie `name` in a Cookie header, with exactly the semantics of
// parse_cookie_header(header) (default limit); nullopt when absent.
std::optional<std::string> find_cookie(std::string_view header, std::string_view name);

struct CookieOptions {
    std::string path = "/";           // omitted when empty
    bool http_only = true;
    bool secure = false;
    std::string same_site = "Lax";    // "Strict", "Lax", "None" (any case), or "" to omit
    std::optional<long long> max_age_seconds;  // nullopt: session cookie; 0: delete now
};

// Builds a Set-Cookie header value, attributes in a fixed order:
//   name=value; Path=/; Max-Age=N; HttpOnly; Secure; SameSite=Lax
// Returns ErrorCode::invalid_input (nothing is built) when:
//   * `name` is empty or not an RFC 7230 token;
//   * `value` is not *cookie-octet, optionally wrapped in one pair of double quotes
//     (RFC 6265 §4.1.1: no CTLs, whitespace, '"', ',', ';' or '\\');
//   * `path` contains a CTL or ';'; `max_age_seconds` is negative;
//   * `same_site` is not one of the values above, or is "None" without `secure`
//     (browsers reject such cookies).
// Max-Age=0 asks the browser to delete the cookie.
Result<std::string> format_set_cookie(std::string_view name, std::string_view value,
                                      const CookieOptions& opts);

}  // namespace starpunk::http
