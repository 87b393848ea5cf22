#include <charconv>

#include "http/conditional.hpp"
#include "http/form.hpp"
#include "web/errors.hpp"
#include "web/handlers/handlers.hpp"
#include "web/pagination.hpp"
#include "web/note_view.hpp"

namespace starpunk::web::handlers {

namespace {

constexpr int64_t kPerPage = 20;

// ?page=N -> N (1 when absent); nullopt when present but malformed.
std::optional<int64_t> page_number(const http::Request& req) {
    auto form = http::parse_urlencoded(req.query);
    if (!form) return std::nullopt;
    return web::page_number(*form);
}

std::string cache_key(int64_t page) { return "home:" + std::to_string(page); }

}  // namespace

bool home_is_cached(const Site& site, http::Request& req) {
    auto page = page_number(req);
    if (!page) return false;
    req.prepared = site.pages.find(cache_key(*page));
    return req.prepared != nullptr;
}

http::Handler home(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        if (req.prepared) return cached_page_response(*site, req, *std::static_pointer_cast<const CachedPage>(req.prepared));
        auto page = page_number(req);
        if (!page) return error_response(*site, req, 400, "The page number must be a positive whole number.");
        std::string key = cache_key(*page);
        if (auto cached = site->pages.find(key)) return cached_page_response(*site, req, *cached);

        uint64_t generation = site->pages.generation();
        auto list = site->notes.list(notes::Visibility::published, kPerPage, (*page - 1) * kPerPage);
        if (!list) return error_response(*site, req, 500, "The notes could not be loaded.");
        int64_t pages = std::max<int64_t>(1, (list->total + kPerPage - 1) / kPerPage);
        if (*page > pages) return error_response(*site, req, 404, "There is no page with that number.");

        TemplateData data;
        auto entries = note_list_data(*site, list->notes);
        if (!entries) return error_response(*site, req, 500, "A note could not be rendered.");
        data.set("notes", std::move(*entries));
        data.set("has_notes", !list->notes.empty());
        if (pages > 1) {
            data.set("paginated", true);
            data.set("page", std::to_string(*page));
            data.set("pages", std::to_string(pages));
            if (*page > 1) data.set("prev_url", *page == 2 ? site->url("/") : site->url("/?page=" + std::to_string(*page - 1)));
            if (*page < pages) data.set("next_url", site->url("/?page=" + std::to_string(*page + 1)));
        }
        PageInfo info;
        if (*page > 1) info.title = "Page " + std::to_string(*page);
        auto body = render_page(*site, info, "home", std::move(data));
        if (!body) return error_response(*site, req, 500, "The page could not be rendered.");
        // Last-Modified is when this page was built: a list changes without any
        // listed note changing (a deletion, an older note published), and the
        // cache is rebuilt after every change.
        auto cached = make_cached_page(200, std::move(*body), http::format_http_date(std::time(nullptr)));
        site->pages.store(key, cached, generation);
        return cached_page_response(*site, req, *cached);
    };
}

}  // namespace starpunk::web::handlers
