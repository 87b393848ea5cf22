// Page and API handlers, one small file each. Each factory captures what its
// handler needs and returns the callable the route table stores.
#pragma once

#include <memory>

#include "http/router.hpp"
#include "web/site.hpp"

namespace starpunk::web::handlers {

// GET /health — public liveness probe (SPEC §8).
http::Handler health(std::shared_ptr<const Site> site);
// GET / — h-feed of published notes, 20 per page, ?page=N (cached in memory).
http::Handler home(std::shared_ptr<const Site> site);
bool home_is_cached(const Site& site, http::Request& req);
// GET /note/{slug} — one h-entry; 404 unknown/draft, 410 deleted (cached in memory).
http::Handler note_page(std::shared_ptr<const Site> site);
bool note_is_cached(const Site& site, http::Request& req);
// GET /static/{path*} — embedded CSS/JS/fonts with ETag and long cache.
http::Handler static_file(std::shared_ptr<const Site> site);

}  // namespace starpunk::web::handlers
