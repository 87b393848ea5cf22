#include "util/url.hpp"

#include <boost/url/parse.hpp>

#include "util/strings.hpp"

namespace starpunk {

std::string origin_of(std::string_view url) {
    auto u = boost::urls::parse_uri(trim(url));
    if (!u || !u->has_authority() || u->encoded_host().empty()) return {};
    std::string scheme = to_lower(u->scheme());
    std::string out = scheme + "://" + to_lower(u->encoded_host());
    if (u->has_port() && !u->port().empty()) {
        std::string_view port = u->port();
        bool is_default = (scheme == "http" && port == "80") || (scheme == "https" && port == "443");
        if (!is_default) out += ":" + std::string(port);
    }
    return out;
}

}  // namespace starpunk
