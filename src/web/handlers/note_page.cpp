// GET /note/{slug}. Where the work happens:
//   * on the I/O thread (note_is_cached): a page in the page cache, or a
//     published note without photos whose rendering is stored — one indexed
//     read through an idle pooled connection and the page built without the
//     template engine (web/note_entry.hpp), cheaper than the hop to a worker;
//   * on a worker (note_page): everything else — a note still to be
//     rendered or with photos (a second read), drafts (the visitor's session
//     is read), 404 and 410, and any read that found no idle connection or
//     failed.
// Both build the public page the same way (public_page), so a page is the
// same bytes and validators whichever thread built it, and keep it in the
// page cache as its title and content alone (cached_page_in_layout), the
// layout's frame being the same for every page; a draft's page is the same
// content (note_article_html) in the admin's layout.
#include "http/conditional.hpp"
#include "notes/rendered_store.hpp"
#include "web/errors.hpp"
#include "web/visitor.hpp"
#include "web/handlers/handlers.hpp"
#include "web/note_entry.hpp"

namespace starpunk::web::handlers {

namespace {

std::string cache_key(std::string_view slug) { return "note:" + std::string(slug); }

std::time_t last_modified(const notes::Note& note) {
    return std::chrono::system_clock::to_time_t(std::chrono::time_point_cast<std::chrono::seconds>(note.updated_at));
}

// A published, undeleted note's page from its rendering, kept in the page
// cache unless a write happened since `generation` was read; nullptr when the
// layout could not be rendered.
std::shared_ptr<const CachedPage> public_page(const Site& site, const std::string& key, uint64_t generation,
                                              const notes::NoteForPage& found,
                                              const std::vector<notes::NotePhoto>& photos,
                                              const notes::RenderedNote& rendered) {
    PageInfo info;
    info.title = rendered.title;
    auto page = cached_page_in_layout(site, info, note_article_html(site, found.note, found.tags, photos, rendered),
                                      last_modified(found.note));
    if (!page) return nullptr;
    site.pages.store(key, page, generation);
    return page;
}

}  // namespace

bool note_is_cached(const Site& site, http::Request& req) {
    const std::string key = cache_key(req.param("slug"));
    if (auto cached = site.pages.find(key)) {
        req.prepared = std::move(cached);
        return true;
    }
    const uint64_t generation = site.pages.generation();
    auto found = site.notes.rendered().for_page(req.param("slug"), /*wait=*/false);
    if (!found || !found->note.published || found->note.is_deleted() || !found->rendering || found->has_photos) {
        return false;
    }
    req.prepared = public_page(site, key, generation, *found, {}, *found->rendering);
    return req.prepared != nullptr;
}

http::Handler note_page(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        if (req.prepared) return cached_page_response(*site, req, std::static_pointer_cast<const CachedPage>(req.prepared));
        std::string_view slug = req.param("slug");
        std::string key = cache_key(slug);
        if (auto cached = site->pages.find(key)) return cached_page_response(*site, req, std::move(cached));

        uint64_t generation = site->pages.generation();
        auto found = site->notes.rendered().for_page(slug);
        if (!found) {
            if (found.error().code == ErrorCode::not_found) {
                return error_response(*site, req, 404, "There is no note at this address.");
            }
            return error_response(*site, req, 500, "The note could not be loaded.");
        }
        const notes::Note& note = found->note;
        if (note.is_deleted()) return error_response(*site, req, 410, "This note has been deleted.");
        if (!note.published && !visitor(req).is_admin) return error_response(*site, req, 404, "There is no note at this address.");

        std::vector<notes::NotePhoto> photos;
        if (found->has_photos) {
            auto read = site->notes.photos_of(note.id);
            if (!read) return error_response(*site, req, 500, "The note could not be loaded.");
            photos = std::move(*read);
        }
        std::shared_ptr<const notes::RenderedNote> rendered;
        if (found->rendering) {
            rendered = std::make_shared<const notes::RenderedNote>(std::move(*found->rendering));
        } else if (auto fresh = site->renderer.render(note)) {  // not stored yet: render (single flight)
            rendered = std::move(*fresh);
        } else {
            return error_response(*site, req, 500, "The note could not be rendered.");
        }
        if (!note.published) {
            // A draft, for the admin only: never cached, here or by anyone in between.
            auto body = render_in_layout(*site, page_info(req, rendered->title),
                                         note_article_html(*site, note, found->tags, photos, *rendered));
            if (!body) return error_response(*site, req, 500, "The page could not be rendered.");
            auto res = http::html_response(200, std::move(*body));
            res.set_header("Cache-Control", "private, no-store");
            return res;
        }
        auto page = public_page(*site, key, generation, *found, photos, *rendered);
        if (!page) return error_response(*site, req, 500, "The page could not be rendered.");
        return cached_page_response(*site, req, std::move(page));
    };
}

}  // namespace starpunk::web::handlers
