// GET /admin/media — the stored images, newest first (media/media_service.hpp):
// a preview (the narrowest variant, else the image), its address, type,
// dimensions, size, upload date and the notes whose photos use it (links to
// their edit pages; notes in the trash marked, as they still hold it).
#include <spdlog/spdlog.h>

#include "media/media_service.hpp"
#include "web/errors.hpp"
#include "web/handlers/handlers.hpp"

namespace starpunk::web::handlers {

namespace {
constexpr int kListed = 200;

std::string human_bytes(std::uint64_t n) {
    if (n >= 1024 * 1024) return std::to_string(n / (1024 * 1024)) + "." + std::to_string(n % (1024 * 1024) * 10 / (1024 * 1024)) + " MB";
    if (n >= 1024) return std::to_string(n / 1024) + " KB";
    return std::to_string(n) + " bytes";
}
}  // namespace

http::Handler admin_media(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        if (!site->media) return error_response(*site, req, 503, "This server does not store media.");
        auto items = site->media->list(kListed);
        if (!items) {
            spdlog::error("admin: media could not be listed: {}", items.error().message);
            return error_response(*site, req, 500, "The media could not be listed.");
        }
        std::vector<int64_t> ids;
        for (const auto& m : *items) ids.push_back(m.id);
        auto users = site->notes.notes_using_media(ids);
        if (!users) {
            spdlog::error("admin: the notes using media could not be listed: {}", users.error().message);
            return error_response(*site, req, 500, "The media could not be listed.");
        }
        TemplateData rows{TemplateData::type::list};
        for (const auto& m : *items) {
            TemplateData row;
            const auto& preview = m.variants.empty() ? m.file : m.variants.front();
            row.set("url", site->url("/media/" + m.file.path));
            row.set("preview", "/media/" + preview.path);
            row.set("preview_width", std::to_string(preview.width));
            row.set("preview_height", std::to_string(preview.height));
            row.set("type", m.type);
            row.set("width", std::to_string(m.file.width));
            row.set("height", std::to_string(m.file.height));
            row.set("size", human_bytes(m.file.bytes));
            row.set("variants", std::to_string(m.variants.size()));
            row.set("created_iso", format_rfc3339(m.created_at));
            row.set("created_human", human_date(m.created_at));
            TemplateData used{TemplateData::type::list};
            auto it = users->find(m.id);
            if (it != users->end()) {
                for (const auto& n : it->second) {
                    TemplateData u;
                    u.set("edit_url", site->url("/admin/edit/" + std::to_string(n.id)));
                    u.set("slug", n.slug);
                    u.set("deleted", n.is_deleted());
                    used.push_back(std::move(u));
                }
            }
            row.set("has_users", it != users->end());
            row.set("users", std::move(used));
            rows.push_back(std::move(row));
        }
        TemplateData data;
        data.set("rows", rows);
        data.set("has_rows", !items->empty());
        data.set("limit", std::to_string(kListed));
        auto page = render_page(*site, page_info(req, "Media"), "admin_media", std::move(data));
        if (!page) return error_response(*site, req, 500, "The page could not be rendered.");
        return http::html_response(200, std::move(*page));
    };
}

}  // namespace starpunk::web::handlers
