#include "http/conditional.hpp"

#include <cstring>

#include "http/static_files.hpp"

namespace starpunk::http {

std::string format_http_date(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return buf;
}

std::optional<std::time_t> parse_http_date(std::string_view text) {
    std::string s(text);
    std::tm tm{};
    const char* end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end != '\0') return std::nullopt;
    return timegm(&tm);
}

bool is_not_modified(const Request& req, std::string_view etag, std::string_view last_modified) {
    if (auto inm = req.header("If-None-Match")) return !etag.empty() && etag_matches(*inm, etag);
    if (auto ims = req.header("If-Modified-Since"); ims && !last_modified.empty()) {
        auto since = parse_http_date(*ims);
        auto modified = parse_http_date(last_modified);
        return since && modified && *modified <= *since;
    }
    return false;
}

}  // namespace starpunk::http
