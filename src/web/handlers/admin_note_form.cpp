// GET/POST /admin/new and /admin/edit/{id} — the note form. A failed save
// re-shows the form with everything the admin typed and one message saying
// what to fix; nothing is lost. Caches (pages, search results) follow the
// notes service's change notification, not this handler.
#include <spdlog/spdlog.h>

#include <variant>

#include "http/form.hpp"
#include "util/strings.hpp"
#include "web/admin_view.hpp"
#include "web/errors.hpp"
#include "web/handlers/handlers.hpp"
#include "web/note_view.hpp"

namespace starpunk::web::handlers {

namespace {

struct FormValues {
    std::string content;
    std::string slug;
    bool published = true;
    std::string tags;         // comma-separated, as typed
    bool tags_sent = false;   // the form had the field (an older form without it keeps the tags)
};

// "a, b ,c" -> {"a", "b", "c"} (notes/note_tags.hpp normalises each).
std::vector<std::string> split_tags(std::string_view typed) {
    std::vector<std::string> out;
    for (size_t start = 0; start <= typed.size();) {
        size_t comma = typed.find(',', start);
        if (comma == std::string_view::npos) comma = typed.size();
        std::string_view one = trim(typed.substr(start, comma - start));
        if (!one.empty()) out.emplace_back(one);
        start = comma + 1;
    }
    return out;
}

std::string join_tags(const std::vector<notes::Tag>& tags) {
    std::string out;
    for (const auto& t : tags) {
        if (!out.empty()) out += ", ";
        out += t.display;
    }
    return out;
}

TemplateData form_data(const Site& site, const FormValues& v, std::optional<int64_t> id, std::string_view url) {
    TemplateData data;
    data.set("heading", id ? "Edit note" : "New note");
    data.set("is_new", !id.has_value());
    data.set("action", site.url(id ? "/admin/edit/" + std::to_string(*id) : "/admin/new"));
    data.set("button", id ? "Save" : "Create");
    data.set("content", v.content);
    data.set("slug", v.slug);
    data.set("published", v.published);
    data.set("tags", v.tags);
    if (!url.empty()) data.set("url", std::string(url));
    return data;
}

http::Response show_form(const Site& site, const http::Request& req, int status, const FormValues& v,
                         std::optional<int64_t> id, std::string_view url, std::string_view message) {
    TemplateData data = form_data(site, v, id, url);
    if (!message.empty()) data.set("message", std::string(message));
    return admin_page(site, req, status, id ? "Edit note" : "New note", "admin_form", std::move(data));
}

// The posted form; an error message when the body is not a usable form.
Result<FormValues> read_form(const http::Request& req) {
    if (req.content_type() != "application/x-www-form-urlencoded") {
        return make_error(ErrorCode::invalid_input, "Send the note as an ordinary HTML form.");
    }
    auto form = http::parse_urlencoded(req.body);
    if (!form) return std::move(form).error();
    FormValues v;
    v.content = std::string(form->get("content").value_or(""));
    v.slug = std::string(trim(form->get("slug").value_or("")));
    v.published = form->has("published");
    if (auto tags = form->get("tags")) {
        v.tags = std::string(*tags);
        v.tags_sent = true;
    }
    return v;
}

int status_for(const Error& e) {
    switch (e.code) {
        case ErrorCode::invalid_input: return 400;
        case ErrorCode::too_large: return 413;
        case ErrorCode::conflict: return 409;
        case ErrorCode::busy: return 503;
        default: return 500;
    }
}

std::string_view message_for(const Error& e) {
    return e.code == ErrorCode::io || e.code == ErrorCode::internal
               ? "The note could not be saved: the server's storage failed. Nothing was changed; try again."
               : std::string_view(e.message);
}

// The live note an edit route names, or the response that says why there is none.
std::variant<notes::Note, http::Response> editable_note(const Site& site, const http::Request& req) {
    auto id = note_id_param(req);
    if (!id) return error_response(site, req, 404, "There is no note with that number.");
    auto note = site.notes.get_by_id(*id);
    if (!note) return admin_error(site, req, note.error());
    if (note->is_deleted()) return error_response(site, req, 409, "This note is in the trash. Restore it before editing.");
    return std::move(*note);
}

}  // namespace

http::Handler admin_new_form(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        return show_form(*site, req, 200, FormValues{}, std::nullopt, {}, {});
    };
}

http::Handler admin_create(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        auto v = read_form(req);
        if (!v) return show_form(*site, req, 400, FormValues{}, std::nullopt, {}, v.error().message);
        notes::NewNote n;
        n.content = v->content;
        n.custom_slug = v->slug;
        n.published = v->published;
        n.tags = split_tags(v->tags);
        n.slug_policy = notes::CustomSlugPolicy::reject;
        auto created = site->notes.create(n);
        if (!created) {
            if (created.error().code == ErrorCode::io) spdlog::error("admin create failed: {}", created.error().message);
            return show_form(*site, req, status_for(created.error()), *v, std::nullopt, {}, message_for(created.error()));
        }
        spdlog::info("admin created note {} ({})", created->slug, created->published ? "published" : "draft");
        return back_to_list("created", created->slug);
    };
}

http::Handler admin_edit_form(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        auto found = editable_note(*site, req);
        if (auto* res = std::get_if<http::Response>(&found)) return std::move(*res);
        const auto& note = std::get<notes::Note>(found);
        auto content = site->notes.read_content(note);
        if (!content) {
            spdlog::error("note {} cannot be read for editing: {}", note.slug, content.error().message);
            return error_response(*site, req, 500, "The note's file could not be read. Run `starpunk check`.");
        }
        auto tags = site->notes.tags_of(note.id);
        if (!tags) return error_response(*site, req, 500, "The note's tags could not be read.");
        FormValues v{std::move(*content), note.slug, note.published, join_tags(*tags), true};
        return show_form(*site, req, 200, v, note.id, note_url(*site, note), {});
    };
}

http::Handler admin_update(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        auto found = editable_note(*site, req);
        if (auto* res = std::get_if<http::Response>(&found)) return std::move(*res);
        const auto& note = std::get<notes::Note>(found);
        const std::optional<int64_t> id = note.id;
        std::string url = note_url(*site, note);
        auto v = read_form(req);
        if (!v) return show_form(*site, req, 400, FormValues{{}, note.slug, note.published}, id, url, v.error().message);
        notes::NoteChange change;
        change.content = v->content;
        change.published = v->published;
        if (v->tags_sent) change.tags = split_tags(v->tags);
        auto updated = site->notes.update(note.id, change);
        if (!updated) {
            if (updated.error().code == ErrorCode::io) spdlog::error("admin update failed: {}", updated.error().message);
            return show_form(*site, req, status_for(updated.error()), *v, id, url, message_for(updated.error()));
        }
        spdlog::info("admin updated note {}", updated->slug);
        return back_to_list("updated", updated->slug);
    };
}

}  // namespace starpunk::web::handlers
