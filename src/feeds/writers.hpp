// Feed document writers: RSS 2.0, Atom 1.0 (RFC 4287), JSON Feed 1.1, and the
// OPML 2.0 list of those three. A feed is written in three steps — head, each
// item, tail — each appending to a string, so a caller can send the document
// piece by piece and never hold more than one item (feeds/feed_service.hpp).
//
// Contract: every text field is escaped here exactly once (feeds/escape.hpp);
// callers pass plain text for titles and names, sanitised HTML for item bodies,
// and absolute URLs. The output is well-formed for any input bytes. Pure
// functions, thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/clock.hpp"

namespace starpunk::feeds {

enum class Format { rss, atom, json };

struct FormatInfo {
    std::string_view name;          // "rss", "atom", "json"
    std::string_view path;          // canonical site path: "/feed.xml", "/feed.atom", "/feed.json"
    std::string_view media_type;    // "application/rss+xml", ...
    std::string_view content_type;  // media_type + "; charset=utf-8"
};
const FormatInfo& format_info(Format format);

inline constexpr std::string_view kOpmlContentType = "text/x-opml; charset=utf-8";

// The feed as a whole (RSS channel, Atom feed, JSON Feed top level).
struct Channel {
    std::string title;        // SITE_NAME
    std::string home_url;     // the site's home page, absolute ("https://example.com/")
    std::string feed_url;     // this document's canonical absolute URL (self link)
    std::string description;  // SITE_DESCRIPTION; may be empty (RSS then repeats the title)
    std::string author_name;  // SITE_AUTHOR, else SITE_NAME
    std::string author_url;   // ADMIN_ME; may be empty
    std::string generator;    // "StarPunk 1.2.3"
    Timestamp updated{};      // newest change among the items (lastBuildDate, <updated>)
};

// A photo of a note (notes/note_photos.hpp), URL absolute. Stored images
// have a type and a length; external ones (linked, never fetched) have
// neither, so RSS and JSON Feed, which require them, leave them out of
// <enclosure> and attachments; every photo is an <img> in the item's HTML.
struct Photo {
    std::string url;
    std::string alt;
    std::string type;          // "image/jpeg"; empty for external photos
    std::uint64_t length = 0;  // bytes; 0 for external photos
    int width = 0;
    int height = 0;
};

// One note. Views: the caller keeps the strings alive while the item is written.
struct Item {
    std::string_view url;    // absolute permalink; also the item's id/guid
    std::string_view title;  // plain text
    std::string_view html;   // sanitised HTML body
    Timestamp published{};
    Timestamp updated{};
    std::string_view summary;  // plain text; may be empty (Atom <summary>, JSON Feed summary)
    const std::vector<std::string>* categories = nullptr;  // tag display names (RSS <category>,
                                                           // Atom <category term>, JSON Feed tags)
    // In order. RSS: <enclosure> for the first stored photo (RSS allows one);
    // Atom: <link rel="enclosure"> for each; JSON Feed: `image` (the first)
    // and `attachments` (stored ones). All formats: each as <img> after the
    // item's HTML.
    const std::vector<Photo>* photos = nullptr;
};

void write_head(Format format, const Channel& channel, std::string& out);
// `index` counts items from 0 (JSON Feed separates items with commas).
void write_item(Format format, const Item& item, size_t index, std::string& out);
void write_tail(Format format, std::string& out);

// OPML 2.0 subscription list with one outline per feed format.
struct OpmlInfo {
    std::string site_name;  // SITE_NAME: the list is "<SITE_NAME> feeds", each outline "<SITE_NAME> (RSS)", …
    std::string site_url;   // SITE_URL without trailing slash
    std::string owner_name;
    std::string owner_id;   // ADMIN_ME; may be empty
};
std::string write_opml(const OpmlInfo& info);

}  // namespace starpunk::feeds
