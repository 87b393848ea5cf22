// The Micropub endpoint (see micropub_service.hpp for the order of checks).
#include "micropub/micropub_service.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "http/form.hpp"
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

MicropubService::MicropubService(const config::Config& config, TokenVerifier& tokens, notes::NotesService& notes)
    : config_(config), tokens_(tokens), notes_(notes) {}

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
    auto parsed = parse_post(in.content_type, in.body);
    if (!parsed) return Reply::from(from_error(parsed.error()));
    std::optional<std::string_view> form_token;
    if (parsed->access_token) form_token = *parsed->access_token;
    if (verified && form_token) return Reply::from(extract_token(in.authorization, form_token).failure());  // both: 400
    if (!verified) {
        auto info = authenticate(tokens_, in.authorization, form_token);
        if (!info) return Reply::from(info.failure());
        verified = std::move(*info);
    }
    const TokenInfo* info = &*verified;

    if (parsed->action) {
        const std::string action = to_lower(trim(*parsed->action));
        if (action == "update" || action == "delete" || action == "undelete") {
            return Reply::from(invalid_request(fmt::format("action={} is not supported yet.", action)));
        }
        return Reply::from(invalid_request(
            fmt::format("Unknown action \"{}\".", http::printable_excerpt(*parsed->action, 40))));
    }
    if (auto missing = require_scope(*info, "create")) return Reply::from(*missing);

    auto create = build_create(*parsed);
    if (!create) return Reply::from(from_error(create.error()));
    auto note = notes_.create(create->note);
    if (!note) {
        const Error& e = note.error();
        if (e.code == ErrorCode::invalid_input || e.code == ErrorCode::too_large) return Reply::from(from_error(e));
        spdlog::error("micropub: create failed: {}", e.message);
        return Reply::from(server_error("The post could not be saved: the server's storage failed. Nothing was changed."));
    }

    spdlog::info("micropub: created note {} ({}) for client {}", note->slug, note->published ? "published" : "draft",
                 info->client_id.empty() ? "-" : info->client_id);
    if (create->private_visibility) spdlog::info("micropub: note {} stored as a draft (visibility)", note->slug);
    if (!create->categories.empty()) {
        spdlog::info("micropub: note {}: {} categor{} accepted but not stored (no tags yet)", note->slug,
                     create->categories.size(), create->categories.size() == 1 ? "y" : "ies");
    }
    if (parsed->ignored_files > 0) {
        spdlog::info("micropub: note {}: {} uploaded file(s) ignored (no media endpoint yet)", note->slug,
                     parsed->ignored_files);
    }
    Reply r;
    r.status = 201;
    r.location = config_.site_url + "/note/" + note->slug;
    r.created = std::move(*note);
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
                  {"q", {"config", "syndicate-to", "source"}}};
        return r;
    }
    if (what == "syndicate-to") {
        r.body = {{"syndicate-to", nlohmann::json::array()}};
        return r;
    }
    if (what == "source") {
        auto wanted = q->get_all("properties[]");
        for (auto p : q->get_all("properties")) wanted.push_back(p);
        return source(q->get("url").value_or(""), wanted);
    }
    if (what.empty()) return Reply::from(invalid_request("Ask something: q=config, q=syndicate-to or q=source&url=…"));
    return Reply::from(
        invalid_request(fmt::format("q={} is not supported: ask for config, syndicate-to or source.",
                                    http::printable_excerpt(what, 40))));
}

Reply MicropubService::source(std::string_view url, const std::vector<std::string_view>& wanted) const {
    if (url.empty()) return Reply::from(invalid_request("q=source needs url=<the post's permalink>."));
    const std::string prefix = config_.site_url + "/note/";
    std::optional<std::string> slug;
    if (url.starts_with(prefix)) slug = percent_decode(url.substr(prefix.size()));
    if (!slug || slug->empty() || slug->find_first_of("/?#") != std::string::npos) {
        return Reply::from(invalid_request("There is no post at that URL on this site."));
    }
    auto note = notes_.get_by_slug(*slug);
    if (!note) {
        if (note.error().code == ErrorCode::not_found) {
            return Reply::from(invalid_request("There is no post at that URL on this site."));
        }
        spdlog::error("micropub: q=source for {}: {}", *slug, note.error().message);
        return Reply::from(server_error("The post could not be loaded."));
    }
    if (note->is_deleted()) return Reply::from(invalid_request("That post has been deleted."));
    auto content = notes_.read_content(*note);
    if (!content) {
        spdlog::error("micropub: q=source cannot read note {}: {}", note->slug, content.error().message);
        return Reply::from(server_error("The post could not be loaded."));
    }

    const auto heading = notes::leading_heading(*content);
    const std::optional<std::string> name = heading ? std::optional(heading->title) : std::nullopt;
    const std::string body = heading ? notes::without_leading_heading(*content, *heading) : *content;
    std::string_view text = body;
    while (!text.empty() && (text.front() == '\n' || text.front() == '\r')) text.remove_prefix(1);
    nlohmann::json props = {
        {"content", {std::string(text)}},
        {"published", {format_rfc3339(note->created_at)}},
        {"url", {config_.site_url + "/note/" + note->slug}},
        {"post-status", {note->published ? "published" : "draft"}},
    };
    if (name) props["name"] = {*name};

    Reply r;
    if (wanted.empty()) {
        r.body = {{"type", {"h-entry"}}, {"properties", std::move(props)}};
        return r;
    }
    nlohmann::json chosen = nlohmann::json::object();
    for (std::string_view p : wanted) {
        auto it = props.find(std::string(p));
        if (it != props.end()) chosen[it.key()] = *it;
    }
    r.body = {{"properties", std::move(chosen)}};
    return r;
}

}  // namespace starpunk::micropub
