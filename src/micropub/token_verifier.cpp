// Micropub token verification (see token_verifier.hpp for the invariants).
//
// verify(): shape check -> caches (SHA-256 of the token: accepted, rejected)
// -> token endpoint (TOKEN_ENDPOINT, else discovered from ADMIN_ME) -> GET with
// the bearer token -> 2xx JSON with `me` == ADMIN_ME -> cached for the TTL;
// a 401/403 -> cached for the rejection TTL.
#include "micropub/token_verifier.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "auth/indieauth.hpp"
#include "log/log.hpp"
#include "util/crypto.hpp"
#include "util/strings.hpp"

namespace starpunk::micropub {

namespace {

// Longer tokens are refused without asking anyone (real ones are < 1 KB).
constexpr std::size_t kMaxTokenBytes = 4096;

Failure unauthorized(std::string description) {
    return Failure{401, "unauthorized", std::move(description), R"(Bearer error="invalid_token")"};
}

Failure unavailable(std::string description) {
    return Failure{503, "temporarily_unavailable", std::move(description), {}};
}

// The outbound limit is reached (net::CoalescingHttpClient): refused at once.
constexpr int kBusyRetrySeconds = 5;
Failure busy() {
    return Failure{503, "temporarily_unavailable",
                   "The server is busy verifying other access tokens; try again in a few seconds.", {},
                   kBusyRetrySeconds};
}

// Visible ASCII only: a token with spaces, control or non-ASCII bytes is not a
// bearer token (RFC 6750 §2.1) and must not reach a header line.
bool plausible_token(std::string_view token) {
    if (token.empty() || token.size() > kMaxTokenBytes) return false;
    return std::all_of(token.begin(), token.end(), [](char c) { return c > 0x20 && c < 0x7F; });
}

std::vector<std::string> split_scopes(const nlohmann::json& scope) {
    std::vector<std::string> out;
    auto add_words = [&out](std::string_view s) {
        size_t p = 0;
        while (p < s.size()) {
            while (p < s.size() && (s[p] == ' ' || s[p] == '\t' || s[p] == '\n' || s[p] == '\r')) ++p;
            const size_t q = p;
            while (p < s.size() && s[p] != ' ' && s[p] != '\t' && s[p] != '\n' && s[p] != '\r') ++p;
            if (p > q) out.emplace_back(s.substr(q, p - q));
        }
    };
    if (scope.is_string()) {
        add_words(scope.get_ref<const std::string&>());
    } else if (scope.is_array()) {  // not IndieAuth, but some servers answer so
        for (const auto& s : scope) {
            if (s.is_string()) add_words(s.get_ref<const std::string&>());
        }
    }
    return out;
}

}  // namespace

bool TokenInfo::has_scope(std::string_view scope) const {
    return std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
}

Failure missing_token() {
    return Failure{401, "unauthorized",
                   "This request needs an access token: send it as \"Authorization: Bearer <token>\".", "Bearer"};
}

Outcome<std::string> extract_token(std::optional<std::string_view> authorization,
                                   std::optional<std::string_view> form_token) {
    std::optional<std::string> from_header;
    if (authorization) {
        std::string_view h = trim(*authorization);
        const size_t space = h.find_first_of(" \t");
        if (space != std::string_view::npos && to_lower(h.substr(0, space)) == "bearer") {
            std::string_view t = trim(h.substr(space + 1));
            if (!t.empty()) from_header = std::string(t);
        }
    }
    std::optional<std::string> from_form;
    if (form_token && !form_token->empty()) from_form = std::string(*form_token);
    if (from_header && from_form) {
        return invalid_request(
            "Send the access token either in the Authorization header or in the access_token field, not both.");
    }
    if (from_header) return std::move(*from_header);
    if (from_form) return std::move(*from_form);
    return missing_token();
}

std::optional<Failure> require_scope(const TokenInfo& info, std::string_view scope) {
    const bool ok = scope == "create" ? info.can_create() : info.has_scope(scope);
    if (ok) return std::nullopt;
    return Failure{403, "insufficient_scope",
                   fmt::format("The access token does not grant the \"{}\" scope this request needs.", scope),
                   fmt::format(R"(Bearer error="insufficient_scope", scope="{}")", scope)};
}

TokenVerifier::TokenVerifier(const config::Config& config, net::HttpClient& http, const Clock& clock,
                             std::shared_ptr<auth::EndpointCache> endpoints, TokenVerifierOptions options)
    : config_(config),
      http_(http),
      clock_(clock),
      endpoints_(endpoints ? std::move(endpoints) : std::make_shared<auth::EndpointCache>(clock)),
      options_(options) {}

Outcome<std::string> TokenVerifier::admin_identity() const {
    std::string raw = config_.admin_me;
    if (raw.empty() && config_.dev_mode) raw = config_.dev_admin_me;
    if (raw.empty()) {
        spdlog::error("micropub: ADMIN_ME is not set, so no token can be accepted");
        return unavailable("This site has no owner configured (ADMIN_ME), so no token can be accepted.");
    }
    auto canon = auth::canonicalize_profile_url(raw, config_.outbound_http_allowed());
    if (!canon) {
        spdlog::error("micropub: ADMIN_ME is not a usable profile URL: {}", canon.error().message);
        return unavailable("This site's owner (ADMIN_ME) is misconfigured, so no token can be accepted.");
    }
    return std::move(*canon);
}

Outcome<std::string> TokenVerifier::token_endpoint() {
    if (!config_.token_endpoint.empty()) return config_.token_endpoint;
    auto admin = admin_identity();
    if (!admin) return admin.failure();
    auto found = endpoints_->get(http_, *admin);
    if (!found && found.error().code == ErrorCode::busy) {
        spdlog::info("micropub: token endpoint discovery not started: {}", found.error().message);
        return busy();
    }
    if (!found) {
        spdlog::warn("micropub: token endpoint discovery for {} failed: {}", *admin, found.error().message);
        return unavailable("The token endpoint could not be discovered from the site owner's profile; try again later.");
    }
    if (found->token_endpoint.empty()) {
        spdlog::error("micropub: {} advertises no token endpoint; set TOKEN_ENDPOINT", *admin);
        return unavailable("The site owner's profile advertises no token endpoint, so tokens cannot be verified.");
    }
    return found->token_endpoint;
}

Outcome<TokenInfo> TokenVerifier::verify(std::string_view token) {
    if (token.empty()) return missing_token();
    if (!plausible_token(token)) return unauthorized("The access token is malformed.");
    auto admin = admin_identity();
    if (!admin) return admin.failure();

    if (local_) {  // invariant 7
        auto found = local_->find_token(token);
        if (!found) {
            spdlog::error("micropub: token {} could not be looked up: {}", log::redact(token), found.error().message);
            return unavailable("The access token could not be checked; try again later.");
        }
        if (*found) {
            TokenInfo info;
            info.me = (*found)->me;
            info.client_id = (*found)->client_id;
            info.scopes = (*found)->scopes;
            if (info.me != *admin) {
                return Failure{403, "forbidden", "This access token was issued to someone other than this site's owner.", {}};
            }
            return info;
        }
        if (config_.token_endpoint.empty()) {
            spdlog::info("micropub: token {} is not one of the built-in server's live tokens", log::redact(token));
            return unauthorized("The access token is invalid, expired or revoked.");
        }
    }

    const std::string key = sha256(token);
    {
        std::lock_guard lock(mutex_);
        const Timestamp now = clock_.now();
        auto it = cache_.find(key);
        if (it != cache_.end()) {
            if (it->second.expires > now) return it->second.info;
            cache_.erase(it);
        }
        auto no = rejected_.find(key);
        if (no != rejected_.end()) {
            if (no->second.expires > now) return no->second.failure;
            rejected_.erase(no);
        }
    }

    auto endpoint = token_endpoint();
    if (!endpoint) return endpoint.failure();
    const std::string where = net::url_for_log(*endpoint);
    net::HttpRequest req;
    req.url = *endpoint;
    req.headers = {{"Authorization", "Bearer " + std::string(token)}, {"Accept", "application/json"}};
    auto answer = http_.fetch(req);
    if (!answer && answer.error().code == ErrorCode::busy) {
        spdlog::info("micropub: token {} not verified now: {}", log::redact(token), answer.error().message);
        return busy();
    }
    if (!answer) {
        spdlog::warn("micropub: token endpoint {} could not be used for token {}: {}", where, log::redact(token),
                     answer.error().message);
        return unavailable("The token endpoint could not be reached to verify the access token; try again later.");
    }
    if (answer->status >= 400 && answer->status < 500) {
        spdlog::info("micropub: token {} rejected by {} (HTTP {})", log::redact(token), where, answer->status);
        return rejected(key, unauthorized("The access token is invalid, expired or revoked."));
    }
    if (answer->status < 200 || answer->status >= 300) {
        spdlog::warn("micropub: token endpoint {} answered HTTP {} for token {}", where, answer->status,
                     log::redact(token));
        return unavailable("The token endpoint failed to verify the access token; try again later.");
    }
    const auto json = nlohmann::json::parse(answer->body, nullptr, false);
    if (json.is_discarded() || !json.is_object()) {
        spdlog::warn("micropub: token endpoint {} answered HTTP {} without a JSON object", where, answer->status);
        return unavailable("The token endpoint gave an answer that could not be understood.");
    }
    if (json.contains("error") || (json.contains("active") && json["active"] != true)) {
        spdlog::info("micropub: token {} reported inactive by {}", log::redact(token), where);
        return rejected(key, unauthorized("The access token is invalid, expired or revoked."));
    }
    if (!json.contains("me") || !json["me"].is_string()) {
        spdlog::warn("micropub: token endpoint {} vouched for token {} without a \"me\"", where, log::redact(token));
        return rejected(key, unauthorized("The token endpoint did not say whose access token this is."));
    }
    const std::string raw_me = json["me"].get<std::string>();
    auto me = auth::canonicalize_profile_url(raw_me, config_.outbound_http_allowed());
    if (!me || *me != *admin) {
        spdlog::warn("micropub: token {} belongs to {}, not ADMIN_ME ({})", log::redact(token),
                     me ? *me : std::string("an unusable profile URL"), *admin);
        return rejected(key, Failure{403, "forbidden",
                                     "This access token was issued to someone other than this site's owner.", {}});
    }

    TokenInfo info;
    info.me = std::move(*me);
    if (json.contains("client_id") && json["client_id"].is_string()) info.client_id = json["client_id"].get<std::string>();
    if (json.contains("scope")) info.scopes = split_scopes(json["scope"]);
    spdlog::info("micropub: token {} verified for {} (client {}, scope \"{}\")", log::redact(token), info.me,
                 info.client_id.empty() ? "-" : info.client_id, fmt::join(info.scopes, " "));

    {
        std::lock_guard lock(mutex_);
        const Timestamp now = clock_.now();
        if (cache_.size() >= options_.max_entries && !cache_.contains(key)) {
            std::erase_if(cache_, [now](const auto& kv) { return kv.second.expires <= now; });
            while (!cache_.empty() && cache_.size() >= options_.max_entries) {
                auto soonest = std::min_element(cache_.begin(), cache_.end(), [](const auto& a, const auto& b) {
                    return a.second.expires < b.second.expires;
                });
                cache_.erase(soonest);
            }
        }
        if (options_.max_entries > 0) cache_.insert_or_assign(key, Entry{info, now + options_.ttl});
    }
    return info;
}

Failure TokenVerifier::rejected(const std::string& key, Failure failure) {
    std::lock_guard lock(mutex_);
    if (options_.max_rejections == 0) return failure;
    const Timestamp now = clock_.now();
    if (rejected_.size() >= options_.max_rejections && !rejected_.contains(key)) {
        std::erase_if(rejected_, [now](const auto& kv) { return kv.second.expires <= now; });
        if (rejected_.size() >= options_.max_rejections) rejected_.clear();
    }
    rejected_.insert_or_assign(key, Rejection{failure, now + options_.rejection_ttl});
    return failure;
}

std::size_t TokenVerifier::cached() const {
    std::lock_guard lock(mutex_);
    return cache_.size();
}

std::size_t TokenVerifier::cached_rejections() const {
    std::lock_guard lock(mutex_);
    return rejected_.size();
}

void TokenVerifier::clear_cache() {
    std::lock_guard lock(mutex_);
    cache_.clear();
    rejected_.clear();
}

}  // namespace starpunk::micropub
