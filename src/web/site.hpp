// What every page handler needs: configuration, templates and static files.
// Built once at start-up, then shared read-only by every thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "http/static_files.hpp"
#include "web/templates.hpp"

namespace starpunk::web {

struct Site {
    config::Config config;
    std::shared_ptr<const Templates> templates;
    http::StaticFiles static_files;

    // Absolute URL for a site path: url("/note/x") -> "https://example.com/note/x".
    std::string url(std::string_view path) const { return config.site_url + std::string(path); }
};

struct PageInfo {
    std::string title;         // page-specific part of <title>; empty on the home page
    std::string search_query;  // pre-fills the search box
};

// Renders templates/<name>.mustache into the site layout. Error only when a
// template fails (a bug): callers turn it into a 500.
Result<std::string> render_page(const Site& site, const PageInfo& page, std::string_view name, TemplateData data);

}  // namespace starpunk::web
