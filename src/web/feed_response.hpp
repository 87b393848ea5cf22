// Responses for the feed routes (SPEC §6), shared by handlers/feed_*.cpp and
// handlers/opml.cpp: one FeedService per route, built from the Site once.
//
// 200 and 304 carry Cache-Control: public, max-age=FEED_CACHE_SECONDS and the
// feed's weak ETag; every answer of the negotiating /feed (406 included)
// carries Vary: Accept. A 200 body is streamed item by item
// (feeds/feed_service.hpp); HEAD gets the headers without any item being read.
#pragma once

#include <memory>

#include "feeds/feed_service.hpp"
#include "http/request.hpp"
#include "http/response.hpp"
#include "web/site.hpp"

namespace starpunk::web {

// The site's feeds. Does not touch the notes yet.
std::shared_ptr<const feeds::FeedService> make_feed_service(const Site& site);

// The feed in `format`: 304 when If-None-Match matches, else 200 streamed;
// 500 page when the notes cannot be listed. `negotiated` adds Vary: Accept.
http::Response feed_response(const Site& site, const std::shared_ptr<const feeds::FeedService>& feeds,
                             const http::Request& req, feeds::Format format, bool negotiated);

// OPML 2.0 listing the three feeds (text/x-opml), with a strong ETag.
http::Response opml_response(const Site& site, const feeds::FeedService& feeds, const http::Request& req);

}  // namespace starpunk::web
