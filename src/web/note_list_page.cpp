#include "web/note_list_page.hpp"

#include <ctime>
#include <functional>

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

namespace {

int64_t page_count(int64_t total) { return std::max<int64_t>(1, (total + kNotesPerPage - 1) / kNotesPerPage); }

// Where the entries go in the rendered page: NUL cannot come from the
// templates or from escaped data (configuration values are C strings), so the
// marker is found exactly where {{{entry}}} put it.
constexpr std::string_view kEntriesMarker{"\0entries\0", 9};

// The whole page, kept in the page cache when it is page 1. The templates
// render the page around a marker once; `append_entries` then copies the
// page's entries, '\n' between them, into the marker's place, or answers false
// (the page is then not assembled). Null when that or the templates fail.
std::shared_ptr<const CachedPage> assemble(const Site& site, int64_t page, int64_t pages, const NoteListSpec& spec,
                                           bool has_entries, std::size_t entry_bytes_guess,
                                           const std::function<bool(std::string&)>& append_entries, uint64_t generation) {
    TemplateData data;
    kainjow::mustache::list notes;
    if (has_entries) {
        TemplateData item;
        item.set("entry", std::string(kEntriesMarker));
        notes.push_back(std::move(item));
    }
    data.set("has_notes", !notes.empty());
    data.set("notes", TemplateData(notes));
    data.set("feed_title", spec.feed_title);
    data.set("feed_url", site.url(spec.path));
    if (!spec.tag.empty()) data.set("tag_page", true);
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
    auto frame = render_page(site, info, "home", std::move(data));
    if (!frame) return nullptr;
    std::string body;
    if (!has_entries) {
        body = std::move(*frame);
    } else {
        const auto at = frame->find(kEntriesMarker);
        if (at == std::string::npos) return nullptr;  // the template lost {{{entry}}}: a bug, a 500
        body.reserve(frame->size() + entry_bytes_guess);
        body.append(*frame, 0, at);
        if (!append_entries(body)) return nullptr;
        body.append(*frame, at + kEntriesMarker.size());
    }
    // Last-Modified is when this page was built: a list changes without any
    // listed note changing (a deletion, an older note published).
    auto cached = make_cached_page(200, std::move(body), http::format_http_date(std::time(nullptr)));
    if (page == 1) site.pages.store(note_list_key(spec.cache_key, page), cached, generation);
    return cached;
}

}  // namespace

namespace {

// Appends `entries` ('\n' between them) to `out`, skipping empty ones (notes
// that went while the page was built): false when every one is empty.
bool append_built(const std::vector<std::string>& entries, std::string& out) {
    bool first = true;
    for (const auto& e : entries) {
        if (e.empty()) continue;
        if (!first) out.push_back('\n');
        out.append(e);
        first = false;
    }
    return !first;
}

}  // namespace

bool note_list_is_cached(const Site& site, http::Request& req, int64_t page, const NoteListSpec& spec) {
    if (auto cached = site.pages.find(note_list_key(spec.cache_key, page))) {
        req.prepared = std::move(cached);
        return true;
    }
    const uint64_t generation = site.pages.generation();
    auto listing = site.notes.published_listing(spec.tag, kNotesPerPage, (page - 1) * kNotesPerPage, /*memory_only=*/true);
    if (!listing || !*listing) return false;
    const auto& l = **listing;
    if (l.total == 0 || page > page_count(l.total)) return false;  // the worker answers 404
    const int64_t pages = page_count(l.total);
    // The kept entries; when some is not kept, one read builds the missing
    // ones unless they need more (note_entries_now) — then a worker does.
    const auto entries = [&](std::string& out) {
        if (site.pages.append_entries(l.ids, '\n', out)) return true;
        auto built = note_entries_now(site, l.ids, generation);
        return built && append_built(*built, out);
    };
    // Pages of ~20 entries of a few KB: one reservation covers most.
    req.prepared = assemble(site, page, pages, spec, !l.ids.empty(), l.ids.size() * 2048, entries, generation);
    return req.prepared != nullptr;
}

http::Response note_list_page(const Site& site, const http::Request& req, int64_t page, const NoteListSpec& spec,
                              bool empty_is_404) {
    if (req.prepared) return cached_page_response(site, req, *std::static_pointer_cast<const CachedPage>(req.prepared));
    if (auto cached = site.pages.find(note_list_key(spec.cache_key, page))) return cached_page_response(site, req, *cached);

    const uint64_t generation = site.pages.generation();  // before reading the database
    auto listing = site.notes.published_listing(spec.tag, kNotesPerPage, (page - 1) * kNotesPerPage, /*memory_only=*/false);
    if (!listing || !*listing) return error_response(site, req, 500, "The notes could not be loaded.");
    const auto& l = **listing;
    if (empty_is_404 && l.total == 0) return error_response(site, req, 404, "There is nothing at this address.");
    const int64_t pages = page_count(l.total);
    if (page > pages) return error_response(site, req, 404, "There is no page with that number.");
    auto entries = note_entries(site, l.ids, generation);
    if (!entries) return error_response(site, req, 500, "A note could not be rendered.");
    std::size_t bytes = 0;
    for (const auto& e : *entries) bytes += e.size() + 1;
    const auto built_here = [&](std::string& out) {
        append_built(*entries, out);
        return true;
    };
    auto built = assemble(site, page, pages, spec, bytes > entries->size(), bytes, built_here, generation);
    if (!built) return error_response(site, req, 500, "The page could not be rendered.");
    return cached_page_response(site, req, *built);
}

}  // namespace starpunk::web
