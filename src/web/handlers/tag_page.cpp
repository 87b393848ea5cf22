// GET /tag/{tag} — the h-feed of published notes with a tag
// (web/note_list_page.hpp). Any spelling of a tag redirects (301) to its
// normalised name; a tag no published note has is 404.
#include "notes/note_tags.hpp"
#include "util/strings.hpp"
#include "web/errors.hpp"
#include "web/handlers/handlers.hpp"
#include "web/note_list_page.hpp"
#include "web/note_view.hpp"

namespace starpunk::web::handlers {

http::Handler tag_page(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
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
        auto tag = site->notes.find_tag(normal->name);
        if (!tag) {
            if (tag.error().code == ErrorCode::not_found) return error_response(*site, req, 404, "There is no tag at this address.");
            return error_response(*site, req, 500, "The tag could not be loaded.");
        }
        NoteListSpec spec;
        spec.cache_key = "tag:" + tag->name;
        spec.path = "/tag/" + percent_encode(tag->name);
        spec.feed_title = "Notes tagged " + tag->display;
        spec.page_title = spec.feed_title;
        spec.tag_page = true;
        spec.load = [&](int64_t limit, int64_t offset) {
            return site->notes.list_tagged(tag->name, notes::Visibility::published, limit, offset);
        };
        return note_list_page(*site, req, *page, spec, /*empty_is_404=*/true);
    };
}

}  // namespace starpunk::web::handlers
