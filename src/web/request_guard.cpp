#include "web/request_guard.hpp"

#include <cstdint>

#include "http/form.hpp"
#include "http/multipart.hpp"
#include "util/strings.hpp"
#include "util/url.hpp"

namespace starpunk::web {

bool changes_state(http::Method method) {
    return method != http::Method::get && method != http::Method::head && method != http::Method::options;
}

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

namespace {

// The csrf_token field of a multipart body spooled to a file, read in 64 KiB
// pieces: nothing but that one short field is kept, whatever the files hold.
std::string token_in_spooled_form(const TempFile& body, std::string_view content_type_header) {
    auto boundary = http::multipart_boundary(content_type_header);
    if (!boundary) return {};
    std::string token;
    bool in_token = false;
    bool seen = false;
    http::MultipartLimits limits;
    limits.max_file_bytes = SIZE_MAX;
    limits.max_total_bytes = SIZE_MAX;
    http::MultipartParser parser(*boundary, limits,
                                 {[&](const http::PartInfo& part) -> Status {
                                      in_token = !seen && !part.filename && part.name == kCsrfField;
                                      return {};
                                  },
                                  [&](std::string_view data) -> Status {
                                      if (in_token && token.size() + data.size() <= 1024) token.append(data);
                                      return {};
                                  },
                                  [&]() -> Status {
                                      if (in_token) seen = true;
                                      in_token = false;
                                      // The token comes first in our forms: stop reading once it is in.
                                      if (seen) return make_error(ErrorCode::internal, "token found; stop reading");
                                      return {};
                                  }});
    std::string piece;
    for (std::uint64_t offset = 0;;) {
        if (!body.read_at(offset, 64 * 1024, piece) || piece.empty()) break;
        offset += piece.size();
        if (!parser.feed(piece)) break;
    }
    return seen ? token : std::string();
}

}  // namespace

std::string presented_csrf_token(const http::Request& req) {
    if (auto h = req.header("X-CSRF-Token")) return std::string(trim(*h));
    std::string type = req.content_type();
    if (type == "application/x-www-form-urlencoded") {
        auto form = http::parse_urlencoded(req.body);
        if (!form) return {};
        return std::string(form->get(kCsrfField).value_or(""));
    }
    if (type == "multipart/form-data" && req.body_file) {
        return token_in_spooled_form(*req.body_file, req.header("Content-Type").value_or(""));
    }
    if (type == "multipart/form-data") {
        auto form = http::parse_multipart(req.body, req.header("Content-Type").value_or(""));
        if (!form) return {};
        return std::string(form->fields.get(kCsrfField).value_or(""));
    }
    return {};
}

}  // namespace starpunk::web
