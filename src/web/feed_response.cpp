#include "web/feed_response.hpp"

#include <array>

#include "feeds/negotiate.hpp"
#include "http/conditional.hpp"
#include "web/errors.hpp"

namespace starpunk::web {

namespace {

using Event = metrics::FeedCounters::Event;

void common_headers(const SiteFeeds& feeds, std::string_view etag, bool negotiated, http::Response& res) {
    res.headers.emplace_back("ETag", etag);
    res.headers.emplace_back("Cache-Control", feeds.cache_control);
    if (negotiated) res.headers.emplace_back("Vary", "Accept");
}

// "Content-Type: …\r\n" of each format, built once.
std::string_view content_type_line(feeds::Format format) {
    static const std::array<std::string, 3> lines = [] {
        std::array<std::string, 3> out;
        for (auto f : {feeds::Format::rss, feeds::Format::atom, feeds::Format::json}) {
            out.at(static_cast<size_t>(f)) = http::header_line("Content-Type", feeds::format_info(f).content_type);
        }
        return out;
    }();
    return lines.at(static_cast<size_t>(format));
}

// The same from the entry's block of lines, built once with it (kept alive
// by the response).
void entry_headers(const std::shared_ptr<const feeds::CachedFeed>& entry, bool negotiated, http::Response& res) {
    res.add_block(entry->derived);
    res.owner = entry;
    if (negotiated) res.headers.emplace_back("Vary", "Accept");
}

http::Response failure(const Site& site, const http::Request& req, bool negotiated, std::string_view message) {
    auto res = error_response(site, req, 500, message);
    if (negotiated) res.set_header("Vary", "Accept");
    return res;
}

// Counts the generation once its last chunk has been produced.
feeds::ChunkSource counted(metrics::Metrics* m, std::string_view name, feeds::ChunkSource source) {
    if (!m) return source;
    return [m, name, inner = std::move(source)](std::string& chunk) -> Result<bool> {
        auto more = inner(chunk);
        if (more && !*more) m->feed(name, Event::generated);
        return more;
    };
}

}  // namespace

std::string SiteFeeds::entry_lines(std::string_view etag, std::string_view cache_control) {
    return http::header_line("ETag", etag) + http::header_line("Cache-Control", cache_control);
}

std::shared_ptr<const feeds::FeedService> make_feed_service(const Site& site) {
    return std::make_shared<const feeds::FeedService>(&site.notes, &site.renderer,
                                                      feeds::Settings::from_config(site.config));
}

std::shared_ptr<SiteFeeds> make_site_feeds(const Site& site, size_t max_body_bytes) {
    return std::make_shared<SiteFeeds>(make_feed_service(site), site.notes.changes(), site.config.feed_cache_seconds,
                                       max_body_bytes);
}

std::optional<feeds::Format> negotiated_format(const http::Request& req) {
    std::optional<std::string> accept;  // all Accept field lines as one list (RFC 9110 §5.3)
    for (const auto& h : req.headers) {
        if (!http::iequals(h.name, "Accept")) continue;
        if (accept) {
            accept->append(", ");
        } else {
            accept.emplace();
        }
        accept->append(h.value);
    }
    return feeds::negotiate_format(accept ? std::optional<std::string_view>(*accept) : std::nullopt);
}

bool feed_is_cached(SiteFeeds& feeds, http::Request& req, std::optional<feeds::Format> format) {
    if (!format) format = negotiated_format(req);
    if (!format) return false;
    auto entry = feeds.cache.find(*format);
    if (!entry || (!entry->body && !http::is_not_modified(req, entry->etag, {}))) return false;
    req.prepared = std::move(entry);
    return true;
}

http::Response feed_response(const Site& site, SiteFeeds& feeds, const http::Request& req, feeds::Format format,
                             bool negotiated) {
    const std::string_view name = feeds::format_info(format).name;
    metrics::Metrics* m = site.metrics;

    // 1. The entry in memory: from the probe, or looked up / built here.
    std::shared_ptr<const feeds::CachedFeed> entry;
    feeds::ChunkSource stream;  // set when this request built a feed larger than the cap
    bool generated = false;
    if (req.prepared) {
        entry = std::static_pointer_cast<const feeds::CachedFeed>(req.prepared);
    } else if (!(entry = feeds.cache.find(format))) {
        auto built = feeds.cache.build(format);
        if (!built) return failure(site, req, negotiated, "The feed could not be loaded.");
        entry = std::move(built->feed);
        stream = std::move(built->stream);
        generated = built->generated;
        if (m && generated && !stream) m->feed(name, Event::generated);
    }

    // 2. The answer. A hit is an answer that generated nothing.
    http::Response res;
    if (http::is_not_modified(req, entry->etag, {})) {
        res.status = 304;
        if (m) m->feed(name, generated ? Event::miss : Event::hit);
        entry_headers(entry, negotiated, res);
        return res;
    }
    std::string_view etag = entry->etag;
    if (entry->body) {
        res.status = 200;
        res.add_block(content_type_line(format));
        res.shared_body = entry->body;
        if (m) m->feed(name, generated ? Event::miss : Event::hit);
    } else {
        // Larger than the cache holds: streamed item by item (FeedService).
        if (m) m->feed(name, Event::miss);
        std::string fresh_etag;
        if (!stream) {
            auto prepared = feeds.service->prepare(format);
            if (!prepared) return failure(site, req, negotiated, "The feed could not be loaded.");
            fresh_etag = prepared->etag;  // the list as read now: its own validator
            etag = fresh_etag;
            stream = feeds::FeedService::stream(feeds.service, std::move(*prepared));
        }
        res = http::stream_response(200, feeds::format_info(format).content_type, counted(m, name, std::move(stream)));
        common_headers(feeds, etag, negotiated, res);
        return res;
    }
    entry_headers(entry, negotiated, res);  // the entry's own ETag: its body is what goes out
    return res;
}

http::Response opml_response(const Site& site, const feeds::FeedService& feeds, const http::Request& req) {
    http::Response res;
    if (http::is_not_modified(req, feeds.opml_etag(), {})) {
        res.status = 304;
        if (site.metrics) site.metrics->feed("opml", Event::hit);
    } else {
        if (site.metrics) {
            site.metrics->feed("opml", Event::miss);
            site.metrics->feed("opml", Event::generated);
        }
        res.status = 200;
        res.set_header("Content-Type", feeds::kOpmlContentType);
        res.body = feeds.opml();
    }
    res.set_header("ETag", feeds.opml_etag());
    res.set_header("Cache-Control", "public, max-age=" + std::to_string(site.config.feed_cache_seconds));
    return res;
}

}  // namespace starpunk::web

