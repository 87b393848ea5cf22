// GET/POST /admin/new and /admin/edit/{id} — the note form. A failed save
// re-shows the form with everything the admin typed and one message saying
// what to fix; nothing is lost. Caches (pages, search results) follow the
// notes service's change notification, not this handler.
//
// Photos (when the site stores media): the form is multipart; the route
// table spools such a body to disk (MAX_UPLOAD_SIZE), and the gate found the
// CSRF token in it before this runs. Each `photo[]` file input is paired with
// the `photo_alt[]` field of the same position; empty inputs are skipped. Files
// go through MediaService::store (not an image we take: 415, too many pixels:
// 413, shown on the form) before the note is written; on edit, the photos
// kept (not ticked `remove_photo[]`, by position) come first, then the new
// ones. A urlencoded post (an older form, a script) leaves photos alone.
#include <spdlog/spdlog.h>

#include <set>
#include <variant>

#include "http/form.hpp"
#include "http/multipart.hpp"
#include "media/media_service.hpp"
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
    bool photos_sent = false;  // a multipart form with the photo section
    std::vector<std::pair<std::shared_ptr<TempFile>, std::string>> uploads;  // non-empty photo files + alt
    std::set<std::size_t> removed;  // positions of existing photos ticked for removal
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

TemplateData form_data(const Site& site, const FormValues& v, std::optional<int64_t> id, std::string_view url,
                       const std::vector<notes::NotePhoto>& photos) {
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
    data.set("has_media", site.media != nullptr);
    TemplateData existing{TemplateData::type::list};
    for (std::size_t i = 0; i < photos.size(); ++i) {
        const auto& p = photos[i];
        TemplateData item;
        item.set("src", p.stored() ? site.url(p.variants.empty() ? p.url : p.variants.front().url) : p.url);
        item.set("alt", p.alt);
        item.set("position", std::to_string(i));
        item.set("n", std::to_string(i + 1));
        existing.push_back(std::move(item));
    }
    data.set("has_existing_photos", !photos.empty());
    data.set("existing_photos", std::move(existing));
    TemplateData slots{TemplateData::type::list};
    for (int i = 1; i <= 3; ++i) {
        TemplateData slot;
        slot.set("n", std::to_string(i));
        slots.push_back(std::move(slot));
    }
    data.set("photo_slots", std::move(slots));
    return data;
}

http::Response show_form(const Site& site, const http::Request& req, int status, const FormValues& v,
                         std::optional<int64_t> id, std::string_view url, std::string_view message,
                         const std::vector<notes::NotePhoto>& photos = {}) {
    TemplateData data = form_data(site, v, id, url, photos);
    if (!message.empty()) data.set("message", std::string(message));
    return admin_page(site, req, status, id ? "Edit note" : "New note", "admin_form", std::move(data));
}

FormValues values_of(const http::FormData& form);

// A multipart form spooled to disk: fields, and the photo files with the alt
// text of the same position.
Result<FormValues> read_spooled_form(const Site& site, const http::Request& req) {
    if (!site.media) return make_error(ErrorCode::invalid_input, "This site does not store photos.");
    http::MultipartLimits limits;
    limits.max_file_bytes = site.config.max_upload_bytes;
    limits.max_total_bytes = site.config.max_upload_bytes;
    auto form = http::parse_multipart_file(*req.body_file, req.header("Content-Type").value_or(""), limits,
                                           site.media->options().upload_dir);
    if (!form) return std::move(form).error();
    FormValues v = values_of(form->fields);
    v.photos_sent = form->fields.has("photos_form");
    // Repeated inputs are named photo[] / photo_alt[] / remove_photo[] (unique
    // names for HTML); the bare names are taken too.
    auto all_of = [&](std::string_view name) {
        auto values = form->fields.get_all(name);
        for (auto value : form->fields.get_all(std::string(name) + "[]")) values.push_back(value);
        return values;
    };
    const auto alts = all_of("photo_alt");
    std::size_t slot = 0;
    for (auto& f : form->files) {
        if (f.field_name != "photo" && f.field_name != "photo[]") continue;
        std::string alt = slot < alts.size() ? std::string(alts[slot]) : std::string();
        ++slot;
        if (f.size > 0) v.uploads.emplace_back(std::move(f.data), std::move(alt));
    }
    for (auto removed : all_of("remove_photo")) {
        if (auto n = parse_int64(removed); n && *n >= 0) v.removed.insert(static_cast<std::size_t>(*n));
    }
    return v;
}

// The posted form; an error message when the body is not a usable form.
Result<FormValues> read_form(const Site& site, const http::Request& req) {
    if (req.content_type() == "multipart/form-data") {
        if (req.body_file) return read_spooled_form(site, req);
        auto form = http::parse_multipart(req.body, req.header("Content-Type").value_or(""));
        if (!form) return std::move(form).error();
        return values_of(form->fields);  // files only arrive spooled (the site stores media)
    }
    if (req.content_type() != "application/x-www-form-urlencoded") {
        return make_error(ErrorCode::invalid_input, "Send the note as an ordinary HTML form.");
    }
    auto form = http::parse_urlencoded(req.body);
    if (!form) return std::move(form).error();
    return values_of(*form);
}

FormValues values_of(const http::FormData& form_data) {
    const http::FormData* form = &form_data;
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

// Stores the uploaded photos (media/media_service.hpp), in order.
Result<std::vector<notes::NewPhoto>> store_uploads(const Site& site, const FormValues& v) {
    std::vector<notes::NewPhoto> out;
    for (const auto& [file, alt] : v.uploads) {
        auto stored = site.media->store(*file);
        if (!stored) {
            const Error& e = stored.error();
            if (e.code == ErrorCode::unsupported) {
                return make_error(e.code, "Only JPEG, PNG, GIF and WebP photos can be added: " + e.message);
            }
            if (e.code == ErrorCode::too_large || e.code == ErrorCode::invalid_input) {
                return make_error(e.code, "A photo could not be added: " + e.message);
            }
            spdlog::error("admin: storing a photo failed: {}", e.message);
            return make_error(e.code == ErrorCode::no_space ? ErrorCode::no_space : ErrorCode::io, e.message);
        }
        out.push_back(notes::NewPhoto{stored->id, "/media/" + stored->file.path, alt});
    }
    return out;
}

int status_for(const Error& e) {
    switch (e.code) {
        case ErrorCode::invalid_input: return 400;
        case ErrorCode::too_large: return 413;
        case ErrorCode::unsupported: return 415;
        case ErrorCode::conflict: return 409;
        case ErrorCode::busy: return 503;
        case ErrorCode::no_space: return 507;
        default: return 500;
    }
}

std::string_view message_for(const Error& e) {
    if (e.code == ErrorCode::no_space) {
        return "The note could not be saved: the server's disk is full. Nothing was changed; try again once space is "
               "freed.";
    }
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
        auto v = read_form(*site, req);
        if (!v) return show_form(*site, req, status_for(v.error()), FormValues{}, std::nullopt, {}, v.error().message);
        notes::NewNote n;
        n.content = v->content;
        n.custom_slug = v->slug;
        n.published = v->published;
        n.tags = split_tags(v->tags);
        n.slug_policy = notes::CustomSlugPolicy::reject;
        if (!v->uploads.empty()) {
            auto photos = store_uploads(*site, *v);
            if (!photos) return show_form(*site, req, status_for(photos.error()), *v, std::nullopt, {}, message_for(photos.error()));
            n.photos = std::move(*photos);
        }
        auto created = site->notes.create(n);
        if (!created) {
            if (is_storage_failure(created.error().code)) spdlog::error("admin create failed: {}", created.error().message);
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
        auto photos = site->notes.photos_of(note.id);
        if (!photos) return error_response(*site, req, 500, "The note's photos could not be read.");
        FormValues v{std::move(*content), note.slug, note.published, join_tags(*tags), true};
        return show_form(*site, req, 200, v, note.id, note_url(*site, note), {}, *photos);
    };
}

http::Handler admin_update(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        auto found = editable_note(*site, req);
        if (auto* res = std::get_if<http::Response>(&found)) return std::move(*res);
        const auto& note = std::get<notes::Note>(found);
        const std::optional<int64_t> id = note.id;
        std::string url = note_url(*site, note);
        auto photos = site->notes.photos_of(note.id);
        if (!photos) return error_response(*site, req, 500, "The note's photos could not be read.");
        auto v = read_form(*site, req);
        if (!v) {
            FormValues blank;
            blank.slug = note.slug;
            blank.published = note.published;
            return show_form(*site, req, status_for(v.error()), blank, id, url, v.error().message, *photos);
        }
        notes::NoteChange change;
        change.content = v->content;
        change.published = v->published;
        if (v->tags_sent) change.tags = split_tags(v->tags);
        if (v->photos_sent) {
            std::vector<notes::NewPhoto> kept;
            for (std::size_t i = 0; i < photos->size(); ++i) {
                if (v->removed.contains(i)) continue;
                const auto& p = (*photos)[i];
                kept.push_back(notes::NewPhoto{p.media_id, p.url, p.alt});
            }
            auto added = store_uploads(*site, *v);
            if (!added) return show_form(*site, req, status_for(added.error()), *v, id, url, message_for(added.error()), *photos);
            kept.insert(kept.end(), added->begin(), added->end());
            change.photos = std::move(kept);
        }
        auto updated = site->notes.update(note.id, change);
        if (!updated) {
            if (is_storage_failure(updated.error().code)) spdlog::error("admin update failed: {}", updated.error().message);
            return show_form(*site, req, status_for(updated.error()), *v, id, url, message_for(updated.error()), *photos);
        }
        spdlog::info("admin updated note {}", updated->slug);
        return back_to_list("updated", updated->slug);
    };
}

}  // namespace starpunk::web::handlers
