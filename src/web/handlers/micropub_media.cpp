// POST /micropub/media — the Micropub media endpoint (issue 14; the service's
// contract is MicropubService::upload). The route table plans its body
// `to_file` with MAX_UPLOAD_SIZE, so the upload is on disk, not in memory.
#include "web/errors.hpp"
#include "web/handlers/handlers.hpp"
#include "web/micropub_adapter.hpp"

namespace starpunk::web::handlers {

http::Handler micropub_media(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        if (!site->micropub) return error_response(*site, req, 503, "Micropub is not available on this server.");
        return micropub_response(site->micropub->upload(micropub_incoming(req)));
    };
}

}  // namespace starpunk::web::handlers
