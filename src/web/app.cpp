#include "web/app.hpp"

#include <spdlog/spdlog.h>

#include "util/crypto.hpp"
#include "web/access.hpp"
#include "web/errors.hpp"
#include "web/request_guard.hpp"
#include "web/routes.hpp"
#include "web/security_headers.hpp"
#include "web/session_cookie.hpp"
#include "web/visitor.hpp"

namespace starpunk::web {

App::App(std::shared_ptr<const Site> site) : site_(std::move(site)) { add_routes(router_, site_); }

http::BodyPlan App::plan_body(const http::Request& head) {
    auto m = router_.match(head.method, head.raw_path);
    if (m.outcome != http::RouteMatch::Outcome::found) return {};
    if (m.route->multipart_to_file_bytes && head.content_type() == "multipart/form-data") {
        return http::BodyPlan{*m.route->multipart_to_file_bytes, true};
    }
    return http::BodyPlan{m.route->max_body_bytes, m.route->body_to_file};
}

http::Execution App::prepare(http::Request& req) {
    auto m = router_.match(req.method, req.raw_path);
    if (m.outcome == http::RouteMatch::Outcome::found) {
        req.route = m.route;
        req.params = std::move(m.params);
        if (m.route->execution == http::Execution::blocking && m.route->inline_when && !session_cookie(req) &&
            m.route->inline_when(req)) {
            return http::Execution::inline_;
        }
        return m.route->execution;
    }
    req.route = nullptr;
    return http::Execution::inline_;
}

void App::identify(http::Request& req) const {
    if (!site_->sessions) return;
    auto token = session_cookie(req);
    if (!token) return;
    auto session = site_->sessions->validate(*token);
    if (!session) {
        spdlog::error("session lookup failed, treating the request as anonymous: {}", session.error().message);
        return;
    }
    if (!*session) return;
    set_visitor(req, Visitor{true, site_->sessions->csrf_token(**session)});
}

http::Response App::handle(http::Request& req) {
    if (!req.route) {
        auto m = router_.match(req.method, req.raw_path);
        using O = http::RouteMatch::Outcome;
        if (m.outcome == O::method_not_allowed) {
            auto res = error(req, 405, "This address does not accept " + std::string(req.method_text) + " requests.");
            res.set_header("Allow", m.allow);
            return res;
        }
        if (m.outcome == O::bad_path) return error(req, 400, "The address contains an invalid escape sequence.");
        return error(req, 404, "There is nothing at this address.");
    }
    const http::Route& route = *req.route;
    if (access_of(route) == Access::dev_only && !site_->config.dev_mode) {
        return error(req, 404, "There is nothing at this address.");
    }
    const bool served_inline = route.execution == http::Execution::inline_ || req.prepared;
    if (!(served_inline && access_of(route) == Access::public_)) identify(req);

    // Every method that may change something (POST today; PUT, PATCH, DELETE
    // the day a route takes one) passes the cross-site and CSRF checks.
    const bool changes = changes_state(req.method);
    if (changes && !called_cross_site(route) && !same_origin_request(site_->config.site_url, req)) {
        spdlog::warn("refused a cross-site {} to {} (Origin: {})", http::method_name(req.method), req.path, req.header("Origin").value_or("-"));
        return error(req, 403, "This form was sent from another site. Open the page on this site and submit it again.");
    }
    const Visitor& who = visitor(req);
    if (is_admin_route(route) && !who.is_admin) {
        if (access_of(route) == Access::admin_api) return error(req, 401, "Log in as the site's admin first.");
        return http::redirect("/auth/login", 302);
    }
    if (changes && is_admin_route(route)) {
        std::string presented = presented_csrf_token(req);
        if (who.csrf_token.empty() || !constant_time_equal(who.csrf_token, presented)) {
            spdlog::warn("refused a POST to {} without a valid CSRF token", req.path);
            return error(req, 403, "The form has expired or was not sent from this site. Reload the page and try again.");
        }
    }
    return route.handler(req);
}

void App::finalize(const http::Request& req, http::Response& res) { apply_site_headers(req, res); }

void App::completed(const http::Request& req, const http::Completion& done) {
    if (!site_->metrics) return;
    metrics::RequestInfo info;
    info.method = req.method_text.empty() ? std::string_view("OTHER") : http::method_name(req.method);
    info.route = req.route ? std::string_view(req.route->pattern) : std::string_view("unmatched");
    info.request_id = req.request_id;
    info.status = done.status;
    info.bytes = done.bytes;
    info.took = done.took;
    info.aborted = done.aborted;
    site_->metrics->request(info);
}

http::Response App::error(const http::Request& req, int status, std::string_view message) {
    return error_response(*site_, req, status, message);
}

}  // namespace starpunk::web
