#include "web/note_list_page.hpp"

#include <ctime>

#include "http/conditional.hpp"
#include "http/form.hpp"
#include "web/errors.hpp"
#include "web/note_view.hpp"
#include "web/page_cache.hpp"
#include "web/pagination.hpp"

namespace starpunk::web {

std::optional<int64_t> requested_page(const http::Request& req) {
    auto form = http::parse_urlencoded(req.query);
    if (!form) return std::nullopt;
    return page_number(*form);
}

std::string note_list_key(std::string_view list_key, int64_t page) {
    return std::string(list_key) + ":" + std::to_string(page);
}

http::Response note_list_page(const Site& site, const http::Request& req, int64_t page, const NoteListSpec& spec,
                              bool empty_is_404) {
    const std::string key = note_list_key(spec.cache_key, page);
    if (auto cached = site.pages.find(key)) return cached_page_response(site, req, *cached);

    const uint64_t generation = site.pages.generation();
    auto list = spec.load(kNotesPerPage, (page - 1) * kNotesPerPage);
    if (!list) return error_response(site, req, 500, "The notes could not be loaded.");
    if (empty_is_404 && list->total == 0) return error_response(site, req, 404, "There is nothing at this address.");
    const int64_t pages = std::max<int64_t>(1, (list->total + kNotesPerPage - 1) / kNotesPerPage);
    if (page > pages) return error_response(site, req, 404, "There is no page with that number.");

    TemplateData data;
    auto entries = note_list_data(site, list->notes);
    if (!entries) return error_response(site, req, 500, "A note could not be rendered.");
    data.set("notes", std::move(*entries));
    data.set("has_notes", !list->notes.empty());
    data.set("feed_title", spec.feed_title);
    data.set("feed_url", site.url(spec.path));
    if (spec.tag_page) data.set("tag_page", true);
    if (pages > 1) {
        auto page_url = [&](int64_t n) { return site.url(n == 1 ? spec.path : spec.path + "?page=" + std::to_string(n)); };
        data.set("paginated", true);
        data.set("page", std::to_string(page));
        data.set("pages", std::to_string(pages));
        if (page > 1) data.set("prev_url", page_url(page - 1));
        if (page < pages) data.set("next_url", page_url(page + 1));
    }
    PageInfo info;
    info.title = spec.page_title;
    if (page > 1) info.title = (info.title.empty() ? "" : info.title + ", ") + "Page " + std::to_string(page);
    auto body = render_page(site, info, "home", std::move(data));
    if (!body) return error_response(site, req, 500, "The page could not be rendered.");
    // Last-Modified is when this page was built: a list changes without any
    // listed note changing (a deletion, an older note published), and the
    // cache is rebuilt after every change.
    auto cached = make_cached_page(200, std::move(*body), http::format_http_date(std::time(nullptr)));
    site.pages.store(key, cached, generation);
    return cached_page_response(site, req, *cached);
}

}  // namespace starpunk::web
