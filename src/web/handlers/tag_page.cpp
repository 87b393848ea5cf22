// GET /tag/{tag} — the h-feed of published notes with a tag
// (web/note_list_page.hpp). Any spelling of a tag redirects (301) to its
// normalised name; a tag no published note has is 404.
//
// The tag's display name (the page's title) is read from the database by the
// worker and kept in the page cache under "tag-name:<name>" (dropped by any
// write like everything there), so tag_page_is_cached can assemble the page
// on the I/O thread.
#include "notes/note_tags.hpp"
#include "util/strings.hpp"
#include "web/errors.hpp"
#include "web/handlers/handlers.hpp"
#include "web/note_list_page.hpp"
#include "web/note_view.hpp"
#include "web/page_cache.hpp"

namespace starpunk::web::handlers {

namespace {

std::string display_key(std::string_view name) { return "tag-name:" + std::string(name); }

NoteListSpec tag_spec(const notes::Tag& tag) {
    NoteListSpec spec;
    spec.cache_key = "tag:" + tag.name;
    spec.path = "/tag/" + percent_encode(tag.name);
    spec.feed_title = "Notes tagged " + tag.display;
    spec.page_title = spec.feed_title;
    spec.tag = tag.name;
    return spec;
}

}  // namespace

bool tag_page_is_cached(const Site& site, http::Request& req) {
    const std::string_view written = req.param("tag");
    auto normal = notes::make_tag(written);
    if (!normal || normal->name != written) return false;  // the worker answers 404 or redirects
    auto page = requested_page(req);
    if (!page) return false;
    auto display = site.pages.find(display_key(normal->name));
    if (!display) return false;
    notes::Tag tag = *normal;
    tag.display = *display->body;
    return note_list_is_cached(site, req, *page, tag_spec(tag));
}

http::Handler tag_page(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        if (req.prepared) return cached_page_response(*site, req, std::static_pointer_cast<const CachedPage>(req.prepared));
        const std::string_view written = req.param("tag");
        auto normal = notes::make_tag(written);
        if (!normal) return error_response(*site, req, 404, "There is no tag at this address.");
        if (normal->name != written) {
            std::string target = tag_url(*site, *normal);
            if (!req.query.empty()) target += "?" + std::string(req.query);
            return http::redirect(target, 301);
        }
        auto page = requested_page(req);
        if (!page) return error_response(*site, req, 400, "The page number must be a positive whole number.");
        const uint64_t generation = site->pages.generation();  // before reading the tag
        auto tag = site->notes.find_tag(normal->name);
        if (!tag) {
            if (tag.error().code == ErrorCode::not_found) return error_response(*site, req, 404, "There is no tag at this address.");
            return error_response(*site, req, 500, "The tag could not be loaded.");
        }
        auto display = std::make_shared<CachedPage>();
        display->body = std::make_shared<const std::string>(tag->display);
        site->pages.store(display_key(tag->name), display, generation);
        return note_list_page(*site, req, *page, tag_spec(*tag), /*empty_is_404=*/true);
    };
}

}  // namespace starpunk::web::handlers
