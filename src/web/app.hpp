// The web application: the route table plus the gate every request passes
// (access rules, 404/405, error pages). Implements http::Application.
//
// The gate, in order:
//   1. no route -> 404/405/400; a dev-only route without DEV_MODE -> 404;
//   2. who is asking: a request with a session cookie on a route that may care
//      gets its Visitor (web/visitor.hpp) from the session store (any failure ->
//      anonymous: fail closed). Public inline routes never look, so cached pages
//      and static files never touch the database; a request carrying a session
//      cookie is never answered from the page cache (it may see drafts);
//   3. a POST (or any other method that may change state: changes_state())
//      from another site is refused with 403 (web/request_guard.hpp);
//   4. admin routes without a session: pages 302 to /auth/login, JSON 401;
//   5. such a request to an admin route without the session's CSRF token -> 403.
#pragma once

#include <memory>

#include "http/router.hpp"
#include "http/server.hpp"
#include "web/site.hpp"

namespace starpunk::web {

class App final : public http::Application {
public:
    explicit App(std::shared_ptr<const Site> site);

    // The matched route's body policy (uploads: MAX_UPLOAD_SIZE, to a file).
    http::BodyPlan plan_body(const http::Request& head) override;
    http::Execution prepare(http::Request& req) override;
    http::Response handle(http::Request& req) override;
    http::Response error(const http::Request& req, int status, std::string_view message) override;
    // The site's security and caching headers (web/security_headers.hpp).
    void finalize(const http::Request& req, http::Response& res) override;
    // Records the finished request in the site's metrics (by route pattern).
    void completed(const http::Request& req, const http::Completion& done) override;

    const http::Router& router() const { return router_; }

private:
    void identify(http::Request& req) const;

    std::shared_ptr<const Site> site_;
    http::Router router_;
};

}  // namespace starpunk::web
