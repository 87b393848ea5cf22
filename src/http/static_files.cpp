#include "http/static_files.hpp"

#include "util/assets.hpp"
#include "util/crypto.hpp"
#include "util/strings.hpp"

namespace starpunk::http {

namespace {
constexpr std::string_view kPrefix = "static/";
}

StaticFiles::StaticFiles() {
    for (const auto& asset : assets::all()) {
        if (!asset.name.starts_with(kPrefix)) continue;
        std::string rel(asset.name.substr(kPrefix.size()));
        std::string hash = to_hex(sha256(asset.bytes));
        File f;
        f.bytes = std::make_shared<const std::string>(asset.bytes);
        f.etag = "\"" + hash.substr(0, 16) + "\"";
        f.version = hash.substr(0, 12);
        f.content_type = content_type_for(rel);
        files_.emplace(std::move(rel), std::move(f));
    }
}

std::optional<Response> StaticFiles::serve(const Request& req, std::string_view relative_path) const {
    auto it = files_.find(std::string(relative_path));
    if (it == files_.end()) return std::nullopt;
    const File& f = it->second;
    Response res;
    bool versioned = req.query == "v=" + f.version;
    res.set_header("Cache-Control", versioned ? "public, max-age=31536000, immutable" : "public, max-age=3600");
    res.set_header("ETag", f.etag);
    if (auto inm = req.header("If-None-Match"); inm && etag_matches(*inm, f.etag)) {
        res.status = 304;
        return res;
    }
    res.set_header("Content-Type", f.content_type);
    res.shared_body = f.bytes;
    return res;
}

std::string StaticFiles::url(std::string_view relative_path) const {
    auto it = files_.find(std::string(relative_path));
    std::string out = "/static/" + std::string(relative_path);
    if (it != files_.end()) out += "?v=" + it->second.version;
    return out;
}

std::string_view StaticFiles::content_type_for(std::string_view path) {
    auto dot = path.rfind('.');
    std::string ext = dot == std::string_view::npos ? std::string() : to_lower(path.substr(dot + 1));
    if (ext == "css") return "text/css; charset=utf-8";
    if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
    if (ext == "json" || ext == "map") return "application/json; charset=utf-8";
    if (ext == "html") return "text/html; charset=utf-8";
    if (ext == "txt") return "text/plain; charset=utf-8";
    if (ext == "svg") return "image/svg+xml";
    if (ext == "png") return "image/png";
    if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
    if (ext == "gif") return "image/gif";
    if (ext == "webp") return "image/webp";
    if (ext == "ico") return "image/x-icon";
    if (ext == "woff2") return "font/woff2";
    if (ext == "woff") return "font/woff";
    return "application/octet-stream";
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
    auto opaque = [](std::string_view t) {
        t = trim(t);
        if (t.starts_with("W/")) t.remove_prefix(2);
        return t;
    };
    std::string_view want = opaque(etag);
    while (!if_none_match.empty()) {
        size_t comma = if_none_match.find(',');
        std::string_view item = trim(if_none_match.substr(0, comma));
        if (item == "*" || (!item.empty() && opaque(item) == want)) return true;
        if (comma == std::string_view::npos) break;
        if_none_match.remove_prefix(comma + 1);
    }
    return false;
}

}  // namespace starpunk::http
