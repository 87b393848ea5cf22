// GET /admin/ — every note that is not in the trash (drafts and published),
// newest first, 50 per page; ?view=trash lists the trash instead. Titles come
// from the render cache, so a page costs one query plus cached lookups.
#include "http/form.hpp"
#include "web/admin_view.hpp"
#include "web/visitor.hpp"
#include "web/errors.hpp"
#include "web/handlers/handlers.hpp"
#include "web/note_view.hpp"
#include "web/pagination.hpp"

namespace starpunk::web::handlers {

namespace {

constexpr int64_t kPerPage = 50;

// Fixed messages for ?notice=: the request chooses one, it never supplies text.
std::string_view notice_text(std::string_view key) {
    if (key == "created") return "Note created.";
    if (key == "updated") return "Note saved.";
    if (key == "deleted") return "Note moved to the trash.";
    if (key == "restored") return "Note restored.";
    if (key == "purged") return "Note deleted for good.";
    return {};
}

}  // namespace

http::Handler admin_list(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        auto query = http::parse_urlencoded(req.query);
        if (!query) return error_response(*site, req, 400, query.error().message);
        const bool trash = query->get("view").value_or("") == "trash";
        auto page_or = page_number(*query);
        if (!page_or) return error_response(*site, req, 400, "The page number must be a positive whole number.");
        const int64_t page = *page_or;

        auto list = site->notes.list(trash ? notes::Visibility::trash : notes::Visibility::all, kPerPage,
                                      (page - 1) * kPerPage);
        auto other = site->notes.list(trash ? notes::Visibility::all : notes::Visibility::trash, 1, 0);
        if (!list || !other) return error_response(*site, req, 500, "The notes could not be listed.");
        int64_t pages = std::max<int64_t>(1, (list->total + kPerPage - 1) / kPerPage);
        if (page > pages) return error_response(*site, req, 404, "There is no page with that number.");

        TemplateData rows{TemplateData::type::list};
        for (const auto& note : list->notes) {
            TemplateData row;
            row.set("id", std::to_string(note.id));
            row.set("slug", note.slug);
            row.set("url", note_url(*site, note));
            auto rendered = site->renderer.render(note);
            row.set("title", rendered ? (*rendered)->title : note.slug + " (file unreadable: run starpunk check)");
            row.set("status", trash ? "In the trash" : note.published ? "Published" : "Draft");
            row.set("created_iso", format_rfc3339(note.created_at));
            row.set("created_human", human_date(note.created_at));
            row.set("editable", !trash);
            row.set("csrf_token", visitor(req).csrf_token);
            rows.push_back(std::move(row));
        }

        TemplateData data;
        data.set("heading", trash ? "Trash" : "Notes");
        data.set(trash ? "is_trash" : "is_notes", true);
        data.set("notes_total", std::to_string(trash ? other->total : list->total));
        data.set("trash_total", std::to_string(trash ? list->total : other->total));
        data.set("indieauth_server", site->authorization_server != nullptr);
        data.set("has_rows", !list->notes.empty());
        data.set("rows", std::move(rows));
        data.set("empty_message", trash ? "The trash is empty." : "No notes yet. Write the first one!");
        if (auto n = notice_text(query->get("notice").value_or("")); !n.empty()) {
            data.set("notice", std::string(n));
            std::string slug(query->get("slug").value_or(""));
            if (!slug.empty() && slug.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string::npos &&
                query->get("notice").value_or("") != "purged") {
                data.set("notice_url", site->url("/note/" + slug));
            }
        }
        if (pages > 1) {
            std::string base = trash ? "/admin/?view=trash&page=" : "/admin/?page=";
            data.set("paginated", true);
            data.set("page", std::to_string(page));
            data.set("pages", std::to_string(pages));
            if (page > 1) data.set("prev_url", site->url(base + std::to_string(page - 1)));
            if (page < pages) data.set("next_url", site->url(base + std::to_string(page + 1)));
        }
        return admin_page(*site, req, 200, trash ? "Trash" : "Admin", "admin", std::move(data));
    };
}

}  // namespace starpunk::web::handlers
