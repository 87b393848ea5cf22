#include "web/note_list_page.hpp"

#include <cstdint>
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

// Markers in a rendered list frame. NUL cannot come from the templates or
// from escaped data (configuration values are C strings; tag names have no
// control characters), so each is found exactly where the frame put it.
constexpr std::string_view kEntriesMarker{"\0entries\0", 9};
constexpr char kPageToken = 'N';  // "\0N\0": this page's number
constexpr char kPrevToken = 'P';  // "\0P\0": the previous page's number
constexpr char kNextToken = 'X';  // "\0X\0": the next page's number
std::string token(char which) { return std::string{'\0', which, '\0'}; }

// What a page's frame depends on besides the list and its page count: the
// pagination links it has. Pages of one list with the same shape share a
// frame; their numbers are filled in.
struct FrameShape {
    enum class Prev { none, first_page, numbered } prev = Prev::none;  // page 1 / page 2 / later
    bool next = false;
};

FrameShape shape_of(int64_t page, int64_t pages) {
    FrameShape shape;
    if (page == 2) shape.prev = FrameShape::Prev::first_page;
    if (page > 2) shape.prev = FrameShape::Prev::numbered;
    shape.next = page < pages;
    return shape;
}

// The page without its entries and numbers, rendered by the templates once
// per list, page count and shape (markers in their places), and kept in the
// page cache like a page — so dropped by any write. Null when the templates
// fail.
std::shared_ptr<const CachedPage> list_frame(const Site& site, int64_t pages, FrameShape shape, const NoteListSpec& spec,
                                             uint64_t generation) {
    const std::string key = "frame:" + spec.cache_key + ":" + std::to_string(pages) + ":" +
                            std::to_string(static_cast<int>(shape.prev)) + (shape.next ? "n" : "");
    if (auto kept = site.pages.find(key)) return kept;
    TemplateData data;
    kainjow::mustache::list notes;
    TemplateData item;
    item.set("entry", std::string(kEntriesMarker));
    notes.push_back(std::move(item));
    data.set("has_notes", true);
    data.set("notes", TemplateData(notes));
    data.set("feed_title", spec.feed_title);
    data.set("feed_url", site.url(spec.path));
    if (!spec.tag.empty()) data.set("tag_page", true);
    if (pages > 1) {
        data.set("paginated", true);
        data.set("page", token(kPageToken));
        data.set("pages", std::to_string(pages));
        if (shape.prev == FrameShape::Prev::first_page) data.set("prev_url", site.url(spec.path));
        if (shape.prev == FrameShape::Prev::numbered) data.set("prev_url", site.url(spec.path + "?page=" + token(kPrevToken)));
        if (shape.next) data.set("next_url", site.url(spec.path + "?page=" + token(kNextToken)));
    }
    PageInfo info;
    info.title = spec.page_title;
    if (shape.prev != FrameShape::Prev::none) {
        info.title = (info.title.empty() ? "" : info.title + ", ") + "Page " + token(kPageToken);
    }
    auto frame = render_page(site, info, "home", std::move(data));
    if (!frame) return nullptr;
    // Its hash, kept as its fingerprint, goes into the ETag of every page
    // assembled from it (assemble).
    auto kept = make_cached_page(200, std::move(*frame), 0);
    site.pages.store(key, kept, generation);
    return kept;
}

// Appends a page's entries to `out`, '\n' between them, and sets `digest` to
// their entries_digest (web/page_cache.hpp); false when they cannot be had.
using AppendEntries = std::function<bool(std::string& out, std::uint64_t& digest)>;

// `frame` with page `page`'s numbers and its entries (append_entries) in
// place of the markers; false when append_entries is, when a marker is
// unknown, or when the entries had no place (the template lost {{{entry}}}:
// a bug, answered 500).
bool fill_frame(std::string_view frame, int64_t page, const AppendEntries& append_entries, std::string& out,
                std::uint64_t& digest) {
    std::size_t at = 0;
    bool placed = false;
    for (std::size_t nul; (nul = frame.find('\0', at)) != std::string_view::npos;) {
        out.append(frame.substr(at, nul - at));
        if (frame.substr(nul).starts_with(kEntriesMarker)) {
            if (placed || !append_entries(out, digest)) return false;
            placed = true;
            at = nul + kEntriesMarker.size();
            continue;
        }
        if (nul + 2 >= frame.size() || frame[nul + 2] != '\0') return false;
        switch (frame[nul + 1]) {
            case kPageToken: out.append(std::to_string(page)); break;
            case kPrevToken: out.append(std::to_string(page - 1)); break;
            case kNextToken: out.append(std::to_string(page + 1)); break;
            default: return false;
        }
        at = nul + 3;
    }
    out.append(frame.substr(at));
    return placed;
}

// A page without entries (a list with no notes, or whose notes all went
// while the page was built): rendered whole.
Result<std::string> render_empty(const Site& site, int64_t page, const NoteListSpec& spec) {
    TemplateData data;
    data.set("has_notes", false);
    data.set("notes", TemplateData(kainjow::mustache::list{}));
    data.set("feed_title", spec.feed_title);
    data.set("feed_url", site.url(spec.path));
    if (!spec.tag.empty()) data.set("tag_page", true);
    PageInfo info;
    info.title = spec.page_title;
    if (page > 1) info.title = (info.title.empty() ? "" : info.title + ", ") + "Page " + std::to_string(page);
    return render_page(site, info, "home", std::move(data));
}

// The whole page, kept in the page cache when it is page 1: the list's frame
// for this page's shape, its numbers, and `append_entries` copying the page's
// entries, '\n' between them, into the entries marker's place — or answering
// false (the page is then not assembled). Null when that or the templates fail.
// Its ETag is made from what it was assembled from — the frame's bytes, the
// page number and the entries' digest — which determine its bytes, instead of
// hashing the ~25 KB assembled (5–7 % of a list page's CPU, perf).
std::shared_ptr<const CachedPage> assemble(const Site& site, int64_t page, int64_t pages, const NoteListSpec& spec,
                                           bool has_entries, std::size_t entry_bytes_guess,
                                           const AppendEntries& append_entries, uint64_t generation) {
    // Last-Modified is when this page was built: a list changes without any
    // listed note changing (a deletion, an older note published).
    const std::time_t now = std::time(nullptr);
    std::shared_ptr<const CachedPage> cached;
    if (!has_entries) {
        auto whole = render_empty(site, page, spec);
        if (!whole) return nullptr;
        cached = make_cached_page(200, std::move(*whole), now);
    } else {
        auto frame = list_frame(site, pages, shape_of(page, pages), spec, generation);
        if (!frame) return nullptr;
        std::string body;
        body.reserve(frame->body->size() + entry_bytes_guess);
        std::uint64_t digest = 0;
        if (!fill_frame(*frame->body, page, append_entries, body, digest)) return nullptr;
        const std::uint64_t parts[3] = {frame->fingerprint, static_cast<std::uint64_t>(page), digest};
        const std::uint64_t fingerprint = content_hash(std::string_view(reinterpret_cast<const char*>(parts), sizeof parts));
        cached = make_cached_page(200, std::move(body), now, fingerprint);
    }
    if (page == 1) site.pages.store(note_list_key(spec.cache_key, page), cached, generation);
    return cached;
}

}  // namespace

namespace {

// Appends `entries` ('\n' between them) to `out`, skipping empty ones (notes
// that went while the page was built), and sets `digest` as
// PageCache::append_entries does: false when every one is empty.
bool append_built(const std::vector<std::string>& entries, std::string& out, std::uint64_t& digest) {
    std::vector<std::uint64_t> hashes;
    for (const auto& e : entries) {
        if (e.empty()) continue;
        if (!hashes.empty()) out.push_back('\n');
        out.append(e);
        hashes.push_back(content_hash(e));
    }
    digest = entries_digest(hashes);
    return !hashes.empty();
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
    const auto entries = [&](std::string& out, std::uint64_t& digest) {
        if (site.pages.append_entries(l.ids, '\n', out, &digest)) return true;
        auto built = note_entries_now(site, l.ids, generation);
        return built && append_built(*built, out, digest);
    };
    // Pages of ~20 entries of a few KB: one reservation covers most.
    req.prepared = assemble(site, page, pages, spec, !l.ids.empty(), l.ids.size() * 2048, entries, generation);
    return req.prepared != nullptr;
}

http::Response note_list_page(const Site& site, const http::Request& req, int64_t page, const NoteListSpec& spec,
                              bool empty_is_404) {
    if (req.prepared) return cached_page_response(site, req, std::static_pointer_cast<const CachedPage>(req.prepared));
    if (auto cached = site.pages.find(note_list_key(spec.cache_key, page))) return cached_page_response(site, req, std::move(cached));

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
    const auto built_here = [&](std::string& out, std::uint64_t& digest) {
        append_built(*entries, out, digest);
        return true;
    };
    auto built = assemble(site, page, pages, spec, bytes > entries->size(), bytes, built_here, generation);
    if (!built) return error_response(site, req, 500, "The page could not be rendered.");
    return cached_page_response(site, req, std::move(built));
}

}  // namespace starpunk::web
