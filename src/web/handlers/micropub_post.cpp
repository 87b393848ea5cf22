// POST /micropub — Micropub create (SPEC §5.2). The service checks the token
// (bearer routes are exempt from the gate's cross-site and CSRF checks: the
// token is the credential). The notes service announces a created note, so
// the page cache drops what it changes before the response goes out.
#include "web/micropub_adapter.hpp"
#include "web/errors.hpp"
#include "web/handlers/handlers.hpp"

namespace starpunk::web::handlers {

http::Handler micropub_post(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        if (!site->micropub) return error_response(*site, req, 503, "Micropub is not available on this server.");
        micropub::Reply reply = site->micropub->post(micropub_incoming(req));
        return micropub_response(reply);
    };
}

}  // namespace starpunk::web::handlers
