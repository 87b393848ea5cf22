// Responses for the feed routes (SPEC §6), shared by handlers/feed_*.cpp and
// handlers/opml.cpp: one FeedService and one FeedCache (feeds/feed_cache.hpp)
// for all of them, built from the Site once.
//
// 200 and 304 carry Cache-Control: public, max-age=FEED_CACHE_SECONDS and the
// feed's weak ETag; every answer of the negotiating /feed (406 included)
// carries Vary: Accept. A feed that has not changed since it was last built
// is answered from memory: 304 to its ETag, or 200 with the cached bytes
// (Content-Length, never copied). The first request after a change builds it
// (on a worker); a feed larger than the cache's cap is streamed item by item
// on every 200. HEAD gets the headers only.
#pragma once

#include <memory>
#include <optional>

#include "feeds/feed_cache.hpp"
#include "feeds/feed_service.hpp"
#include "http/request.hpp"
#include "http/response.hpp"
#include "web/site.hpp"

namespace starpunk::web {

// The site's feeds: the service and the cache every feed route shares.
// Thread-safe; outlives nothing it was built from (the Site's services).
struct SiteFeeds {
    SiteFeeds(const std::shared_ptr<const feeds::FeedService>& feed_service, notes::NoteChanges& changes,
              int cache_seconds, size_t max_body_bytes = feeds::kDefaultFeedCacheBytes)
        : service(feed_service),
          // Entries are built only after construction, so cache_control is set
          // by then (SiteFeeds neither copies nor moves: FeedCache does not).
          cache(feed_service, changes, max_body_bytes, feeds::kDefaultExternalCheck,
                [this](const feeds::CachedFeed& entry) { return entry_lines(entry.etag, cache_control); }),
          cache_control("public, max-age=" + std::to_string(cache_seconds)) {}

    // ETag and Cache-Control as one block of header lines: what each cached
    // entry keeps in CachedFeed::derived.
    static std::string entry_lines(std::string_view etag, std::string_view cache_control);

    std::shared_ptr<const feeds::FeedService> service;
    feeds::FeedCache cache;
    std::string cache_control;  // public, max-age=FEED_CACHE_SECONDS
};

// The site's feeds. Does not touch the notes yet.
std::shared_ptr<const feeds::FeedService> make_feed_service(const Site& site);
std::shared_ptr<SiteFeeds> make_site_feeds(const Site& site,
                                           size_t max_body_bytes = feeds::kDefaultFeedCacheBytes);

// The format /feed serves for `req`'s Accept field lines (all of them, as one
// list; feeds/negotiate.hpp); nullopt when none is acceptable (406).
std::optional<feeds::Format> negotiated_format(const http::Request& req);

// The inline_when probe of the feed routes: true when the answer to `req` is
// in memory — the current entry holds the body, or its ETag matches the
// request's If-None-Match — and then leaves that entry in Request::prepared.
// `format`: nullopt negotiates on Accept (a 406 is not "in memory").
// Memory and one data_version read only.
bool feed_is_cached(SiteFeeds& feeds, http::Request& req, std::optional<feeds::Format> format);

// The feed in `format`: 304 when If-None-Match matches, else 200 (cached
// bytes, or streamed for a feed larger than the cap); a 500 page when the
// feed cannot be built. `negotiated` adds Vary: Accept.
http::Response feed_response(const Site& site, SiteFeeds& feeds, const http::Request& req, feeds::Format format,
                             bool negotiated);

// OPML 2.0 listing the three feeds (text/x-opml), with a strong ETag.
http::Response opml_response(const Site& site, const feeds::FeedService& feeds, const http::Request& req);

}  // namespace starpunk::web
