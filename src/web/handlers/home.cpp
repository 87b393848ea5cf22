// GET / — the h-feed of published notes (web/note_list_page.hpp).
#include "web/errors.hpp"
#include "web/handlers/handlers.hpp"
#include "web/note_list_page.hpp"

namespace starpunk::web::handlers {

namespace {

NoteListSpec home_spec(const Site& site) {
    NoteListSpec spec;
    spec.cache_key = "home";
    spec.path = "/";
    spec.feed_title = site.config.site_name;
    return spec;
}

}  // namespace

bool home_is_cached(const Site& site, http::Request& req) {
    auto page = requested_page(req);
    if (!page) return false;
    return note_list_is_cached(site, req, *page, home_spec(site));
}

http::Handler home(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        auto page = requested_page(req);
        if (!page) return error_response(*site, req, 400, "The page number must be a positive whole number.");
        return note_list_page(*site, req, *page, home_spec(*site));
    };
}

}  // namespace starpunk::web::handlers
