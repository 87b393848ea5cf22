#include "micropub/post_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "http/form.hpp"
#include "notes/note_text.hpp"
#include "util/strings.hpp"

namespace starpunk::micropub {

namespace {

using Properties = std::map<std::string, std::vector<Value>, std::less<>>;

const std::set<std::string, std::less<>> kUpdatable = {"content", "name", "summary", "category", "post-status",
                                                        "published", "photo"};
const std::set<std::string, std::less<>> kSingleValued = {"content", "name", "summary", "post-status", "published"};

// The note's name and body (post_model.hpp: name, content).
struct Parts {
    std::optional<notes::LeadingHeading> heading;
    std::string body;
};

Parts split(std::string_view content) {
    Parts p;
    p.heading = notes::leading_heading(content);
    p.body = p.heading ? notes::without_leading_heading(content, *p.heading) : std::string(content);
    const size_t start = p.body.find_first_not_of("\r\n");
    p.body.erase(0, start == std::string::npos ? p.body.size() : start);
    return p;
}

// A photo's URL as clients see it: stored images under SITE_URL.
std::string absolute_photo_url(const notes::NotePhoto& p, std::string_view site_url) {
    return p.url.starts_with("/") ? std::string(site_url) + p.url : p.url;
}

Properties properties_of(const StoredPost& post, const Parts& parts, std::string_view site_url) {
    Properties props;
    props["content"] = {Value{parts.body, false}};
    if (parts.heading) props["name"] = {Value{parts.heading->title, false}};
    if (post.note.summary) props["summary"] = {Value{*post.note.summary, false}};
    for (const auto& t : post.tags) props["category"].push_back(Value{t.display, false});
    props["post-status"] = {Value{post.note.published ? "published" : "draft", false}};
    props["published"] = {Value{format_rfc3339(post.note.created_at), false}};
    for (const auto& p : post.photos) props["photo"].push_back(Value{absolute_photo_url(p, site_url), false, p.alt});
    return props;
}

bool same_category(const Value& a, const Value& b) {
    auto x = notes::make_tag(a.text);
    auto y = notes::make_tag(b.text);
    return x && y && x->name == y->name;
}

}  // namespace

std::optional<std::string> slug_of_url(std::string_view url, std::string_view site_url) {
    const std::string prefix = std::string(site_url) + "/note/";
    if (!url.starts_with(prefix)) return std::nullopt;
    auto slug = percent_decode(url.substr(prefix.size()));
    if (!slug || slug->empty() || slug->find_first_of("/?#") != std::string::npos) return std::nullopt;
    return slug;
}

nlohmann::json post_properties(const StoredPost& post, std::string_view site_url) {
    const Parts parts = split(post.content);
    nlohmann::json props = nlohmann::json::object();
    for (const auto& [name, values] : properties_of(post, parts, site_url)) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& v : values) {
            if (!v.alt.empty()) {
                list.push_back({{"value", v.text}, {"alt", v.alt}});
            } else {
                list.push_back(v.text);
            }
        }
        props[name] = std::move(list);
    }
    props["url"] = {std::string(site_url) + "/note/" + post.note.slug};
    return props;
}

Result<notes::NoteChange> build_update(const StoredPost& post, const UpdateOps& ops, std::string_view site_url) {
    const Parts parts = split(post.content);
    Properties props = properties_of(post, parts, site_url);
    std::set<std::string, std::less<>> touched;

    for (const auto& [name, values] : ops.replace) {
        if (!kUpdatable.contains(name)) continue;
        if (kSingleValued.contains(name) && values.size() > 1) {
            return invalid_input(fmt::format("{} holds one value; replace it with an array of one.", name));
        }
        if (values.empty()) {
            props.erase(name);
        } else {
            props[name] = values;
        }
        touched.insert(name);
    }
    for (const auto& [name, values] : ops.add) {
        if (!kUpdatable.contains(name) || values.empty()) continue;
        auto& list = props[name];
        if (kSingleValued.contains(name) && (!list.empty() || values.size() > 1)) {
            return invalid_input(fmt::format("{} holds one value: use replace to change it.", name));
        }
        list.insert(list.end(), values.begin(), values.end());
        touched.insert(name);
    }
    for (const auto& name : ops.remove) {
        if (!kUpdatable.contains(name)) continue;
        props.erase(name);
        touched.insert(name);
    }
    for (const auto& [name, values] : ops.remove_values) {
        if (!kUpdatable.contains(name)) continue;
        auto it = props.find(name);
        if (it == props.end()) continue;
        const bool category = name == "category";
        const auto& gone_values = values;  // clang 14 cannot capture a structured binding
        std::erase_if(it->second, [&](const Value& have) {
            for (const auto& gone : gone_values) {
                if (category ? same_category(have, gone) : have.text == gone.text) return true;
            }
            return false;
        });
        if (it->second.empty()) props.erase(it);
        touched.insert(name);
    }

    auto values_of = [&](std::string_view name) -> const std::vector<Value>* {
        auto it = props.find(name);
        return it == props.end() ? nullptr : &it->second;
    };

    notes::NoteChange change;
    if (touched.contains("content") || touched.contains("name")) {
        std::optional<std::string> body = values_of("content") ? first_body(*values_of("content")) : std::nullopt;
        const std::string name = values_of("name") ? first_plain_line(*values_of("name")) : std::string();
        if (!body && name.empty()) return invalid_input("The update would leave the post without content or name.");
        if (!body) {
            change.content = name;
        } else if (!touched.contains("name") && parts.heading) {
            // The name stays: keep its heading's lines exactly as written.
            std::string heading = post.content.substr(parts.heading->begin, parts.heading->end - parts.heading->begin);
            if (heading.empty() || heading.back() != '\n') heading.push_back('\n');
            change.content = heading + "\n" + *body;
        } else {
            change.content = with_name(name, std::move(*body));
        }
    }
    if (touched.contains("summary")) {
        const auto* summary = values_of("summary");
        std::string text = summary ? first_plain_line(*summary) : std::string();
        change.summary = text.empty() ? std::optional<std::string>() : std::optional<std::string>(std::move(text));
    }
    if (touched.contains("category")) {
        change.tags = values_of("category") ? category_texts(*values_of("category")) : std::vector<std::string>{};
    }
    if (touched.contains("photo")) {
        std::vector<notes::NewPhoto> photos;
        if (const auto* values = values_of("photo")) {
            for (const Value& v : *values) {
                const std::string url(trim(v.text));
                if (url.empty() || v.html) continue;
                // A photo the note already has keeps its stored image.
                auto kept = std::find_if(post.photos.begin(), post.photos.end(), [&](const notes::NotePhoto& p) {
                    return absolute_photo_url(p, site_url) == url;
                });
                if (kept != post.photos.end()) {
                    photos.push_back(notes::NewPhoto{kept->media_id, kept->url, v.alt});
                    continue;
                }
                auto added = photo_urls({Value{url, false, v.alt}});
                if (!added) return std::move(added).error();
                photos.insert(photos.end(), added->begin(), added->end());
            }
        }
        change.photos = std::move(photos);
    }
    if (touched.contains("post-status")) {
        if (const auto* status = values_of("post-status"); status && !status->empty()) {
            auto published = parse_post_status(status->front());
            if (!published) return std::move(published).error();
            change.published = *published;
        } else {
            change.published = true;  // no status: the default, published
        }
    }
    if (touched.contains("published")) {
        const auto* published = values_of("published");
        if (!published || published->empty()) return invalid_input("published cannot be removed: replace it with a date.");
        auto t = parse_published(published->front());
        if (!t) return std::move(t).error();
        change.created_at = *t;
    }
    return change;
}

}  // namespace starpunk::micropub
