#include "web/feed_response.hpp"

#include "http/conditional.hpp"
#include "web/errors.hpp"

namespace starpunk::web {

namespace {

void cache_headers(const Site& site, http::Response& res) {
    res.set_header("Cache-Control", "public, max-age=" + std::to_string(site.config.feed_cache_seconds));
}

}  // namespace

std::shared_ptr<const feeds::FeedService> make_feed_service(const Site& site) {
    return std::make_shared<const feeds::FeedService>(site.notes, site.renderer,
                                                      feeds::Settings::from_config(site.config));
}

http::Response feed_response(const Site& site, const std::shared_ptr<const feeds::FeedService>& feeds,
                             const http::Request& req, feeds::Format format, bool negotiated) {
    auto feed = feeds->prepare(format);
    if (!feed) {
        auto res = error_response(site, req, 500, "The feed could not be loaded.");
        if (negotiated) res.set_header("Vary", "Accept");
        return res;
    }
    std::string etag = feed->etag;
    http::Response res;
    if (http::is_not_modified(req, etag, {})) {
        res.status = 304;
    } else {
        res = http::stream_response(200, feeds::format_info(format).content_type,
                                    feeds::FeedService::stream(feeds, std::move(*feed)));
    }
    res.set_header("ETag", etag);
    cache_headers(site, res);
    if (negotiated) res.set_header("Vary", "Accept");
    return res;
}

http::Response opml_response(const Site& site, const feeds::FeedService& feeds, const http::Request& req) {
    http::Response res;
    if (http::is_not_modified(req, feeds.opml_etag(), {})) {
        res.status = 304;
    } else {
        res.status = 200;
        res.set_header("Content-Type", feeds::kOpmlContentType);
        res.body = feeds.opml();
    }
    res.set_header("ETag", feeds.opml_etag());
    cache_headers(site, res);
    return res;
}

}  // namespace starpunk::web
