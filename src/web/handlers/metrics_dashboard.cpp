// GET /admin/metrics-dashboard (admin page): the figures as server-rendered
// tables (complete without JavaScript) plus three Chart.js charts drawn by
// /static/dashboard.js. GET /admin/metrics-dashboard/figures (admin): the same
// figures alone, which htmx swaps in every 10 s. Both come from one
// metrics_report(), so page, fragment and /admin/metrics agree.
// Scripts are same-origin files under /static (htmx and Chart.js from the
// pinned npm packages): the CSP needs no inline script and no eval.
#include "web/admin_view.hpp"
#include "web/errors.hpp"
#include "web/handlers/handlers.hpp"
#include "web/metrics_view.hpp"

namespace starpunk::web::handlers {

namespace {
Result<std::string> render_figures(const Site& site) {
    TemplateData data = dashboard_figures(metrics_report(site));
    data.set("site_url", site.config.site_url);
    return site.templates->render("metrics_figures", data);
}
}  // namespace

http::Handler metrics_dashboard(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        auto figures = render_figures(*site);
        if (!figures) return error_response(*site, req, 500, "The metrics could not be shown.");
        TemplateData data;
        data.set("figures", *figures);
        PageInfo page = page_info(req, "Metrics");
        page.htmx = true;
        page.scripts = {site->static_files.url("vendor/htmx.min.js"), site->static_files.url("vendor/chart.umd.min.js"),
                        site->static_files.url("dashboard.js")};
        auto body = render_page(*site, page, "metrics_dashboard", std::move(data));
        if (!body) return error_response(*site, req, 500, "The metrics could not be shown.");
        return http::html_response(200, std::move(*body));
    };
}

http::Handler metrics_figures(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        auto figures = render_figures(*site);
        if (!figures) return error_response(*site, req, 500, "The metrics could not be shown.");
        return http::html_response(200, std::move(*figures));
    };
}

}  // namespace starpunk::web::handlers
