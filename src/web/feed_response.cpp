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
    return std::make_shared<const feeds::FeedService>(&site.notes, &site.renderer,
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
    const std::string_view name = feeds::format_info(format).name;
    metrics::Metrics* m = site.metrics;
    http::Response res;
    if (http::is_not_modified(req, etag, {})) {
        res.status = 304;
        if (m) m->feed(name, metrics::FeedCounters::Event::hit);
    } else {
        if (m) m->feed(name, metrics::FeedCounters::Event::miss);
        auto source = feeds::FeedService::stream(feeds, std::move(*feed));
        if (m) {
            // Counts the generation once its last chunk has been produced.
            source = [m, name, inner = std::move(source)](std::string& chunk) -> Result<bool> {
                auto more = inner(chunk);
                if (more && !*more) m->feed(name, metrics::FeedCounters::Event::generated);
                return more;
            };
        }
        res = http::stream_response(200, feeds::format_info(format).content_type, std::move(source));
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
        if (site.metrics) site.metrics->feed("opml", metrics::FeedCounters::Event::hit);
    } else {
        if (site.metrics) {
            site.metrics->feed("opml", metrics::FeedCounters::Event::miss);
            site.metrics->feed("opml", metrics::FeedCounters::Event::generated);
        }
        res.status = 200;
        res.set_header("Content-Type", feeds::kOpmlContentType);
        res.body = feeds.opml();
    }
    res.set_header("ETag", feeds.opml_etag());
    cache_headers(site, res);
    return res;
}

}  // namespace starpunk::web
