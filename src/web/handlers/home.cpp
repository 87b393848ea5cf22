// GET / — the h-feed of published notes (web/note_list_page.hpp).
#include "web/errors.hpp"
#include "web/handlers/handlers.hpp"
#include "web/note_list_page.hpp"

namespace starpunk::web::handlers {

namespace {
constexpr std::string_view kListKey = "home";
}  // namespace

bool home_is_cached(const Site& site, http::Request& req) {
    auto page = requested_page(req);
    if (!page) return false;
    req.prepared = site.pages.find(note_list_key(kListKey, *page));
    return req.prepared != nullptr;
}

http::Handler home(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        if (req.prepared) return cached_page_response(*site, req, *std::static_pointer_cast<const CachedPage>(req.prepared));
        auto page = requested_page(req);
        if (!page) return error_response(*site, req, 400, "The page number must be a positive whole number.");
        NoteListSpec spec;
        spec.cache_key = kListKey;
        spec.path = "/";
        spec.feed_title = site->config.site_name;
        spec.load = [&](int64_t limit, int64_t offset) {
            return site->notes.list(notes::Visibility::published, limit, offset);
        };
        return note_list_page(*site, req, *page, spec);
    };
}

}  // namespace starpunk::web::handlers
