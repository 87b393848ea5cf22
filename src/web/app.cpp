#include "web/app.hpp"

#include "web/errors.hpp"
#include "web/routes.hpp"

namespace starpunk::web {

App::App(std::shared_ptr<const Site> site) : site_(std::move(site)) { add_routes(router_, site_); }

http::Execution App::prepare(http::Request& req) {
    auto m = router_.match(req.method, req.raw_path);
    if (m.outcome == http::RouteMatch::Outcome::found) {
        req.route = m.route;
        req.params = std::move(m.params);
        if (m.route->execution == http::Execution::blocking && m.route->inline_when && m.route->inline_when(req)) {
            return http::Execution::inline_;
        }
        return m.route->execution;
    }
    req.route = nullptr;
    return http::Execution::inline_;
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
    switch (req.route->access) {
        case http::Access::public_:
        case http::Access::bearer:  // checked by the Micropub service itself
            break;
        case http::Access::dev_only:
            if (!site_->config.dev_mode) return error(req, 404, "There is nothing at this address.");
            break;
        case http::Access::admin:
            // Sessions arrive with the authentication issue; until then no request is an admin.
            return http::redirect("/auth/login", 302);
        case http::Access::admin_api:
            return error(req, 401, "Log in as the site's admin first.");
    }
    return req.route->handler(req);
}

http::Response App::error(const http::Request& req, int status, std::string_view message) {
    return error_response(*site_, req, status, message);
}

}  // namespace starpunk::web
