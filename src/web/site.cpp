#include "web/site.hpp"
#include "web/visitor.hpp"

#include <fmt/format.h>

#include <ctime>

#include "http/conditional.hpp"
#include "starpunk_version.hpp"

namespace starpunk::web {

std::string discovery_link_header(const Site& site) {
    const auto& c = site.config;
    std::string link = fmt::format(
        "<{0}/micropub>; rel=\"micropub\", <{0}/feed.xml>; rel=\"alternate\"; type=\"application/rss+xml\", "
        "<{0}/feed.atom>; rel=\"alternate\"; type=\"application/atom+xml\", "
        "<{0}/feed.json>; rel=\"alternate\"; type=\"application/feed+json\"",
        c.site_url);
    if (c.indieauth_server) {
        // The built-in IndieAuth server (docs/indieauth.md).
        link += fmt::format(", <{0}/.well-known/oauth-authorization-server>; rel=\"indieauth-metadata\", "
                            "<{0}/auth/authorize>; rel=\"authorization_endpoint\"",
                            c.site_url);
        link += fmt::format(", <{}/auth/token>; rel=\"token_endpoint\"", c.site_url);
    } else if (!c.token_endpoint.empty()) {
        link += fmt::format(", <{}>; rel=\"token_endpoint\"", c.token_endpoint);
    }
    return link;
}

std::string cached_page_lines(const Site& site) {
    return http::header_line("Cache-Control", "public, max-age=60") +
           http::header_line("Link", site.discovery_links.empty() ? discovery_link_header(site) : site.discovery_links);
}

http::Response cached_page_response(const Site& site, const http::Request& req, std::shared_ptr<const CachedPage> page) {
    static const std::string kHtmlLine = http::header_line("Content-Type", http::kHtmlType);
    http::Response res;
    res.status = page->status;
    // Every header a block built once (the site's, the page's validators):
    // nothing copied. The page owns its block and the body; the site
    // outlives the server.
    if (site.page_lines.empty()) {
        auto lines = std::make_shared<const std::string>(cached_page_lines(site));  // tests' sites only
        res.add_block(*lines);
        res.owner = std::make_shared<std::pair<std::shared_ptr<const std::string>, std::shared_ptr<const CachedPage>>>(
            lines, page);
    } else {
        res.add_block(site.page_lines);
        res.owner = page;
    }
    // A Last-Modified is a validator only once its second is over (RFC 9110
    // §8.8.2.2): a page changed and rebuilt later in that same second carries
    // the same date, and a cache holding the earlier copy would get a 304 to
    // If-Modified-Since. Within that second the page goes out without it (the
    // ETag still validates) and If-Modified-Since is not honoured.
    const bool dated = page->last_modified_at > 0 && page->last_modified_at < std::time(nullptr);
    res.add_block(dated ? std::string_view(page->validator_lines)
                        : std::string_view(page->validator_lines).substr(0, page->etag_line_bytes));
    if (page->status == 200 && http::is_not_modified(req, page->etag(), dated ? page->last_modified() : std::string_view())) {
        res.status = 304;
        return res;
    }
    res.add_block(kHtmlLine);
    if (page->body) res.shared_body = page->body;
    else res.body = page->bytes();
    return res;
}

std::string human_date(Timestamp t) {
    using namespace std::chrono;
    static constexpr const char* kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                                              "July",    "August",   "September", "October", "November", "December"};
    year_month_day ymd{floor<days>(t)};
    return fmt::format("{} {} {}", static_cast<unsigned>(ymd.day()), kMonths[static_cast<unsigned>(ymd.month()) - 1],
                       static_cast<int>(ymd.year()));
}

Author site_author(const config::Config& c) {
    return Author{c.site_author.empty() ? c.site_name : c.site_author, c.admin_me.empty() ? c.site_url + "/" : c.admin_me,
                  c.site_author_photo};
}

namespace {
void set_author(TemplateData& data, const config::Config& c) {
    Author a = site_author(c);
    data.set("author_name", std::move(a.name));
    data.set("author_url", std::move(a.url));
    if (!a.photo.empty()) data.set("author_photo", std::move(a.photo));
}
}  // namespace

namespace {

// Everything the layout shows, for `page`, around `content` (already HTML).
TemplateData layout_data(const Site& site, const PageInfo& page, std::string page_title, std::string content) {
    const auto& c = site.config;
    TemplateData layout;
    layout.set("page_title", std::move(page_title));
    layout.set("site_url", c.site_url);
    layout.set("site_name", c.site_name);
    layout.set("stylesheet", site.static_files.url("style.css"));
    layout.set("favicon", site.static_files.url("favicon.svg"));
    layout.set("search_query", page.search_query);
    layout.set("content", std::move(content));
    set_author(layout, c);
    layout.set("version", std::string(kVersion));
    // The built-in IndieAuth server's endpoints win over TOKEN_ENDPOINT (whose
    // tokens Micropub still accepts): its codes are redeemed only here.
    if (c.indieauth_server) {
        layout.set("indieauth_metadata", c.site_url + "/.well-known/oauth-authorization-server");
        layout.set("authorization_endpoint", c.site_url + "/auth/authorize");
        layout.set("token_endpoint", c.site_url + "/auth/token");
    } else if (!c.token_endpoint.empty()) {
        layout.set("token_endpoint", c.token_endpoint);
    }
    if (!page.scripts.empty()) {
        TemplateData scripts{TemplateData::type::list};
        for (const auto& src : page.scripts) {
            TemplateData item;
            item.set("src", src);
            scripts.push_back(std::move(item));
        }
        layout.set("scripts", scripts);
    }
    layout.set("htmx", page.htmx);
    if (page.admin) {
        TemplateData admin;
        admin.set("csrf_token", page.csrf_token);
        layout.set("admin", admin);
    }
    return layout;
}

std::string full_title(const Site& site, const PageInfo& page) {
    return page.title.empty() ? site.config.site_name : page.title + " — " + site.config.site_name;
}

// What the frame leaves out is exactly what a public page never has.
bool fits_public_frame(const PageInfo& page) {
    return !page.admin && page.scripts.empty() && !page.htmx && page.search_query.empty();
}

// The same escaping the template engine applies to {{page_title}}.
std::string escape_like_templates(const std::string& text) { return kainjow::mustache::html_escape(text); }

// Stand-ins that no escaping changes and no configuration value holds (the
// build-time check in make_layout_frame catches one that does).
constexpr std::string_view kTitleMarker = "\x01page-title\x01";
constexpr std::string_view kContentMarker = "\x01page-content\x01";

}  // namespace

std::shared_ptr<const LayoutFrame> make_layout_frame(const Site& site, std::string dictionary) {
    const PageInfo page;
    auto marked = site.templates->render("layout", layout_data(site, page, std::string(kTitleMarker), std::string(kContentMarker)));
    if (!marked) return nullptr;
    auto frame = std::make_shared<LayoutFrame>();
    frame->dictionary = std::move(dictionary);
    const std::string& text = *marked;
    std::size_t pos = 0;
    while (true) {
        const std::size_t title = text.find(kTitleMarker, pos);
        const std::size_t content = text.find(kContentMarker, pos);
        const std::size_t next = std::min(title, content);
        frame->literals.push_back(text.substr(pos, next == std::string::npos ? std::string::npos : next - pos));
        if (next == std::string::npos) break;
        const bool is_title = next == title;
        frame->slots.push_back(is_title ? LayoutFrame::Slot::title : LayoutFrame::Slot::content);
        pos = next + (is_title ? kTitleMarker.size() : kContentMarker.size());
    }
    PageInfo sample;
    sample.title = "A <sample> & \"title\" — 'quoted'";
    const std::string sample_content = "<p>Sample &amp; content</p>\n";
    auto expected = site.templates->render("layout", layout_data(site, sample, full_title(site, sample), sample_content));
    if (!expected || assemble(*frame, escape_like_templates(full_title(site, sample)), sample_content) != *expected) {
        return nullptr;
    }
    return frame;
}

Result<std::string> render_page(const Site& site, const PageInfo& page, std::string_view name, TemplateData data) {
    const auto& c = site.config;
    data.set("site_url", c.site_url);
    data.set("site_name", c.site_name);
    if (!c.site_description.empty()) data.set("site_description", c.site_description);
    set_author(data, c);
    auto inner = site.templates->render(name, data);
    if (!inner) return inner;
    return render_in_layout(site, page, std::move(*inner));
}

Result<std::string> render_in_layout(const Site& site, const PageInfo& page, std::string content) {
    if (site.public_layout && fits_public_frame(page)) {
        return assemble(*site.public_layout, escape_like_templates(full_title(site, page)), content);
    }
    return site.templates->render("layout", layout_data(site, page, full_title(site, page), std::move(content)));
}

std::shared_ptr<const CachedPage> cached_page_in_layout(const Site& site, const PageInfo& page, std::string content,
                                                        std::time_t last_modified_at) {
    if (site.public_layout && fits_public_frame(page)) {
        return make_framed_page(site.public_layout, escape_like_templates(full_title(site, page)), std::move(content),
                                last_modified_at);
    }
    auto body = render_in_layout(site, page, std::move(content));
    if (!body) return nullptr;
    return make_cached_page(200, std::move(*body), last_modified_at);
}

PageInfo page_info(const http::Request& req, std::string title) {
    PageInfo info;
    info.title = std::move(title);
    info.admin = visitor(req).is_admin;
    if (visitor(req).is_admin) info.csrf_token = visitor(req).csrf_token;
    return info;
}

}  // namespace starpunk::web
