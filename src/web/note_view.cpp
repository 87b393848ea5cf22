#include "web/note_view.hpp"

#include <unordered_map>

#include "http/conditional.hpp"
#include "util/clock.hpp"
#include "util/strings.hpp"

namespace starpunk::web {

std::string note_url(const Site& site, const notes::Note& note) { return site.url("/note/" + note.slug); }

std::string tag_url(const Site& site, const notes::Tag& tag) { return site.url("/tag/" + percent_encode(tag.name)); }

namespace {

// Footnote anchors are numbered per note ("fn-1"); several notes share a page,
// so each note's anchors and the links to them get the slug as a prefix. The
// sanitizer emits exactly these attribute forms.
std::string scope_footnotes(const std::string& html, std::string_view slug) {
    if (html.find("fn") == std::string::npos) return html;
    std::string out;
    out.reserve(html.size() + 64);
    static constexpr std::string_view kForms[] = {"id=\"fn-", "id=\"fnref-", "href=\"#fn-", "href=\"#fnref-"};
    size_t i = 0;
    while (i < html.size()) {
        bool matched = false;
        for (std::string_view form : kForms) {
            if (html.compare(i, form.size(), form) == 0) {
                out.append(form);
                out.append(slug);
                out.push_back('-');
                i += form.size();
                matched = true;
                break;
            }
        }
        if (!matched) out.push_back(html[i++]);
    }
    return out;
}

// Images never wider than the page's column (static/style.css: 42rem).
constexpr std::string_view kPhotoSizes = "(max-width: 42rem) 100vw, 42rem";

}  // namespace

TemplateData photo_list_data(const Site& site, const std::vector<notes::NotePhoto>& photos) {
    TemplateData list{TemplateData::type::list};
    for (const auto& p : photos) {
        TemplateData item;
        item.set("alt", p.alt);
        if (p.stored()) {
            item.set("src", site.url(p.url));
            item.set("has_size", p.width > 0 && p.height > 0);
            item.set("width", std::to_string(p.width));
            item.set("height", std::to_string(p.height));
            std::string srcset;
            for (const auto& v : p.variants) {
                srcset += site.url(v.url) + " " + std::to_string(v.width) + "w, ";
            }
            srcset += site.url(p.url) + " " + std::to_string(p.width) + "w";
            item.set("has_srcset", !p.variants.empty());
            item.set("srcset", srcset);
            item.set("sizes", std::string(kPhotoSizes));
        } else {
            item.set("src", p.url);
            item.set("has_size", false);
            item.set("has_srcset", false);
        }
        list.push_back(std::move(item));
    }
    return list;
}

Result<std::pair<TemplateData, std::string>> note_data(const Site& site, const notes::Note& note,
                                                       const std::vector<notes::Tag>& tags,
                                                       const std::vector<notes::NotePhoto>& photos) {
    auto rendered = site.renderer.render(note);
    if (!rendered) return std::move(rendered).error();
    return note_data(site, note, tags, photos, **rendered);
}

std::pair<TemplateData, std::string> note_data(const Site& site, const notes::Note& note,
                                               const std::vector<notes::Tag>& tags,
                                               const std::vector<notes::NotePhoto>& photos, const notes::RenderedNote& r) {
    TemplateData d;
    d.set("url", note_url(site, note));
    d.set("html", scope_footnotes(r.html, note.slug));
    if (r.name) d.set("name", *r.name);
    if (note.summary) d.set("summary", *note.summary);
    if (!note.published) d.set("draft", true);
    d.set("published_iso", format_rfc3339(note.created_at));
    d.set("published_human", human_date(note.created_at));
    d.set("updated_iso", format_rfc3339(note.updated_at));
    d.set("updated_human", human_date(note.updated_at));
    TemplateData tag_list{TemplateData::type::list};
    for (const auto& t : tags) {
        TemplateData item;
        item.set("tag_url", tag_url(site, t));
        item.set("tag", t.display);
        tag_list.push_back(std::move(item));
    }
    d.set("has_tags", !tags.empty());
    d.set("tags", std::move(tag_list));
    d.set("has_photos", !photos.empty());
    d.set("photos", photo_list_data(site, photos));
    return std::make_pair(std::move(d), r.title);
}

Result<std::vector<std::string>> note_entries(const Site& site, const std::vector<int64_t>& ids, uint64_t generation) {
    std::vector<std::string> entries(ids.size());
    std::vector<int64_t> missing;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (!site.pages.append_entries({ids[i]}, '\n', entries[i])) missing.push_back(ids[i]);
    }
    if (missing.empty()) return entries;
    auto notes = site.notes.notes_by_ids(missing);
    if (!notes) return std::move(notes).error();
    auto tags = site.notes.tags_of(*notes);
    if (!tags) return std::move(tags).error();
    auto photos = site.notes.photos_of(*notes);
    if (!photos) return std::move(photos).error();
    static const std::vector<notes::Tag> kNone;
    static const std::vector<notes::NotePhoto> kNoPhotos;
    site.renderer.prefetch(*notes);
    std::unordered_map<int64_t, std::string> built;
    for (const auto& n : *notes) {
        auto it = tags->find(n.id);
        auto pit = photos->find(n.id);
        auto data = note_data(site, n, it == tags->end() ? kNone : it->second,
                              pit == photos->end() ? kNoPhotos : pit->second);
        if (!data) return std::move(data).error();
        auto html = site.templates->render("note_entry", data->first);
        if (!html) return std::move(html).error();
        if (!html->empty() && html->back() == '\n') html->pop_back();  // the list template puts it back
        site.pages.store_entry(n.id, *html, generation);
        built.emplace(n.id, std::move(*html));
    }
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (auto it = built.find(ids[i]); it != built.end()) entries[i] = std::move(it->second);  // else kept, or purged meanwhile
    }
    return entries;
}

}  // namespace starpunk::web
