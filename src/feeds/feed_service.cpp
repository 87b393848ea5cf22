#include "feeds/feed_service.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>

#include "starpunk_version.hpp"
#include "util/crypto.hpp"

namespace starpunk::feeds {

namespace {

// Length-prefixed fields, so no two different inputs hash alike.
void field(std::string& out, std::string_view value) {
    out.append(std::to_string(value.size()));
    out.push_back(':');
    out.append(value);
}

}  // namespace

Settings Settings::from_config(const config::Config& c) {
    Settings s;
    s.site_url = c.site_url;
    while (!s.site_url.empty() && s.site_url.back() == '/') s.site_url.pop_back();
    s.site_name = c.site_name;
    s.site_description = c.site_description;
    s.author_name = c.site_author.empty() ? c.site_name : c.site_author;
    s.author_url = c.admin_me;
    s.max_items = c.feed_max_items;
    return s;
}

FeedService::FeedService(const notes::NotesService* notes, notes::NoteRenderer* renderer, Settings settings,
                         const Clock& clock)
    : notes_(notes), renderer_(renderer), settings_(std::move(settings)), clock_(clock) {
    std::string d;
    for (std::string_view v : {std::string_view(settings_.site_url), std::string_view(settings_.site_name),
                               std::string_view(settings_.site_description), std::string_view(settings_.author_name),
                               std::string_view(settings_.author_url), std::string_view(kVersion)}) {
        field(d, v);
    }
    field(d, std::to_string(settings_.max_items));
    settings_digest_ = sha256(d);

    opml_ = write_opml(OpmlInfo{settings_.site_name, settings_.site_url, settings_.author_name, settings_.author_url});
    opml_etag_ = "\"opml-" + sha256_hex(opml_).substr(0, 32) + "\"";
}

std::string FeedService::etag_for(Format format, const std::vector<notes::Note>& notes) const {
    std::string d;
    d.reserve(64 + notes.size() * 100);
    field(d, "starpunk-feed-1");
    field(d, format_info(format).name);
    field(d, settings_digest_);
    for (const auto& n : notes) {
        field(d, std::to_string(n.id));
        field(d, format_db_time(n.updated_at));
        field(d, n.content_hash);
    }
    return "W/\"" + sha256_hex(d).substr(0, 32) + "\"";
}

Result<PreparedFeed> FeedService::prepare(Format format) const {
    if (!notes_ || !renderer_) return make_error(ErrorCode::internal, "feeds: no notes service");
    auto list = notes_->newest(notes::Visibility::published, settings_.max_items);
    if (!list) return std::move(list).error();
    PreparedFeed feed;
    feed.format = format;
    feed.notes = std::move(*list);
    feed.etag = etag_for(format, feed.notes);
    return feed;
}

Channel FeedService::channel_for(const PreparedFeed& feed) const {
    Channel c;
    c.title = settings_.site_name;
    c.home_url = settings_.site_url + "/";
    c.feed_url = settings_.site_url + std::string(format_info(feed.format).path);
    c.description = settings_.site_description;
    c.author_name = settings_.author_name;
    c.author_url = settings_.author_url;
    c.generator = std::string("StarPunk ") + kVersion;
    if (feed.notes.empty()) {
        c.updated = clock_.now();
    } else {
        c.updated = std::max_element(feed.notes.begin(), feed.notes.end(), [](const auto& a, const auto& b) {
                        return a.updated_at < b.updated_at;
                    })->updated_at;
    }
    return c;
}

// Where a stream is: the head goes out with the first chunk, then the items in
// order, then the tail; after the tail the source reports the end.
struct FeedService::Cursor {
    PreparedFeed feed;
    Channel channel;
    size_t next = 0;
    bool head_written = false;
    bool done = false;
    // The items' tag names, read with the first chunk (one query; a 304 never
    // needs them: the ETag covers updated_at, which every tag change moves).
    std::optional<std::map<int64_t, std::vector<std::string>>> categories;
    // The items' photos with absolute URLs, read with the tags (a photo
    // change moves updated_at too).
    std::map<int64_t, std::vector<Photo>> photos;
};

Result<bool> FeedService::pull(Cursor& cur, size_t chunk_bytes, std::string& chunk) const {
    if (cur.done) return false;
    const Format format = cur.feed.format;
    if (!cur.head_written) {
        write_head(format, cur.channel, chunk);
        cur.head_written = true;
    }
    if (!cur.categories) {
        renderer_->prefetch(cur.feed.notes);  // stored renderings in one query
        auto tags = notes_->tags_of(cur.feed.notes);
        if (!tags) return make_error(tags.error().code, "feed tags: " + tags.error().message);
        cur.categories.emplace();
        for (auto& [id, list] : *tags) {
            auto& names = (*cur.categories)[id];
            for (auto& t : list) names.push_back(std::move(t.display));
        }
        auto photos = notes_->photos_of(cur.feed.notes);
        if (!photos) return make_error(photos.error().code, "feed photos: " + photos.error().message);
        for (auto& [id, list] : *photos) {
            auto& out = cur.photos[id];
            for (auto& p : list) {
                out.push_back(Photo{p.stored() ? settings_.site_url + p.url : std::move(p.url), std::move(p.alt),
                                    std::move(p.type), p.bytes, p.width, p.height});
            }
        }
    }
    std::string url;
    bool wrote_item = false;
    while (cur.next < cur.feed.notes.size() && (!wrote_item || chunk.size() < chunk_bytes)) {
        const notes::Note& note = cur.feed.notes[cur.next];
        auto rendered = renderer_->render(note);
        if (!rendered) {
            return make_error(rendered.error().code,
                              fmt::format("feed item {} ({}): {}", cur.next, note.slug, rendered.error().message));
        }
        const notes::RenderedNote& r = **rendered;
        url = settings_.site_url;
        url.append("/note/");
        url.append(note.slug);
        auto tags = cur.categories->find(note.id);
        auto photos = cur.photos.find(note.id);
        write_item(format,
                   Item{url, r.title, r.html, note.created_at, note.updated_at, note.summary ? std::string_view(*note.summary) : std::string_view(),
                        tags == cur.categories->end() ? nullptr : &tags->second,
                        photos == cur.photos.end() ? nullptr : &photos->second},
                   cur.next, chunk);
        ++cur.next;
        wrote_item = true;
    }
    if (cur.next == cur.feed.notes.size()) {
        write_tail(format, chunk);
        cur.done = true;
    }
    return true;
}

ChunkSource FeedService::stream(std::shared_ptr<const FeedService> service, PreparedFeed feed,
                                size_t chunk_bytes) {
    auto cursor = std::make_shared<Cursor>();
    cursor->channel = service->channel_for(feed);
    cursor->feed = std::move(feed);
    chunk_bytes = std::max<size_t>(chunk_bytes, 1);
    return [service = std::move(service), cursor, chunk_bytes](std::string& chunk) -> Result<bool> {
        return service->pull(*cursor, chunk_bytes, chunk);
    };
}

Result<std::string> FeedService::render_whole(Format format) const {
    auto feed = prepare(format);
    if (!feed) return std::move(feed).error();
    Cursor cur;
    cur.channel = channel_for(*feed);
    cur.feed = std::move(*feed);
    std::string out;
    while (true) {
        auto more = pull(cur, kChunkBytes, out);
        if (!more) return std::move(more).error();
        if (!*more) return out;
    }
}

}  // namespace starpunk::feeds
