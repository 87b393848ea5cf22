// URL helpers shared by every layer (Boost.URL underneath). Pure, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace starpunk {

// The origin of an absolute URL as RFC 6454 serialises it: "scheme://host" or
// "scheme://host:port", scheme and host lower-cased, the scheme's default port
// (80 for http, 443 for https) omitted, no userinfo, path or query. Empty when
// `url` is not an absolute URL with a host. Two URLs are same-origin exactly
// when their non-empty origins are equal.
std::string origin_of(std::string_view url);

}  // namespace starpunk
