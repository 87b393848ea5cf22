// GET /feed.atom — Atom 1.0 (SPEC §6).
#include "web/feed_response.hpp"
#include "web/handlers/handlers.hpp"

namespace starpunk::web::handlers {

http::Handler feed_atom(std::shared_ptr<const Site> site, std::shared_ptr<SiteFeeds> feeds) {
    return [site = std::move(site), feeds = std::move(feeds)](http::Request& req) {
        return feed_response(*site, *feeds, req, feeds::Format::atom, false);
    };
}

}  // namespace starpunk::web::handlers
