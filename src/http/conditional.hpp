// Conditional GET (RFC 9110 §13): If-None-Match first, If-Modified-Since only
// when no If-None-Match is present.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "http/request.hpp"

namespace starpunk::http {

// True when the client's cached copy (validators in `req`) is still current for
// a representation with this ETag and Last-Modified (either may be empty).
bool is_not_modified(const Request& req, std::string_view etag, std::string_view last_modified);

// "Sun, 06 Nov 1994 08:49:37 GMT" <-> seconds since the epoch.
std::string format_http_date(std::time_t t);
std::optional<std::time_t> parse_http_date(std::string_view text);

}  // namespace starpunk::http
