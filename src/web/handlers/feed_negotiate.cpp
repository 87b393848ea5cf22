// GET /feed — the feed in the format the Accept header prefers (SPEC §6,
// feeds/negotiate.hpp); 406 listing the formats when none is acceptable.
#include "feeds/negotiate.hpp"
#include "web/errors.hpp"
#include "web/feed_response.hpp"
#include "web/handlers/handlers.hpp"

namespace starpunk::web::handlers {

http::Handler feed_negotiated(std::shared_ptr<const Site> site, std::shared_ptr<SiteFeeds> feeds) {
    return [site = std::move(site), feeds = std::move(feeds)](http::Request& req) {
        // The inline probe negotiated already when it found the feed in memory.
        auto format = req.prepared ? std::optional(std::static_pointer_cast<const feeds::CachedFeed>(req.prepared)->format)
                                   : negotiated_format(req);
        if (!format) {
            auto res = error_response(*site, req, 406,
                                      "This feed is available as " + std::string(feeds::offered_media_types()) + ".");
            res.set_header("Vary", "Accept");
            return res;
        }
        return feed_response(*site, *feeds, req, *format, true);
    };
}

}  // namespace starpunk::web::handlers
