// GET /media/{path*} — stored images (web/media_files.hpp: names, caching
// headers, Range). On a worker: the file is opened there, then sent with
// sendfile by the I/O thread.
#include "web/errors.hpp"
#include "web/handlers/handlers.hpp"
#include "web/media_files.hpp"

namespace starpunk::web::handlers {

http::Handler media_file(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        const std::string_view path = req.param("path");
        if (!site->media_files) return error_response(*site, req, 404, "There is no such file.");
        auto file = site->media_files->open(path);
        if (!file) return error_response(*site, req, 503, "The file cannot be read right now; try again later.");
        if (!*file) return error_response(*site, req, 404, "There is no such file.");
        return media_file_response(req, path, std::move(*file));
    };
}

}  // namespace starpunk::web::handlers
