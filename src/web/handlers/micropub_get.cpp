// GET /micropub — Micropub queries (SPEC §5.2): q=config, q=syndicate-to,
// q=source. Needs a valid token (micropub/micropub_service.hpp); runs on the
// worker pool because verifying a token may ask the token endpoint.
#include "web/micropub_adapter.hpp"
#include "web/errors.hpp"
#include "web/handlers/handlers.hpp"

namespace starpunk::web::handlers {

http::Handler micropub_get(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        if (!site->micropub) return error_response(*site, req, 503, "Micropub is not available on this server.");
        return micropub_response(site->micropub->query(micropub_incoming(req)));
    };
}

}  // namespace starpunk::web::handlers
