// The Micropub endpoint (see micropub_service.hpp for the order of checks).
#include "micropub/micropub_service.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "http/form.hpp"
#include "micropub/post_model.hpp"
#include "micropub/request.hpp"
#include "notes/note_renderer.hpp"
#include "notes/note_text.hpp"
#include "util/strings.hpp"

namespace starpunk::micropub {

namespace {

Failure from_error(const Error& e) {
    if (e.code == ErrorCode::too_large) return Failure{413, "request_too_large", e.message, {}};
    return invalid_request(e.message);
}

// Every render worker stayed busy (the write gate renders the note first).
Failure busy_rendering() {
    return Failure{503, "temporarily_unavailable", "The server is busy rendering other notes; try again in a few seconds.",
                   {}, 5};
}

Failure server_error(std::string description) { return Failure{500, "server_error", std::move(description), {}}; }

// Verifies the token presented in the header or the access_token field.
Outcome<TokenInfo> authenticate(TokenVerifier& tokens, std::optional<std::string_view> authorization,
                                std::optional<std::string_view> form_token) {
    auto token = extract_token(authorization, form_token);
    if (!token) return token.failure();
    return tokens.verify(*token);
}

}  // namespace

Reply Reply::from(const Failure& failure) {
    Reply r;
    r.status = failure.status;
    r.body = {{"error", failure.error}, {"error_description", failure.description}};
    r.www_authenticate = failure.www_authenticate;
    r.retry_after_seconds = failure.retry_after_seconds;
    return r;
}

MicropubService::MicropubService(const config::Config& config, TokenVerifier& tokens, notes::NotesService& notes,
                                 media::MediaService* media)
    : config_(config), tokens_(tokens), notes_(notes), media_(media) {}

Outcome<std::vector<notes::NewPhoto>> MicropubService::link_photos(std::vector<notes::NewPhoto> photos) const {
    const std::string own = config_.site_url + "/media/";
    for (auto& p : photos) {
        if (p.media_id || !p.url.starts_with(own)) continue;
        if (!media_) return invalid_request("This server does not store media, so it has nothing at " + p.url + ".");
        auto rel = percent_decode(std::string_view(p.url).substr(own.size()));
        std::optional<media::MediaItem> item;
        if (rel && media::is_media_path(*rel)) {
            auto found = media_->find_by_path(*rel);
            if (!found) {
                spdlog::error("micropub: looking up {}: {}", *rel, found.error().message);
                return server_error("The photo could not be looked up.");
            }
            item = std::move(*found);
        }
        if (!item) {
            return invalid_request(fmt::format("There is no stored image at {}: upload it to the media endpoint first.",
                                               http::printable_excerpt(p.url, 120)));
        }
        p.media_id = item->id;
        p.url = "/media/" + item->file.path;
    }
    return photos;
}

Outcome<std::vector<notes::NewPhoto>> MicropubService::store_uploads(const PostRequest& request) const {
    std::vector<notes::NewPhoto> out;
    if (request.photo_files.empty()) return out;
    if (!media_) return Failure{503, "temporarily_unavailable", "This server does not store media.", {}};
    for (size_t i = 0; i < request.photo_files.size(); ++i) {
        auto stored = media_->store(*request.photo_files[i].data);
        if (!stored) return media_failure(stored.error());
        std::string alt = i < request.photo_file_alts.size() ? request.photo_file_alts[i] : std::string();
        out.push_back(notes::NewPhoto{stored->id, "/media/" + stored->file.path, std::move(alt)});
    }
    return out;
}

Result<PostRequest> MicropubService::parse_body(const Incoming& in) const {
    if (!in.body_file) return parse_post(in.content_type, in.body);
    // A multipart body the route spooled to disk (it may carry photo files).
    if (!media_) return make_error(ErrorCode::invalid_input, "This server does not take uploaded files.");
    http::MultipartLimits limits;
    limits.max_file_bytes = config_.max_upload_bytes;
    limits.max_total_bytes = config_.max_upload_bytes;
    limits.max_field_bytes = 4u << 20;
    auto form = http::parse_multipart_file(*in.body_file, in.content_type, limits, media_->options().upload_dir);
    if (!form) return std::move(form).error();
    return parse_post_spooled(std::move(*form));
}

Reply MicropubService::post(const Incoming& in) {
    // A token in the header is verified before the body is even parsed: an
    // unauthenticated client costs no parsing. Only without one must the body
    // be read first, since it may carry the token.
    std::optional<TokenInfo> verified;
    if (auto header_token = extract_token(in.authorization, std::nullopt)) {
        auto info = tokens_.verify(*header_token);
        if (!info) return Reply::from(info.failure());
        verified = std::move(*info);
    }
    auto parsed = parse_body(in);
    if (!parsed) {
        if (is_storage_failure(parsed.error().code)) return Reply::from(media_failure(parsed.error()));
        return Reply::from(from_error(parsed.error()));
    }
    std::optional<std::string_view> form_token;
    if (parsed->access_token) form_token = *parsed->access_token;
    if (verified && form_token) return Reply::from(extract_token(in.authorization, form_token).failure());  // both: 400
    if (!verified) {
        auto info = authenticate(tokens_, in.authorization, form_token);
        if (!info) return Reply::from(info.failure());
        verified = std::move(*info);
    }
    const TokenInfo* info = &*verified;

    if (parsed->action) return act(*info, *parsed);
    if (auto missing = require_scope(*info, "create")) return Reply::from(*missing);

    auto create = build_create(*parsed);
    if (!create) return Reply::from(from_error(create.error()));
    // Photos: URLs first checked and linked (cheap), then uploaded files
    // stored; uploaded files come first in the note, then the URLs, each in
    // the order sent. A refused file (415/413) creates no note.
    if (create->note.photos.size() + parsed->photo_files.size() > notes::kMaxPhotosPerNote) {
        return Reply::from(invalid_request(
            fmt::format("A post holds at most {} photos; {} were sent.", notes::kMaxPhotosPerNote,
                        create->note.photos.size() + parsed->photo_files.size())));
    }
    auto linked = link_photos(std::move(create->note.photos));
    if (!linked) return Reply::from(linked.failure());
    auto uploaded = store_uploads(*parsed);
    if (!uploaded) return Reply::from(uploaded.failure());
    create->note.photos = std::move(*uploaded);
    create->note.photos.insert(create->note.photos.end(), linked->begin(), linked->end());
    auto note = notes_.create(create->note);
    if (!note) {
        const Error& e = note.error();
        if (e.code == ErrorCode::invalid_input || e.code == ErrorCode::too_large) return Reply::from(from_error(e));
        if (e.code == ErrorCode::busy) return Reply::from(busy_rendering());
        spdlog::error("micropub: create failed: {}", e.message);
        if (e.code == ErrorCode::no_space) return Reply::from(insufficient_storage("The post could not be saved"));
        return Reply::from(server_error("The post could not be saved: the server's storage failed. Nothing was changed."));
    }

    spdlog::info("micropub: created note {} ({}) for client {}", note->slug, note->published ? "published" : "draft",
                 info->client_id.empty() ? "-" : info->client_id);
    if (create->private_visibility) spdlog::info("micropub: note {} stored as a draft (visibility)", note->slug);
    if (parsed->ignored_files > 0) {
        spdlog::info("micropub: note {}: {} uploaded file(s) ignored (only photo files are kept)", note->slug,
                     parsed->ignored_files);
    }
    Reply r;
    r.status = 201;
    r.location = config_.site_url + "/note/" + note->slug;
    r.created = std::move(*note);
    return r;
}

Outcome<notes::Note> MicropubService::find_note(std::string_view url) const {
    auto slug = slug_of_url(url, config_.site_url);
    if (!slug) return invalid_request("There is no post at that URL on this site.");
    auto note = notes_.get_by_slug(*slug);
    if (!note) {
        if (note.error().code == ErrorCode::not_found) return invalid_request("There is no post at that URL on this site.");
        spdlog::error("micropub: loading {}: {}", *slug, note.error().message);
        return server_error("The post could not be loaded.");
    }
    return std::move(*note);
}

Outcome<StoredPost> MicropubService::load(notes::Note note) const {
    auto content = notes_.read_content(note);
    if (!content) {
        spdlog::error("micropub: cannot read note {}: {}", note.slug, content.error().message);
        return server_error("The post could not be loaded.");
    }
    auto tags = notes_.tags_of(note.id);
    if (!tags) {
        spdlog::error("micropub: cannot read the tags of note {}: {}", note.slug, tags.error().message);
        return server_error("The post could not be loaded.");
    }
    auto photos = notes_.photos_of(note.id);
    if (!photos) {
        spdlog::error("micropub: cannot read the photos of note {}: {}", note.slug, photos.error().message);
        return server_error("The post could not be loaded.");
    }
    return StoredPost{std::move(note), std::move(*content), std::move(*tags), std::move(*photos)};
}

Reply MicropubService::act(const TokenInfo& info, const PostRequest& request) {
    const std::string action = to_lower(trim(*request.action));
    if (action != "update" && action != "delete" && action != "undelete") {
        return Reply::from(invalid_request(
            fmt::format("Unknown action \"{}\": use update, delete or undelete.",
                        http::printable_excerpt(*request.action, 40))));
    }
    if (auto missing = require_scope(info, action)) return Reply::from(*missing);
    if (!request.url || trim(*request.url).empty()) {
        return Reply::from(invalid_request(fmt::format("action={} needs url=<the post's permalink>.", action)));
    }
    if (action == "update" && !request.update) {
        return Reply::from(invalid_request("Send updates as JSON: {\"action\": \"update\", \"url\": …, \"replace\": {…}}."));
    }
    auto found = find_note(trim(*request.url));
    if (!found) return Reply::from(found.failure());
    const notes::Note& note = *found;

    Result<notes::Note> done = note;
    if (action == "delete") {
        done = notes_.soft_delete(note.id);
    } else if (action == "undelete") {
        done = notes_.restore(note.id);
    } else {
        if (note.is_deleted()) return Reply::from(invalid_request("That post has been deleted: undelete it first."));
        auto post = load(note);
        if (!post) return Reply::from(post.failure());
        auto change = build_update(*post, *request.update, config_.site_url);
        if (!change) return Reply::from(from_error(change.error()));
        if (change->photos) {
            auto linked = link_photos(std::move(*change->photos));
            if (!linked) return Reply::from(linked.failure());
            change->photos = std::move(*linked);
        }
        done = notes_.update(note.id, *change);
    }
    if (!done) {
        const Error& e = done.error();
        if (e.code == ErrorCode::invalid_input || e.code == ErrorCode::too_large) return Reply::from(from_error(e));
        if (e.code == ErrorCode::conflict) return Reply::from(Failure{409, "conflict", e.message, {}});
        if (e.code == ErrorCode::busy) return Reply::from(busy_rendering());
        spdlog::error("micropub: {} of {} failed: {}", action, note.slug, e.message);
        if (e.code == ErrorCode::no_space) return Reply::from(insufficient_storage("The post could not be changed"));
        return Reply::from(server_error("The post could not be changed: the server's storage failed."));
    }
    spdlog::info("micropub: {} of note {} for client {}", action, note.slug,
                 info.client_id.empty() ? "-" : info.client_id);
    Reply r;
    r.status = 204;
    return r;
}

Reply MicropubService::query(const Incoming& in) {
    auto q = http::parse_urlencoded(in.query);
    std::optional<std::string_view> form_token;
    if (q) form_token = q->get("access_token");
    auto info = authenticate(tokens_, in.authorization, form_token);
    if (!info) return Reply::from(info.failure());
    if (!q) return Reply::from(from_error(q.error()));

    const std::string what(q->get("q").value_or(""));
    Reply r;
    if (what == "config") {
        r.body = {{"syndicate-to", nlohmann::json::array()},
                  {"post-types", nlohmann::json::array({{{"type", "note"}, {"name", "Note"}},
                                                        {{"type", "article"}, {"name", "Article"}}})},
                  {"q", {"config", "source", "syndicate-to", "category"}}};
        if (media_) r.body["media-endpoint"] = config_.site_url + "/micropub/media";
        return r;
    }
    if (what == "syndicate-to") {
        r.body = {{"syndicate-to", nlohmann::json::array()}};
        return r;
    }
    if (what == "category") return categories(q->get("filter").value_or(""));
    if (what == "source") {
        auto wanted = q->get_all("properties[]");
        for (auto p : q->get_all("properties")) wanted.push_back(p);
        if (auto url = q->get("url")) return source(*url, wanted);
        return source_list(q->get("limit").value_or(""), q->get("offset").value_or(""), wanted);
    }
    if (what.empty()) {
        return Reply::from(invalid_request("Ask something: q=config, q=source, q=syndicate-to or q=category."));
    }
    return Reply::from(
        invalid_request(fmt::format("q={} is not supported: ask for config, source, syndicate-to or category.",
                                    http::printable_excerpt(what, 40))));
}

namespace {

// Only the properties asked for (all when none were).
nlohmann::json chosen(nlohmann::json props, const std::vector<std::string_view>& wanted) {
    if (wanted.empty()) return props;
    nlohmann::json out = nlohmann::json::object();
    for (std::string_view p : wanted) {
        auto it = props.find(std::string(p));
        if (it != props.end()) out[it.key()] = *it;
    }
    return out;
}

// A query parameter as a number in [low, high]; `fallback` when absent.
Outcome<int64_t> bounded(std::string_view name, std::string_view text, int64_t fallback, int64_t low, int64_t high) {
    if (text.empty()) return fallback;
    auto n = parse_int64(text);
    if (!n || *n < low || *n > high) {
        return invalid_request(fmt::format("{} must be a whole number from {} to {}.", name, low, high));
    }
    return *n;
}

}  // namespace

Reply MicropubService::source(std::string_view url, const std::vector<std::string_view>& wanted) const {
    if (trim(url).empty()) return Reply::from(invalid_request("q=source needs url=<the post's permalink>."));
    auto note = find_note(trim(url));
    if (!note) return Reply::from(note.failure());
    if (note->is_deleted()) return Reply::from(invalid_request("That post has been deleted."));
    auto post = load(std::move(*note));
    if (!post) return Reply::from(post.failure());
    Reply r;
    nlohmann::json props = post_properties(*post, config_.site_url);
    if (wanted.empty()) {
        r.body = {{"type", {"h-entry"}}, {"properties", std::move(props)}};
    } else {
        r.body = {{"properties", chosen(std::move(props), wanted)}};
    }
    return r;
}

Reply MicropubService::source_list(std::string_view limit_text, std::string_view offset_text,
                                   const std::vector<std::string_view>& wanted) const {
    auto limit = bounded("limit", limit_text, 20, 1, 100);
    if (!limit) return Reply::from(limit.failure());
    auto offset = bounded("offset", offset_text, 0, 0, INT64_MAX / 2);
    if (!offset) return Reply::from(offset.failure());
    // The owner's token: drafts are listed too (post-status says which).
    auto page = notes_.list(notes::Visibility::all, *limit, *offset);
    if (!page) {
        spdlog::error("micropub: q=source list: {}", page.error().message);
        return Reply::from(server_error("The posts could not be listed."));
    }
    nlohmann::json items = nlohmann::json::array();
    for (auto& note : page->notes) {
        auto post = load(std::move(note));
        if (!post) return Reply::from(post.failure());
        items.push_back({{"type", {"h-entry"}}, {"properties", chosen(post_properties(*post, config_.site_url), wanted)}});
    }
    Reply r;
    r.body = {{"items", std::move(items)}};
    return r;
}

Reply MicropubService::categories(std::string_view filter) const {
    auto tags = notes_.tags_in_use(notes::Visibility::all);
    if (!tags) {
        spdlog::error("micropub: q=category: {}", tags.error().message);
        return Reply::from(server_error("The categories could not be listed."));
    }
    const auto wanted = notes::make_tag(filter);
    nlohmann::json list = nlohmann::json::array();
    for (const auto& t : *tags) {
        if (wanted && t.tag.name.find(wanted->name) == std::string::npos) continue;
        list.push_back(t.tag.display);
    }
    Reply r;
    r.body = {{"categories", std::move(list)}};
    return r;
}

}  // namespace starpunk::micropub
