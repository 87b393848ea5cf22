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
//   * The bytes are never read into memory: the file is opened (and checked
//     to be a regular file) on a worker and sent with sendfile
//     (http::FileBody) — the kernel hands the socket the file's pages, so an
//     image costs no heap however large, and the OS page cache is the only
//     cache. Safe because a media file is never rewritten (a deletion
//     unlinks it; bytes in flight stay intact).
// Thread-safety: MediaFiles may be used from any number of threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "http/request.hpp"
#include "http/response.hpp"
#include "util/result.hpp"

namespace starpunk::web {

// A media file opened for sending: its descriptor (closed with the last
// reference) and its size when opened.
struct MediaFile {
    int fd = -1;
    std::uint64_t size = 0;
    MediaFile() = default;
    MediaFile(const MediaFile&) = delete;
    MediaFile& operator=(const MediaFile&) = delete;
    ~MediaFile();
};

class MediaFiles {
public:
    explicit MediaFiles(std::string media_dir) : media_dir_(std::move(media_dir)) {}

    // `relative_path` opened for reading; null when the name is not a media
    // path or there is no such regular file (a symlink is none); an io Error
    // (logged) when it exists but cannot be opened (EIO, out of descriptors).
    // Blocking (open, fstat): call it on a worker.
    Result<std::shared_ptr<const MediaFile>> open(std::string_view relative_path) const;

private:
    std::string media_dir_;
};

// The response for GET/HEAD of the media file `file` (see above).
http::Response media_file_response(const http::Request& req, std::string_view relative_path,
                                   std::shared_ptr<const MediaFile> file);

}  // namespace starpunk::web
