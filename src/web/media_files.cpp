#include "web/media_files.hpp"

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <charconv>
#include <optional>

#include "http/conditional.hpp"
#include "media/image_type.hpp"
#include "media/media_service.hpp"
#include "util/strings.hpp"

namespace starpunk::web {

namespace {

std::optional<std::uint64_t> number(std::string_view s) {
    if (s.empty()) return std::nullopt;
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
}

struct Span {
    std::uint64_t first = 0;
    std::uint64_t last = 0;  // inclusive
};
enum class RangeKind { whole, span, unsatisfiable };

// One byte range of RFC 9110 §14.1.2, or `whole` (no/unusable/multiple ranges).
RangeKind parse_range(std::string_view header, std::uint64_t size, Span& out) {
    constexpr std::string_view kUnit = "bytes=";
    if (header.size() <= kUnit.size() || header.substr(0, kUnit.size()) != kUnit) return RangeKind::whole;
    std::string_view spec = trim_ows(header.substr(kUnit.size()));
    if (spec.find(',') != std::string_view::npos) return RangeKind::whole;
    const size_t dash = spec.find('-');
    if (dash == std::string_view::npos) return RangeKind::whole;
    auto a = number(trim_ows(spec.substr(0, dash)));
    auto b = number(trim_ows(spec.substr(dash + 1)));
    if (!a && !b) return RangeKind::whole;
    if (!a) {  // suffix: the last *b bytes
        if (*b == 0 || size == 0) return RangeKind::unsatisfiable;
        out = {size - std::min(*b, size), size - 1};
        return RangeKind::span;
    }
    if (b && *b < *a) return RangeKind::whole;  // invalid: ignored (RFC 9110)
    if (*a >= size) return RangeKind::unsatisfiable;
    out = {*a, b ? std::min(*b, size - 1) : size - 1};
    return RangeKind::span;
}

}  // namespace

MediaFile::~MediaFile() {
    if (fd >= 0) ::close(fd);
}

Result<std::shared_ptr<const MediaFile>> MediaFiles::open(std::string_view relative_path) const {
    if (!media::is_media_path(relative_path)) return std::shared_ptr<const MediaFile>();
    const std::string path = media_dir_ + "/" + std::string(relative_path);
    auto file = std::make_shared<MediaFile>();
    file->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (file->fd < 0) {
        // ELOOP: a symlink (O_NOFOLLOW) — as good as absent.
        if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) return std::shared_ptr<const MediaFile>();
        const int err = errno;
        spdlog::error("media: cannot open {}: {}", path, std::strerror(err));
        return make_error(ErrorCode::io, "cannot open a media file");
    }
    struct stat st{};
    if (::fstat(file->fd, &st) != 0) {
        const int err = errno;
        spdlog::error("media: cannot stat {}: {}", path, std::strerror(err));
        return make_error(ErrorCode::io, "cannot stat a media file");
    }
    if (!S_ISREG(st.st_mode)) return std::shared_ptr<const MediaFile>();
    file->size = static_cast<std::uint64_t>(st.st_size);
    return std::shared_ptr<const MediaFile>(std::move(file));
}

http::Response media_file_response(const http::Request& req, std::string_view relative_path,
                                   std::shared_ptr<const MediaFile> file) {
    const std::uint64_t size = file->size;
    const std::string_view name = relative_path.substr(relative_path.rfind('/') + 1);
    const size_t dot = name.rfind('.');
    const std::string etag = "\"" + std::string(name.substr(0, dot)) + "\"";
    const auto type = media::type_of_extension(name.substr(dot + 1));

    http::Response res;
    res.set_header("Content-Type", type ? media::mime_type(*type) : "application/octet-stream");
    res.set_header("ETag", etag);
    res.set_header("Cache-Control", "public, max-age=31536000, immutable");
    res.set_header("Accept-Ranges", "bytes");
    if (http::is_not_modified(req, etag, "")) {
        res.status = 304;
        return res;
    }
    auto range = req.header("Range");
    auto if_range = req.header("If-Range");
    if (range && req.method == http::Method::get && (!if_range || *if_range == etag)) {
        Span span;
        switch (parse_range(*range, size, span)) {
            case RangeKind::whole: break;
            case RangeKind::unsatisfiable:
                res.status = 416;
                res.set_header("Content-Range", "bytes */" + std::to_string(size));
                return res;
            case RangeKind::span:
                res.status = 206;
                res.set_header("Content-Range", "bytes " + std::to_string(span.first) + "-" + std::to_string(span.last) +
                                                    "/" + std::to_string(size));
                res.file = http::FileBody{file->fd, file, span.first, span.last - span.first + 1};
                return res;
        }
    }
    res.status = 200;
    res.file = http::FileBody{file->fd, file, 0, size};
    return res;
}

}  // namespace starpunk::web
