// Micropub request parsing (see request.hpp for the rules).
#include "micropub/request.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "http/form.hpp"
#include "http/json_body.hpp"
#include "http/multipart.hpp"
#include "render/sanitizer.hpp"
#include "util/strings.hpp"

namespace starpunk::micropub {

namespace {

// "Multipart/Form-Data; boundary=x" -> "multipart/form-data".
std::string media_type(std::string_view header) { return to_lower(trim(header.substr(0, header.find(';')))); }

bool is_entry_type(std::string_view h) {
    const std::string t = to_lower(trim(h));
    return t == "entry" || t == "h-entry";
}

Result<PostRequest> from_fields(const std::vector<std::pair<std::string, std::string>>& fields, std::size_t files) {
    PostRequest req;
    req.ignored_files = files;
    for (const auto& [name, value] : fields) {
        if (name == "h") {
            if (!is_entry_type(value)) {
                return invalid_input(fmt::format("Only h-entry posts can be created here, not h-{}.",
                                           http::printable_excerpt(value, 40)));
            }
        } else if (name == "access_token") {
            if (!req.access_token) req.access_token = value;
        } else if (name == "action") {
            req.action = value;
        } else if (name == "url") {
            req.url = value;
        } else {
            std::string_view key = name;
            bool html = false;
            if (key.ends_with("[]")) {
                key.remove_suffix(2);
            } else if (key.ends_with("[html]")) {
                key.remove_suffix(6);
                html = true;
            }
            // Anything else with brackets is a nested object in form syntax: ignored.
            if (key.empty() || key.find_first_of("[]") != std::string_view::npos) continue;
            req.properties[std::string(key)].push_back(Value{value, html});
        }
    }
    return req;
}

std::optional<Value> json_value(const nlohmann::json& v) {
    if (v.is_string()) return Value{v.get<std::string>(), false};
    if (!v.is_object() || v.contains("type")) return std::nullopt;  // nested mf2 object: ignored
    if (auto h = v.find("html"); h != v.end() && h->is_string()) return Value{h->get<std::string>(), true};
    if (auto t = v.find("value"); t != v.end() && t->is_string()) {
        Value out{t->get<std::string>(), false, {}};
        if (auto a = v.find("alt"); a != v.end() && a->is_string()) out.alt = a->get<std::string>();
        return out;
    }
    return std::nullopt;
}

// One operation's {"property": [values…]} object (strict: arrays only).
Result<std::map<std::string, std::vector<Value>, std::less<>>> operation_values(const nlohmann::json& op,
                                                                             std::string_view name) {
    if (!op.is_object()) {
        return invalid_input(fmt::format("\"{}\" must be an object of property names to arrays of values.", name));
    }
    std::map<std::string, std::vector<Value>, std::less<>> out;
    for (const auto& [property, values] : op.items()) {
        if (!values.is_array()) {
            return invalid_input(fmt::format("\"{}\": the value of \"{}\" must be an array.", name,
                                       http::printable_excerpt(property, 40)));
        }
        auto& list = out[property];
        for (const auto& v : values) {
            if (auto value = json_value(v)) list.push_back(std::move(*value));
        }
    }
    return out;
}

Result<UpdateOps> update_ops(const nlohmann::json& doc) {
    UpdateOps ops;
    bool any = false;
    if (auto r = doc.find("replace"); r != doc.end()) {
        auto values = operation_values(*r, "replace");
        if (!values) return std::move(values).error();
        ops.replace = std::move(*values);
        any = true;
    }
    if (auto a = doc.find("add"); a != doc.end()) {
        auto values = operation_values(*a, "add");
        if (!values) return std::move(values).error();
        ops.add = std::move(*values);
        any = true;
    }
    if (auto d = doc.find("delete"); d != doc.end()) {
        if (d->is_array()) {
            for (const auto& name : *d) {
                if (!name.is_string()) return invalid_input("\"delete\" as an array lists property names (strings).");
                ops.remove.push_back(name.get<std::string>());
            }
        } else if (d->is_object()) {
            auto values = operation_values(*d, "delete");
            if (!values) return std::move(values).error();
            ops.remove_values = std::move(*values);
        } else {
            return invalid_input("\"delete\" must be an array of property names or an object of values to remove.");
        }
        any = true;
    }
    if (!any) return invalid_input("An update needs at least one of \"replace\", \"add\" or \"delete\".");
    return ops;
}

Result<PostRequest> from_json(const nlohmann::json& doc) {
    if (!doc.is_object()) return invalid_input("The JSON body must be an object such as {\"type\": [\"h-entry\"], \"properties\": {…}}.");
    PostRequest req;
    if (auto a = doc.find("action"); a != doc.end()) {
        if (!a->is_string()) return invalid_input("\"action\" must be a string.");
        req.action = a->get<std::string>();
        if (auto u = doc.find("url"); u != doc.end()) {
            if (!u->is_string()) return invalid_input("\"url\" must be a string: the post's permalink.");
            req.url = u->get<std::string>();
        }
        if (to_lower(trim(*req.action)) == "update") {
            auto ops = update_ops(doc);
            if (!ops) return std::move(ops).error();
            req.update = std::move(*ops);
        }
        return req;
    }
    if (auto t = doc.find("type"); t != doc.end()) {
        bool entry = false;
        if (t->is_string()) {
            entry = is_entry_type(t->get<std::string>());
        } else if (t->is_array()) {
            for (const auto& e : *t) entry = entry || (e.is_string() && is_entry_type(e.get<std::string>()));
        }
        if (!entry) return invalid_input("Only h-entry posts can be created here (\"type\": [\"h-entry\"]).");
    }
    auto props = doc.find("properties");
    if (props == doc.end()) return req;
    if (!props->is_object()) return invalid_input("\"properties\" must be an object whose values are arrays.");
    for (const auto& [name, v] : props->items()) {
        std::vector<Value> values;
        if (v.is_array()) {
            for (const auto& e : v) {
                if (auto value = json_value(e)) values.push_back(std::move(*value));
            }
        } else if (auto value = json_value(v)) {  // lenient: a scalar where an array belongs
            values.push_back(std::move(*value));
        }
        if (!values.empty()) req.properties[name] = std::move(values);
    }
    return req;
}

bool blank(std::string_view s) { return s.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos; }

// The usable text of a property's first non-blank value (HTML sanitised).
std::optional<std::string> body_text(const PostRequest& req, std::string_view property) {
    auto it = req.properties.find(property);
    if (it == req.properties.end()) return std::nullopt;
    return first_body(it->second);
}

// Collapses runs of whitespace (newlines included) to one space; trims.
std::string one_line(std::string_view s) {
    std::string out;
    bool space = false;
    for (char c : trim(s)) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            space = true;
            continue;
        }
        if (space && !out.empty()) out.push_back(' ');
        space = false;
        out.push_back(c);
    }
    return out;
}

// The first non-blank plain-text name, on one line ("" when none).
std::string plain_title(const PostRequest& req) {
    auto it = req.properties.find("name");
    return it == req.properties.end() ? std::string() : first_plain_line(it->second);
}

}  // namespace

std::optional<std::string> first_body(const std::vector<Value>& values) {
    for (const Value& v : values) {
        std::string text = v.html ? html_note_body(v.text) : v.text;
        if (!blank(text)) return text;
    }
    return std::nullopt;
}

std::string first_plain_line(const std::vector<Value>& values) {
    for (const Value& v : values) {
        if (v.html) continue;
        std::string t = one_line(v.text);
        if (!t.empty()) return t;
    }
    return {};
}

std::string with_name(std::string_view name, std::string body) {
    if (name.empty() || trim(body).starts_with(name)) return body;
    return markdown_heading(name) + "\n\n" + body;
}

Result<bool> parse_post_status(const Value& status) {
    const std::string s = to_lower(trim(status.text));
    if (s == "draft") return false;
    if (s == "published") return true;
    return invalid_input(fmt::format("post-status \"{}\" is not supported: use published or draft.",
                               http::printable_excerpt(status.text, 40)));
}

Result<Timestamp> parse_published(const Value& published) {
    auto t = parse_timestamp(trim(published.text));
    if (!t) {
        return invalid_input(fmt::format(
            "published \"{}\" is not a date-time: use ISO 8601, e.g. 2026-11-27T10:00:00Z or "
            "2026-11-27T11:00:00+01:00.",
            http::printable_excerpt(published.text, 40)));
    }
    return *t;
}

std::vector<std::string> category_texts(const std::vector<Value>& values) {
    std::vector<std::string> out;
    for (const Value& v : values) {
        std::string c(trim(v.text));
        if (!c.empty() && !v.html) out.push_back(std::move(c));
    }
    return out;
}

Result<std::vector<notes::NewPhoto>> photo_urls(const std::vector<Value>& values) {
    std::vector<notes::NewPhoto> out;
    for (const Value& v : values) {
        std::string url(trim(v.text));
        if (url.empty() || v.html) continue;
        if (!notes::is_external_photo_url(url)) {
            return invalid_input(fmt::format("photo \"{}\" is not an http:// or https:// URL.", http::printable_excerpt(url, 60)));
        }
        out.push_back(notes::NewPhoto{std::nullopt, std::move(url), v.alt});
    }
    return out;
}

const Value* PostRequest::first(std::string_view property) const {
    auto it = properties.find(property);
    return it == properties.end() || it->second.empty() ? nullptr : &it->second.front();
}

Result<PostRequest> parse_post_spooled(http::SpooledForm form) {
    std::vector<http::SpooledFile> photos;
    std::size_t others = 0;
    for (auto& f : form.files) {
        if ((f.field_name == "photo" || f.field_name == "photo[]") && f.size > 0) {
            photos.push_back(std::move(f));
        } else {
            ++others;
        }
    }
    std::vector<std::pair<std::string, std::string>> fields;
    std::vector<std::string> alts;
    for (auto& [name, value] : form.fields.items()) {
        if (name == "mp-photo-alt" || name == "mp-photo-alt[]") {
            alts.push_back(value);
        } else {
            fields.emplace_back(name, value);
        }
    }
    auto req = from_fields(fields, others);
    if (!req) return req;
    req->photo_files = std::move(photos);
    req->photo_file_alts = std::move(alts);
    return req;
}

Result<PostRequest> parse_post(std::string_view content_type_header, std::string_view body) {
    const std::string type = media_type(content_type_header);
    if (type == "application/x-www-form-urlencoded") {
        auto form = http::parse_urlencoded(body);
        if (!form) return std::move(form).error();
        return from_fields(form->items(), 0);
    }
    if (type == "multipart/form-data") {
        auto form = http::parse_multipart(body, content_type_header);
        if (!form) return std::move(form).error();
        return from_fields(form->fields.items(), form->files.size());
    }
    if (type == "application/json" || type.ends_with("+json")) {
        auto doc = http::parse_json_text(body);
        if (!doc) return std::move(doc).error();
        return from_json(*doc);
    }
    return invalid_input(type.empty() ? "The request has no Content-Type: send a form, multipart or JSON body."
                                : fmt::format("Content-Type {} is not accepted: send a form, multipart or JSON body.",
                                              http::printable_excerpt(type, 60)));
}

std::string html_note_body(std::string_view html) {
    const std::string clean = render::sanitize_html(html);
    if (blank(clean)) return {};
    std::string out = "<div>";
    out.reserve(clean.size() + 16);
    for (size_t i = 0; i < clean.size(); ++i) {
        if (clean[i] == '\n') {
            size_t j = i + 1;
            while (j < clean.size() && (clean[j] == ' ' || clean[j] == '\t')) ++j;
            if (j >= clean.size() || clean[j] == '\n') {  // the next line would be blank
                out += "&#10;";
                continue;
            }
        }
        out.push_back(clean[i]);
    }
    out += "</div>";
    return out;
}

std::string markdown_heading(std::string_view text) {
    std::string out = "# ";
    for (char c : one_line(text)) {
        // Characters that could start Markdown syntax inside a heading line
        // (emphasis, code, links, HTML, entities, a closing '#' sequence).
        if (std::string_view("\\`*_[]<>#&~!|").find(c) != std::string_view::npos) out.push_back('\\');
        out.push_back(c);
    }
    return out;
}

Result<CreateRequest> build_create(const PostRequest& req) {
    CreateRequest create;
    notes::NewNote& note = create.note;
    note.slug_policy = notes::CustomSlugPolicy::fall_back;

    // Body: content, else summary, else name. A summary beside content is
    // kept as the note's summary.
    std::optional<std::string> body = body_text(req, "content");
    if (body) {
        if (auto it = req.properties.find("summary"); it != req.properties.end()) {
            if (std::string s = first_plain_line(it->second); !s.empty()) note.summary = std::move(s);
        }
    } else {
        body = body_text(req, "summary");
    }
    if (body) {
        note.content = with_name(plain_title(req), std::move(*body));
    } else if (auto name = body_text(req, "name")) {
        note.content = std::move(*name);
    } else {
        return invalid_input("The post has no content: send content, summary or name.");
    }

    if (const Value* status = req.first("post-status")) {
        auto published = parse_post_status(*status);
        if (!published) return std::move(published).error();
        note.published = *published;
    }
    if (const Value* visibility = req.first("visibility")) {
        const std::string v = to_lower(trim(visibility->text));
        if (v == "private" || v == "unlisted") {
            note.published = false;
            create.private_visibility = true;
        } else if (v != "public") {
            return invalid_input(fmt::format("visibility \"{}\" is not supported: use public, unlisted or private.",
                                       http::printable_excerpt(visibility->text, 40)));
        }
    }
    if (const Value* published = req.first("published")) {
        auto t = parse_published(*published);
        if (!t) return std::move(t).error();
        note.created_at = *t;
    }
    if (const Value* slug = req.first("mp-slug")) note.custom_slug = std::string(trim(slug->text));
    if (auto it = req.properties.find("category"); it != req.properties.end()) {
        note.tags = category_texts(it->second);
    }
    if (auto it = req.properties.find("photo"); it != req.properties.end()) {
        auto photos = photo_urls(it->second);
        if (!photos) return std::move(photos).error();
        note.photos = std::move(*photos);
    }
    return create;
}

}  // namespace starpunk::micropub
