// GET /feed — the feed in the format the Accept header prefers (SPEC §6,
// feeds/negotiate.hpp); 406 listing the formats when none is acceptable.
#include "feeds/negotiate.hpp"
#include "web/errors.hpp"
#include "web/feed_response.hpp"
#include "web/handlers/handlers.hpp"

namespace starpunk::web::handlers {

namespace {

// All Accept field lines as one list (RFC 9110 §5.3); nullopt when there is none.
std::optional<std::string> accept_header(const http::Request& req) {
    std::optional<std::string> out;
    for (const auto& h : req.headers) {
        if (!http::iequals(h.name, "Accept")) continue;
        if (out) {
            out->append(", ");
        } else {
            out.emplace();
        }
        out->append(h.value);
    }
    return out;
}

}  // namespace

http::Handler feed_negotiated(std::shared_ptr<const Site> site) {
    auto feeds = make_feed_service(*site);
    return [site = std::move(site), feeds = std::move(feeds)](http::Request& req) {
        auto accept = accept_header(req);
        auto format = feeds::negotiate_format(accept ? std::optional<std::string_view>(*accept) : std::nullopt);
        if (!format) {
            auto res = error_response(*site, req, 406,
                                      "This feed is available as " + std::string(feeds::offered_media_types()) + ".");
            res.set_header("Vary", "Accept");
            return res;
        }
        return feed_response(*site, feeds, req, *format, true);
    };
}

}  // namespace starpunk::web::handlers
