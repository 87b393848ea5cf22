// POST /micropub — Micropub create (SPEC §5.2). The service checks the token
// (bearer routes are exempt from the gate's cross-site and CSRF checks: the
// token is the credential); a created note invalidates the page cache so the
// home page and the permalink show it at once.
#include "web/micropub_adapter.hpp"
#include "web/errors.hpp"
#include "web/handlers/handlers.hpp"

namespace starpunk::web::handlers {

http::Handler micropub_post(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        if (!site->micropub) return error_response(*site, req, 503, "Micropub is not available on this server.");
        micropub::Reply reply = site->micropub->post(micropub_incoming(req));
        if (reply.created && site->pages) site->pages->invalidate();
        return micropub_response(reply);
    };
}

}  // namespace starpunk::web::handlers
