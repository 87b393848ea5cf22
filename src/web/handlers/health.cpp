// GET /health (public, SPEC §8 first tier): an in-memory answer for load
// balancers. GET /health?detailed (also =1, =true; admin, 401 JSON otherwise)
// and GET /admin/health (admin, adds pool statistics and the metrics summary):
// the checks an operator reads when something is wrong; 503 when unhealthy.
#include <nlohmann/json.hpp>

#include "http/form.hpp"
#include "monitoring/diagnostics.hpp"
#include "search/search_service.hpp"
#include "starpunk_version.hpp"
#include "web/errors.hpp"
#include "web/visitor.hpp"
#include "web/handlers/handlers.hpp"
#include "web/metrics_view.hpp"

namespace starpunk::web::handlers {

namespace {

// ?detailed, ?detailed=1 and ?detailed=true (any case) ask for the report;
// ?detailed=0/false or no parameter do not.
bool wants_detail(const http::Request& req) {
    if (req.query.empty()) return false;
    auto q = http::parse_urlencoded(req.query);
    if (!q) return false;
    auto v = q->get("detailed");
    if (!v) return false;
    return v->empty() || *v == "1" || http::iequals(*v, "true");
}

monitoring::Diagnostics diagnose(const Site& site) {
    monitoring::DiagnosticsInput in;
    in.pool = &site.pool;
    in.notes_path = site.config.notes_path;
    in.data_path = site.config.data_path;
    in.search = site.search ? std::string(search::mode_name(site.search->mode())) : "disabled";
    in.search_forced_fallback = site.config.search_force_fallback;
    in.started = site.started;
    return monitoring::diagnose(in);
}

http::Response json_no_store(int status, std::string body) {
    auto res = http::json_response(status, std::move(body));
    res.set_header("Cache-Control", "no-store");
    return res;
}

}  // namespace

bool health_is_simple(http::Request& req) { return !wants_detail(req); }

http::Handler health(std::shared_ptr<const Site> site) {
    // Both possible bodies are fixed for the life of the process: build them once.
    auto healthy = std::make_shared<const std::string>(
        nlohmann::json{{"status", "healthy"}, {"version", kVersion}}.dump());
    auto unhealthy = std::make_shared<const std::string>(nlohmann::json{{"status", "unhealthy"}}.dump());
    return [site = std::move(site), healthy, unhealthy](http::Request& req) {
        if (wants_detail(req)) {
            if (!visitor(req).is_admin) return error_response(*site, req, 401, "Log in as the site's admin to see the detailed health report.");
            auto d = diagnose(*site);
            return json_no_store(d.unhealthy() ? 503 : 200, d.body.dump());
        }
        bool ok = site->health.healthy();
        http::Response res;
        res.status = ok ? 200 : 503;
        res.set_header("Content-Type", http::kJsonType);
        res.set_header("Cache-Control", "no-store");
        res.shared_body = ok ? healthy : unhealthy;
        return res;
    };
}

http::Handler admin_health(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request&) {
        auto d = diagnose(*site);
        d.body["pool"] = monitoring::pool_stats_json(site->pool.stats());
        d.body["metrics"] = metrics_summary(*site);
        return json_no_store(d.unhealthy() ? 503 : 200, d.body.dump());
    };
}

}  // namespace starpunk::web::handlers
