#include "web/site.hpp"

#include "starpunk_version.hpp"

namespace starpunk::web {

Result<std::string> render_page(const Site& site, const PageInfo& page, std::string_view name, TemplateData data) {
    const auto& c = site.config;
    data.set("site_url", c.site_url);
    data.set("site_name", c.site_name);
    auto inner = site.templates->render(name, data);
    if (!inner) return inner;

    TemplateData layout;
    layout.set("page_title", page.title.empty() ? c.site_name : page.title + " — " + c.site_name);
    layout.set("site_url", c.site_url);
    layout.set("site_name", c.site_name);
    layout.set("stylesheet", site.static_files.url("style.css"));
    layout.set("search_query", page.search_query);
    layout.set("content", *inner);
    layout.set("author_name", c.site_author.empty() ? c.site_name : c.site_author);
    layout.set("author_url", c.admin_me.empty() ? c.site_url + "/" : c.admin_me);
    if (!c.site_author_photo.empty()) layout.set("author_photo", c.site_author_photo);
    layout.set("version", std::string(kVersion));
    return site.templates->render("layout", layout);
}

}  // namespace starpunk::web
