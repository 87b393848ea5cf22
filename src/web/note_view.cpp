#include "web/note_view.hpp"

#include "http/conditional.hpp"
#include "util/clock.hpp"

namespace starpunk::web {

std::string note_url(const Site& site, const notes::Note& note) { return site.url("/note/" + note.slug); }

Result<std::pair<TemplateData, std::string>> note_data(const Site& site, const notes::Note& note) {
    auto rendered = site.renderer->render(note);
    if (!rendered) return std::move(rendered).error();
    const auto& r = **rendered;
    TemplateData d;
    d.set("url", note_url(site, note));
    d.set("html", r.html);
    if (r.name) d.set("name", *r.name);
    if (!note.published) d.set("draft", true);
    d.set("published_iso", format_rfc3339(note.created_at));
    d.set("published_human", human_date(note.created_at));
    d.set("updated_iso", format_rfc3339(note.updated_at));
    d.set("updated_human", human_date(note.updated_at));
    return std::make_pair(std::move(d), r.title);
}

Result<std::pair<TemplateData, std::string>> note_list_data(const Site& site, const std::vector<notes::Note>& notes) {
    TemplateData list{TemplateData::type::list};
    Timestamp newest{};
    for (const auto& n : notes) {
        auto entry = note_data(site, n);
        if (!entry) return std::move(entry).error();
        list.push_back(std::move(entry->first));
        newest = std::max(newest, n.updated_at);
    }
    std::string last_modified;
    if (!notes.empty()) {
        last_modified = http::format_http_date(
            std::chrono::system_clock::to_time_t(std::chrono::time_point_cast<std::chrono::seconds>(newest)));
    }
    return std::make_pair(std::move(list), std::move(last_modified));
}

}  // namespace starpunk::web
