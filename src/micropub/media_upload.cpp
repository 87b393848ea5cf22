// POST /micropub/media — the Micropub media endpoint (issue 14; contract in
// micropub_service.hpp). The body arrives spooled to a temporary file (the
// route is planned `to_file` with MAX_UPLOAD_SIZE); the part `file` is split
// out to its own temporary file and never held in memory.
#include <spdlog/spdlog.h>

#include "http/multipart.hpp"
#include "micropub/micropub_service.hpp"

namespace starpunk::micropub {

// Shared with micropub_service.cpp (photo files of a create).
Failure media_failure(const Error& e) {
    switch (e.code) {
        case ErrorCode::unsupported:
            return Failure{415, "invalid_request", "Only JPEG, PNG, GIF and WebP images are accepted: " + e.message, {}};
        case ErrorCode::too_large: return Failure{413, "request_too_large", "The image is too large: " + e.message, {}};
        case ErrorCode::invalid_input: return invalid_request("The image cannot be read: " + e.message);
        default: break;
    }
    spdlog::error("micropub: storing an upload failed: {}", e.message);
    if (e.code == ErrorCode::no_space) return insufficient_storage("The image could not be stored");
    return Failure{500, "server_error", "The image could not be stored: the server's storage failed.", {}};
}

Reply MicropubService::upload(const Incoming& in) {
    if (!media_) return Reply::from(Failure{503, "temporarily_unavailable", "This server does not store media.", {}});
    // A header token is verified before the body is parsed (as for posts).
    std::optional<TokenInfo> verified;
    if (auto header_token = extract_token(in.authorization, std::nullopt)) {
        auto info = tokens_.verify(*header_token);
        if (!info) return Reply::from(info.failure());
        verified = std::move(*info);
    }
    if (!in.body_file) return Reply::from(invalid_request("Send the image as multipart/form-data in a field named file."));
    http::MultipartLimits limits;
    limits.max_file_bytes = config_.max_upload_bytes;
    limits.max_total_bytes = config_.max_upload_bytes;
    limits.max_field_bytes = 64 * 1024;
    auto form = http::parse_multipart_file(*in.body_file, in.content_type, limits, media_->options().upload_dir);
    if (!form) {
        if (is_storage_failure(form.error().code)) return Reply::from(media_failure(form.error()));
        return Reply::from(invalid_request("Send the image as multipart/form-data in a field named file: " +
                                           form.error().message));
    }
    auto form_token = form->fields.get("access_token");
    if (verified && form_token) return Reply::from(extract_token(in.authorization, form_token).failure());  // both: 400
    if (!verified) {
        auto token = extract_token(in.authorization, form_token);
        if (!token) return Reply::from(token.failure());
        auto info = tokens_.verify(*token);
        if (!info) return Reply::from(info.failure());
        verified = std::move(*info);
    }
    if (!verified->has_scope("media")) {
        if (auto missing = require_scope(*verified, "create")) {
            Failure f = *missing;
            f.description = "The access token grants neither the \"media\" nor the \"create\" scope an upload needs.";
            return Reply::from(f);
        }
    }
    const http::SpooledFile* file = nullptr;
    for (const auto& f : form->files) {
        if (f.field_name == "file") {
            file = &f;
            break;
        }
    }
    if (!file) return Reply::from(invalid_request("No file: send the image in the multipart field named file."));
    if (file->size == 0) return Reply::from(invalid_request("The file is empty: choose an image and send it again."));

    auto stored = media_->store(*file->data);
    if (!stored) return Reply::from(media_failure(stored.error()));
    spdlog::info("micropub: stored {} ({}×{}, {} bytes) for client {}", stored->file.path, stored->file.width,
                 stored->file.height, stored->file.bytes, verified->client_id.empty() ? "-" : verified->client_id);
    Reply r;
    r.status = 201;
    r.location = config_.site_url + "/media/" + stored->file.path;
    return r;
}

}  // namespace starpunk::micropub
