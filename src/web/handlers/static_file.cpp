#include "web/errors.hpp"
#include "web/handlers/handlers.hpp"

namespace starpunk::web::handlers {

http::Handler static_file(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        if (auto res = site->static_files.serve(req, req.param("path"))) return std::move(*res);
        return error_response(*site, req, 404, "There is no such file.");
    };
}

}  // namespace starpunk::web::handlers
