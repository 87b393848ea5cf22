#include "web/request_guard.hpp"

#include "http/form.hpp"
#include "http/multipart.hpp"
#include "util/strings.hpp"
#include "util/url.hpp"

namespace starpunk::web {

bool same_origin_request(std::string_view site_url, const http::Request& req) {
    if (auto fetch_site = req.header("Sec-Fetch-Site"); fetch_site && http::iequals(trim(*fetch_site), "cross-site")) {
        return false;
    }
    auto origin = req.header("Origin");
    if (!origin) return true;  // not a browser, or an old one: the CSRF token decides
    const std::string presented = origin_of(*origin);  // "null" or garbage: empty, never equal
    if (presented.empty()) return false;
    if (presented == origin_of(site_url)) return true;
    // The address the browser actually used (a reverse proxy may differ from SITE_URL).
    if (auto host = req.header("Host")) {
        std::string h(trim(*host));
        if (presented == origin_of("http://" + h) || presented == origin_of("https://" + h)) return true;
    }
    return false;
}

std::string presented_csrf_token(const http::Request& req) {
    if (auto h = req.header("X-CSRF-Token")) return std::string(trim(*h));
    std::string type = req.content_type();
    if (type == "application/x-www-form-urlencoded") {
        auto form = http::parse_urlencoded(req.body);
        if (!form) return {};
        return std::string(form->get(kCsrfField).value_or(""));
    }
    if (type == "multipart/form-data") {
        auto form = http::parse_multipart(req.body, req.header("Content-Type").value_or(""));
        if (!form) return {};
        return std::string(form->fields.get(kCsrfField).value_or(""));
    }
    return {};
}

}  // namespace starpunk::web
