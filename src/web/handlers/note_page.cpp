#include "http/conditional.hpp"
#include "web/errors.hpp"
#include "web/visitor.hpp"
#include "web/handlers/handlers.hpp"
#include "web/note_view.hpp"

namespace starpunk::web::handlers {

namespace {
std::string cache_key(std::string_view slug) { return "note:" + std::string(slug); }
}  // namespace

bool note_is_cached(const Site& site, http::Request& req) {
    req.prepared = site.pages.find(cache_key(req.param("slug")));
    return req.prepared != nullptr;
}

http::Handler note_page(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        if (req.prepared) return cached_page_response(*site, req, *std::static_pointer_cast<const CachedPage>(req.prepared));
        std::string_view slug = req.param("slug");
        std::string key = cache_key(slug);
        if (auto cached = site->pages.find(key)) return cached_page_response(*site, req, *cached);

        uint64_t generation = site->pages.generation();
        auto note = site->notes.get_by_slug(slug);
        if (!note) {
            if (note.error().code == ErrorCode::not_found) {
                return error_response(*site, req, 404, "There is no note at this address.");
            }
            return error_response(*site, req, 500, "The note could not be loaded.");
        }
        if (note->is_deleted()) return error_response(*site, req, 410, "This note has been deleted.");
        if (!note->published && !visitor(req).is_admin) return error_response(*site, req, 404, "There is no note at this address.");

        auto tags = site->notes.tags_of(note->id);
        if (!tags) return error_response(*site, req, 500, "The note could not be loaded.");
        auto photos = site->notes.photos_of(note->id);
        if (!photos) return error_response(*site, req, 500, "The note could not be loaded.");
        auto entry = note_data(*site, *note, *tags, *photos);
        if (!entry) return error_response(*site, req, 500, "The note could not be rendered.");
        if (!note->published) {
            // A draft, for the admin only: never cached, here or by anyone in between.
            auto body = render_page(*site, page_info(req, entry->second), "note", std::move(entry->first));
            if (!body) return error_response(*site, req, 500, "The page could not be rendered.");
            auto res = http::html_response(200, std::move(*body));
            res.set_header("Cache-Control", "private, no-store");
            return res;
        }
        PageInfo info;
        info.title = entry->second;
        auto body = render_page(*site, info, "note", std::move(entry->first));
        if (!body) return error_response(*site, req, 500, "The page could not be rendered.");
        auto cached = make_cached_page(200, std::move(*body), http::format_http_date(std::chrono::system_clock::to_time_t(
                                                                  std::chrono::time_point_cast<std::chrono::seconds>(note->updated_at))));
        site->pages.store(key, cached, generation);
        return cached_page_response(*site, req, *cached);
    };
}

}  // namespace starpunk::web::handlers
