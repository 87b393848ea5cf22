#include "web/note_view.hpp"

#include <map>
#include <unordered_map>

#include "http/conditional.hpp"
#include "util/clock.hpp"
#include "notes/rendered_store.hpp"
#include "util/strings.hpp"
#include "web/note_entry.hpp"

namespace starpunk::web {

std::string note_url(const Site& site, const notes::Note& note) { return site.url("/note/" + note.slug); }

std::string tag_url(const Site& site, const notes::Tag& tag) { return site.url("/tag/" + percent_encode(tag.name)); }

void append_scoped_footnotes(std::string& out, std::string_view html, std::string_view slug) {
    if (html.find("fn") == std::string_view::npos) {
        out.append(html);
        return;
    }
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
}

std::string photo_srcset(const Site& site, const notes::NotePhoto& p) {
    std::string srcset;
    for (const auto& v : p.variants) {
        srcset += site.url(v.url) + " " + std::to_string(v.width) + "w, ";
    }
    srcset += site.url(p.url) + " " + std::to_string(p.width) + "w";
    return srcset;
}

namespace {

std::string scope_footnotes(const std::string& html, std::string_view slug) {
    std::string out;
    out.reserve(html.size() + 64);
    append_scoped_footnotes(out, html, slug);
    return out;
}

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
            item.set("has_srcset", !p.variants.empty());
            item.set("srcset", photo_srcset(site, p));
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

namespace {

// What note_entries() and note_entries_now() share: the kept entries of `ids`,
// the others read in one statement (RenderedStore::for_list) and built
// without the template engine (web/note_entry.hpp). `now`: only that one
// read, through an idle pooled connection — nullopt when a note needs more
// (photos, a rendering not stored) or the read fails or finds no idle
// connection. Else photos and missing renderings are read too, and errors
// are returned.
Result<std::optional<std::vector<std::string>>> build_entries(const Site& site, const std::vector<int64_t>& ids,
                                                              uint64_t generation, bool now) {
    using Entries = std::optional<std::vector<std::string>>;
    std::vector<std::string> entries(ids.size());
    std::vector<int64_t> missing;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (!site.pages.append_entries({ids[i]}, '\n', entries[i])) missing.push_back(ids[i]);
    }
    if (missing.empty()) return Entries{std::move(entries)};
    auto found = site.notes.rendered().for_list(missing, /*wait=*/!now);
    if (!found) {
        if (now) return Entries{};
        return std::move(found).error();
    }
    std::vector<notes::Note> with_photos;
    for (const auto& f : *found) {
        if (now && (f.has_photos || !f.rendering)) return Entries{};
        if (f.has_photos) with_photos.push_back(f.note);
    }
    std::map<int64_t, std::vector<notes::NotePhoto>> photos;
    if (!with_photos.empty()) {
        auto read = site.notes.photos_of(with_photos);
        if (!read) return std::move(read).error();
        photos = std::move(*read);
    }
    static const std::vector<notes::NotePhoto> kNoPhotos;
    std::unordered_map<int64_t, std::string> built;
    for (const auto& f : *found) {
        std::shared_ptr<const notes::RenderedNote> rendered;
        if (!f.rendering) {  // written by a tool, not rendered yet: render() stores nothing, keeps it in memory
            auto r = site.renderer.render(f.note);
            if (!r) return std::move(r).error();
            rendered = std::move(*r);
        }
        auto pit = photos.find(f.note.id);
        std::string html = note_entry_html(site, f.note, f.tags, pit == photos.end() ? kNoPhotos : pit->second,
                                           f.rendering ? *f.rendering : *rendered);
        site.pages.store_entry(f.note.id, html, generation);
        built.emplace(f.note.id, std::move(html));
    }
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (auto it = built.find(ids[i]); it != built.end()) entries[i] = std::move(it->second);  // else kept, or gone
    }
    return Entries{std::move(entries)};
}

}  // namespace

Result<std::vector<std::string>> note_entries(const Site& site, const std::vector<int64_t>& ids, uint64_t generation) {
    auto entries = build_entries(site, ids, generation, /*now=*/false);
    if (!entries) return std::move(entries).error();
    return std::move(**entries);
}

std::optional<std::vector<std::string>> note_entries_now(const Site& site, const std::vector<int64_t>& ids,
                                                         uint64_t generation) {
    auto entries = build_entries(site, ids, generation, /*now=*/true);
    if (!entries) return std::nullopt;
    return std::move(*entries);
}

}  // namespace starpunk::web
