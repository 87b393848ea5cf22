#include "feeds/writers.hpp"

#include "feeds/escape.hpp"

namespace starpunk::feeds {

namespace {

constexpr FormatInfo kFormats[] = {
    {"rss", "/feed.xml", "application/rss+xml", "application/rss+xml; charset=utf-8"},
    {"atom", "/feed.atom", "application/atom+xml", "application/atom+xml; charset=utf-8"},
    {"json", "/feed.json", "application/feed+json", "application/feed+json; charset=utf-8"},
};

constexpr std::string_view kXmlDeclaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

// <tag>escaped text</tag>\n
void element(std::string& out, std::string_view tag, std::string_view text) {
    out.push_back('<');
    out.append(tag);
    out.push_back('>');
    append_xml_escaped(out, text);
    out.append("</");
    out.append(tag);
    out.append(">\n");
}

// name="escaped value" with a leading space.
void attribute(std::string& out, std::string_view name, std::string_view value) {
    out.push_back(' ');
    out.append(name);
    out.append("=\"");
    append_xml_escaped(out, value);
    out.push_back('"');
}

// ,"name":"escaped value"  (or without the comma for the first member)
void member(std::string& out, std::string_view name, std::string_view value, bool first = false) {
    if (!first) out.push_back(',');
    append_json_string(out, name);
    out.push_back(':');
    append_json_string(out, value);
}

// The item's HTML followed by its photos as <img> elements (attribute values
// HTML-escaped here; the whole is escaped once more by the format).
std::string html_with_photos(const Item& item) {
    if (!item.photos || item.photos->empty()) return std::string(item.html);
    std::string out(item.html);
    for (const auto& p : *item.photos) {
        out.append("<p><img");
        attribute(out, "src", p.url);
        attribute(out, "alt", p.alt);
        if (p.width > 0 && p.height > 0) {
            attribute(out, "width", std::to_string(p.width));
            attribute(out, "height", std::to_string(p.height));
        }
        out.append("></p>");
    }
    return out;
}

const Photo* first_stored(const Item& item) {
    if (!item.photos) return nullptr;
    for (const auto& p : *item.photos) {
        if (!p.type.empty()) return &p;
    }
    return nullptr;
}

// RSS requires a channel description; without SITE_DESCRIPTION the title stands in.
std::string_view description_of(const Channel& c) {
    return c.description.empty() ? std::string_view(c.title) : std::string_view(c.description);
}

// ---------------------------------------------------------------- RSS 2.0

void rss_head(const Channel& c, std::string& out) {
    out.append(kXmlDeclaration);
    out.append("<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\">\n<channel>\n");
    element(out, "title", c.title);
    element(out, "link", c.home_url);
    element(out, "description", description_of(c));
    out.append("<atom:link");
    attribute(out, "href", c.feed_url);
    out.append(" rel=\"self\" type=\"application/rss+xml\"/>\n");
    element(out, "lastBuildDate", format_rfc822(c.updated));
    if (!c.generator.empty()) element(out, "generator", c.generator);
    element(out, "docs", "https://www.rssboard.org/rss-specification");
}

void rss_item(const Item& item, std::string& out) {
    out.append("<item>\n");
    element(out, "title", item.title);
    element(out, "link", item.url);
    out.append("<guid isPermaLink=\"true\">");
    append_xml_escaped(out, item.url);
    out.append("</guid>\n");
    element(out, "pubDate", format_rfc822(item.published));
    if (item.categories) {
        for (const auto& c : *item.categories) element(out, "category", c);
    }
    if (const Photo* p = first_stored(item)) {
        out.append("<enclosure");
        attribute(out, "url", p->url);
        attribute(out, "length", std::to_string(p->length));
        attribute(out, "type", p->type);
        out.append("/>\n");
    }
    element(out, "description", html_with_photos(item));
    out.append("</item>\n");
}

// ---------------------------------------------------------------- Atom 1.0

void atom_head(const Channel& c, std::string& out) {
    out.append(kXmlDeclaration);
    out.append("<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    element(out, "id", c.home_url);
    out.append("<title type=\"text\">");
    append_xml_escaped(out, c.title);
    out.append("</title>\n");
    if (!c.description.empty()) element(out, "subtitle", c.description);
    element(out, "updated", format_rfc3339(c.updated));
    out.append("<author>\n");
    element(out, "name", c.author_name);
    if (!c.author_url.empty()) element(out, "uri", c.author_url);
    out.append("</author>\n<link rel=\"self\" type=\"application/atom+xml\"");
    attribute(out, "href", c.feed_url);
    out.append("/>\n<link rel=\"alternate\" type=\"text/html\"");
    attribute(out, "href", c.home_url);
    out.append("/>\n");
    if (!c.generator.empty()) element(out, "generator", c.generator);
}

void atom_item(const Item& item, std::string& out) {
    out.append("<entry>\n");
    element(out, "id", item.url);
    out.append("<title type=\"text\">");
    append_xml_escaped(out, item.title);
    out.append("</title>\n");
    element(out, "updated", format_rfc3339(item.updated));
    element(out, "published", format_rfc3339(item.published));
    if (!item.summary.empty()) {
        out.append("<summary type=\"text\">");
        append_xml_escaped(out, item.summary);
        out.append("</summary>\n");
    }
    out.append("<link rel=\"alternate\" type=\"text/html\"");
    attribute(out, "href", item.url);
    out.append("/>\n");
    if (item.categories) {
        for (const auto& c : *item.categories) {
            out.append("<category");
            attribute(out, "term", c);
            out.append("/>\n");
        }
    }
    if (item.photos) {
        for (const auto& p : *item.photos) {
            out.append("<link rel=\"enclosure\"");
            attribute(out, "href", p.url);
            if (!p.type.empty()) {
                attribute(out, "type", p.type);
                attribute(out, "length", std::to_string(p.length));
            }
            out.append("/>\n");
        }
    }
    out.append("<content type=\"html\">");
    append_xml_escaped(out, html_with_photos(item));
    out.append("</content>\n</entry>\n");
}

// ---------------------------------------------------------------- JSON Feed 1.1

void json_head(const Channel& c, std::string& out) {
    out.append("{");
    member(out, "version", "https://jsonfeed.org/version/1.1", true);
    member(out, "title", c.title);
    member(out, "home_page_url", c.home_url);
    member(out, "feed_url", c.feed_url);
    if (!c.description.empty()) member(out, "description", c.description);
    out.append(",\"authors\":[{");
    member(out, "name", c.author_name, true);
    if (!c.author_url.empty()) member(out, "url", c.author_url);
    out.append("}],\"items\":[");
}

void json_item(const Item& item, size_t index, std::string& out) {
    out.append(index == 0 ? "\n{" : ",\n{");
    member(out, "id", item.url, true);
    member(out, "url", item.url);
    member(out, "title", item.title);
    member(out, "content_html", html_with_photos(item));
    if (item.photos && !item.photos->empty()) member(out, "image", item.photos->front().url);
    if (!item.summary.empty()) member(out, "summary", item.summary);
    member(out, "date_published", format_rfc3339(item.published));
    member(out, "date_modified", format_rfc3339(item.updated));
    if (item.categories && !item.categories->empty()) {
        out.append(",\"tags\":[");
        for (size_t i = 0; i < item.categories->size(); ++i) {
            if (i > 0) out.push_back(',');
            append_json_string(out, (*item.categories)[i]);
        }
        out.push_back(']');
    }
    if (first_stored(item)) {
        out.append(",\"attachments\":[");
        bool first = true;
        for (const auto& p : *item.photos) {
            if (p.type.empty()) continue;
            out.append(first ? "{" : ",{");
            first = false;
            member(out, "url", p.url, true);
            member(out, "mime_type", p.type);
            out.append(",\"size_in_bytes\":");
            out.append(std::to_string(p.length));
            out.push_back('}');
        }
        out.push_back(']');
    }
    out.push_back('}');
}

}  // namespace

const FormatInfo& format_info(Format format) { return kFormats[static_cast<size_t>(format)]; }

void write_head(Format format, const Channel& channel, std::string& out) {
    switch (format) {
        case Format::rss: return rss_head(channel, out);
        case Format::atom: return atom_head(channel, out);
        case Format::json: return json_head(channel, out);
    }
}

void write_item(Format format, const Item& item, size_t index, std::string& out) {
    switch (format) {
        case Format::rss: return rss_item(item, out);
        case Format::atom: return atom_item(item, out);
        case Format::json: return json_item(item, index, out);
    }
}

void write_tail(Format format, std::string& out) {
    switch (format) {
        case Format::rss: out.append("</channel>\n</rss>\n"); return;
        case Format::atom: out.append("</feed>\n"); return;
        case Format::json: out.append("\n]}\n"); return;
    }
}

std::string write_opml(const OpmlInfo& info) {
    std::string out(kXmlDeclaration);
    out.append("<opml version=\"2.0\">\n<head>\n");
    element(out, "title", info.site_name + " feeds");
    if (!info.owner_name.empty()) element(out, "ownerName", info.owner_name);
    if (!info.owner_id.empty()) element(out, "ownerId", info.owner_id);
    element(out, "docs", "http://opml.org/spec2.opml");
    out.append("</head>\n<body>\n");
    struct Entry {
        Format format;
        std::string_view label;
        std::string_view version;
    };
    for (auto [format, label, version] : {Entry{Format::rss, "RSS", "RSS2"}, Entry{Format::atom, "Atom", ""},
                                          Entry{Format::json, "JSON Feed", ""}}) {
        std::string text = info.site_name + " (" + std::string(label) + ")";
        out.append("<outline type=\"rss\"");
        attribute(out, "text", text);
        attribute(out, "title", text);
        attribute(out, "xmlUrl", info.site_url + std::string(format_info(format).path));
        attribute(out, "htmlUrl", info.site_url + "/");
        if (!version.empty()) attribute(out, "version", version);
        out.append("/>\n");
    }
    out.append("</body>\n</opml>\n");
    return out;
}

}  // namespace starpunk::feeds
