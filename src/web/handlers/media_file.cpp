// GET /media/{path*} — stored images (web/media_files.hpp: names, caching
// headers, Range). Inline when the bytes are cached, else read on a worker.
#include "web/errors.hpp"
#include "web/handlers/handlers.hpp"
#include "web/media_files.hpp"

namespace starpunk::web::handlers {

bool media_is_cached(const Site& site, http::Request& req) {
    if (!site.media_files) return false;
    auto bytes = site.media_files->cached(req.param("path"));
    if (!bytes) return false;
    req.prepared = std::move(bytes);
    return true;
}

http::Handler media_file(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        const std::string_view path = req.param("path");
        auto bytes = std::static_pointer_cast<const std::string>(req.prepared);
        if (!bytes && site->media_files) bytes = site->media_files->load(path);
        if (!bytes) return error_response(*site, req, 404, "There is no such file.");
        return media_file_response(req, path, std::move(bytes));
    };
}

}  // namespace starpunk::web::handlers
