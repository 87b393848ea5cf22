// GET /opml.xml — OPML 2.0 listing the site's three feeds (SPEC §3).
#include "web/feed_response.hpp"
#include "web/handlers/handlers.hpp"

namespace starpunk::web::handlers {

http::Handler opml(std::shared_ptr<const Site> site, std::shared_ptr<SiteFeeds> feeds) {
    return [site = std::move(site), feeds = std::move(feeds)](http::Request& req) {
        return opml_response(*site, *feeds->service, req);
    };
}

}  // namespace starpunk::web::handlers
