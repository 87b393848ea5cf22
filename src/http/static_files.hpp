// Static files under /static/: loaded once at start-up from the assets embedded
// in the binary, served from memory without copying.
//
// Contract: only files present at start-up exist; a lookup never touches the
// filesystem, so no path can escape the static root ("..", symlinks, encoded
// slashes all simply miss). Every file has a strong ETag (content hash) and a
// correct Content-Type. A request carrying ?v=<the file's hash> gets
// `Cache-Control: public, max-age=31536000, immutable`; other requests get a
// one-hour cache and revalidate with If-None-Match (304).
// Thread-safety: immutable after construction.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "http/request.hpp"
#include "http/response.hpp"

namespace starpunk::http {

class StaticFiles {
public:
    // Every embedded asset whose name starts with "static/".
    StaticFiles();

    // The response for /static/<relative_path>: 200, 304 or 404 (nullopt: not ours,
    // the caller renders its 404 page).
    std::optional<Response> serve(const Request& req, std::string_view relative_path) const;

    // "/static/style.css?v=1a2b3c4d5e6f" for use in templates; the plain path when
    // the file is unknown.
    std::string url(std::string_view relative_path) const;

    static std::string_view content_type_for(std::string_view path);

private:
    struct File {
        std::shared_ptr<const std::string> bytes;
        std::string etag;     // "\"<16 hex>\""
        std::string version;  // 12 hex characters
        std::string_view content_type;
    };
    std::unordered_map<std::string, File> files_;
};

// True when an If-None-Match header value matches `etag` (handles lists, "*", and
// weak comparison as RFC 9110 §13.1.2 requires for If-None-Match).
bool etag_matches(std::string_view if_none_match, std::string_view etag);

}  // namespace starpunk::http
