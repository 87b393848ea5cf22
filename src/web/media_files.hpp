// Serving stored images: GET /media/<YYYY>/<MM>/<hash>[-<width>].<ext>
// (issue 14).
//
//   * Only names media::is_media_path() accepts are looked up, so nothing
//     outside DATA_PATH/media can ever be named (no "..", no other files);
//     anything else, and a name with no file, is 404.
//   * Files are named by their content and never rewritten, so the response
//     is immutable: a strong ETag (the file's name without extension),
//     `Cache-Control: public, max-age=31536000, immutable`, the type from
//     the extension StarPunk gave it, and X-Content-Type-Options: nosniff
//     (web/security_headers, as on every response).
//   * Range: one range (`bytes=a-b`, `a-`, `-n`) -> 206 + Content-Range;
//     unsatisfiable -> 416 with `Content-Range: bytes */<size>`; several
//     ranges or a stale If-Range -> the whole file (200). Accept-Ranges: bytes.
//   * Bytes read are kept in a bounded in-memory cache (files up to 4 MiB,
//     64 MiB in all, oldest dropped first); a cached file is answered on the
//     I/O thread, an uncached one is read on a worker.
// Thread-safety: MediaFiles may be used from any number of threads.
#pragma once

#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "http/request.hpp"
#include "http/response.hpp"
#include "storage/fs.hpp"

namespace starpunk::web {

class MediaFiles {
public:
    MediaFiles(storage::FileSystem& fs, std::string media_dir) : fs_(fs), media_dir_(std::move(media_dir)) {}

    // The cached bytes of `relative_path`, or null (never touches the disk).
    std::shared_ptr<const std::string> cached(std::string_view relative_path) const;
    // The bytes of `relative_path`, read (and cached) when needed; null when
    // the name is not a media path or there is no such file (an unreadable
    // file is logged and also null).
    std::shared_ptr<const std::string> load(std::string_view relative_path) const;

private:
    storage::FileSystem& fs_;
    std::string media_dir_;
    mutable std::mutex mutex_;
    mutable std::unordered_map<std::string, std::shared_ptr<const std::string>> cache_;
    mutable std::list<std::string> order_;  // oldest first
    mutable std::size_t cached_bytes_ = 0;
};

// The response for GET/HEAD of a media file whose bytes are `bytes` (see above).
http::Response media_file_response(const http::Request& req, std::string_view relative_path,
                                   std::shared_ptr<const std::string> bytes);

}  // namespace starpunk::web
