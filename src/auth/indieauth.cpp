// The IndieAuth client (see indieauth.hpp for the login-flow invariants).
//
// begin():    canonical me == canonical ADMIN_ME -> endpoints (discovery cache,
//             else INDIELOGIN_URL) -> state + PKCE verifier into auth_state
//             (5 minutes) -> the authorization URL.
// complete(): DELETE … RETURNING the state row (single use, before anything
//             else) -> expiry -> iss -> redeem the code at the authorization
//             endpoint -> canonical me == canonical ADMIN_ME.
#include "auth/indieauth.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <nlohmann/json.hpp>

#include "log/log.hpp"
#include "util/crypto.hpp"
#include "util/strings.hpp"

namespace starpunk::auth {

namespace {

constexpr std::chrono::minutes kStateLifetime{5};
constexpr size_t kMaxPending = 1024;

// True when `text` begins with a URI scheme ("https:", "mailto:", "javascript:",
// "foo:"; RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"). A host
// followed by a port ("example.com:8443/", "localhost:8000") is not a scheme.
bool names_a_scheme(std::string_view text) {
    const size_t colon = text.find(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    const std::string_view scheme = text.substr(0, colon);
    auto is_alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
    auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
    if (!is_alpha(scheme.front())) return false;
    if (!std::all_of(scheme.begin(), scheme.end(),
                     [&](char c) { return is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.'; }))
        return false;
    const std::string_view rest = text.substr(colon + 1);
    size_t digits = 0;
    while (digits < rest.size() && is_digit(rest[digits])) ++digits;
    const bool port = digits > 0 && (digits == rest.size() || rest[digits] == '/' || rest[digits] == '?' ||
                                     rest[digits] == '#');
    return !port;
}

bool is_host_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

// A short, printable-ASCII excerpt of text from a server (for messages and logs).
std::string printable(std::string_view s, size_t max) {
    std::string out;
    for (char c : s.substr(0, max)) {
        if (c >= 0x20 && c < 0x7F) out.push_back(c);
    }
    return out;
}

}  // namespace

Result<std::string> canonicalize_profile_url(std::string_view input, bool allow_http) {
    std::string text(trim(input));
    if (text.empty()) return invalid_input("Enter the address of your website.");
    // "example.com" means https. Anything that names a scheme keeps it, so
    // "javascript:void", "mailto:x@y" or "foo:bar" is refused for its scheme
    // below instead of being read as a host name.
    if (!names_a_scheme(text)) text = "https://" + text;
    auto u = boost::urls::parse_uri(text);
    if (!u) return invalid_input("That is not a valid web address.");

    const std::string scheme = to_lower(u->scheme());
    if (scheme != "https" && !(scheme == "http" && allow_http)) {
        return invalid_input(allow_http ? "Your web address must start with https:// or http://."
                                  : "Your web address must start with https://.");
    }
    if (!u->has_authority() || u->encoded_host().empty()) return invalid_input("Your web address needs a host name.");
    if (u->has_userinfo()) return invalid_input("Your web address must not contain a user name or password.");
    if (u->has_fragment()) return invalid_input("Your web address must not contain a fragment (#…).");

    std::string host;
    switch (u->host_type()) {
        case boost::urls::host_type::ipv4:
        case boost::urls::host_type::ipv6:
            if (!allow_http) return invalid_input("Your web address must use a domain name, not an IP address.");
            host = to_lower(u->encoded_host());
            break;
        case boost::urls::host_type::name: {
            host = to_lower(u->encoded_host());
            if (!std::all_of(host.begin(), host.end(), is_host_name_char) || host.front() == '.' ||
                host.front() == '-' || host.find("..") != std::string::npos) {
                return invalid_input("Your web address has an invalid host name (use the punycode form of international names).");
            }
            if ((host == "localhost" || host.ends_with(".localhost")) && !allow_http)
                return invalid_input("Your web address must not be a local host name.");
            break;
        }
        default: return invalid_input("Your web address has an unsupported host.");
    }

    std::string port;
    if (u->has_port() && !u->port().empty()) {
        const bool default_port = (scheme == "https" && u->port_number() == 443) || (scheme == "http" && u->port_number() == 80);
        if (!default_port) {
            if (!allow_http) return invalid_input("Your web address must not contain a port.");
            port = std::string(u->port());
        }
    }

    for (const auto& segment : u->segments()) {
        if (segment == "." || segment == "..") return invalid_input("Your web address must not contain . or .. path segments.");
    }
    const std::string_view path = u->encoded_path().empty() ? std::string_view("/") : std::string_view(u->encoded_path());

    std::string out = scheme;
    out += "://";
    out += host;
    if (!port.empty()) {
        out += ':';
        out += port;
    }
    out += path;
    if (u->has_query() && !u->encoded_query().empty()) {
        out += "?";
        out += std::string_view(u->encoded_query());
    }
    return out;
}

IndieAuthClient::IndieAuthClient(const config::Config& config, std::shared_ptr<storage::ConnectionPool> pool,
                                 net::HttpClient& http, const Clock& clock, std::shared_ptr<EndpointCache> endpoints)
    : config_(config),
      pool_(std::move(pool)),
      http_(http),
      clock_(clock),
      endpoints_(endpoints ? std::move(endpoints) : std::make_shared<EndpointCache>(clock)) {}

Result<std::string> admin_identity(const config::Config& config) {
    std::string raw = config.admin_me;
    if (raw.empty() && config.dev_mode) raw = config.dev_admin_me;
    if (raw.empty()) return make_error(ErrorCode::internal, "ADMIN_ME is not set, so nobody can log in.");
    auto canon = canonicalize_profile_url(raw, config.outbound_http_allowed());
    if (!canon) return make_error(ErrorCode::internal, "ADMIN_ME is not a usable profile URL: " + canon.error().message);
    return canon;
}

Result<std::string> IndieAuthClient::admin_identity() const { return auth::admin_identity(config_); }

Result<Endpoints> IndieAuthClient::endpoints_for(const std::string& admin) {
    auto found = endpoints_->get(http_, admin);
    if (found) return std::move(*found);
    if (found.error().code == ErrorCode::busy) {
        // Not a verdict on the profile: falling back to INDIELOGIN_URL would
        // send the admin elsewhere for no reason.
        spdlog::warn("indieauth: endpoint discovery not started: {}", found.error().message);
        return make_error(ErrorCode::busy, "The server is busy with other logins; please try again in a few seconds.");
    }
    if (found.error().code == ErrorCode::not_found) {
        spdlog::info("indieauth: {}; using INDIELOGIN_URL {}", found.error().message, config_.indielogin_url);
    } else {
        spdlog::warn("indieauth: endpoint discovery failed ({}); using INDIELOGIN_URL {}", found.error().message,
                     config_.indielogin_url);
    }
    Endpoints e;
    e.authorization_endpoint = config_.indielogin_url + "/authorize";
    e.issuer = config_.indielogin_url + "/";
    return e;
}

Result<std::string> IndieAuthClient::begin(std::string_view me, std::string_view next) {
    const bool allow_http = config_.outbound_http_allowed();
    auto canon = canonicalize_profile_url(me, allow_http);
    if (!canon) return canon;
    auto admin = admin_identity();
    if (!admin) {
        spdlog::error("indieauth: {}", admin.error().message);
        return admin;
    }
    if (*canon != *admin) {
        spdlog::warn("indieauth: login attempt for {}, which is not ADMIN_ME ({})", *canon, *admin);
        return make_error(ErrorCode::conflict, "Only the owner of this site can log in here.");
    }

    auto discovered = endpoints_for(*admin);
    if (!discovered) return std::move(discovered).error();
    const Endpoints endpoints = std::move(*discovered);
    auto endpoint = boost::urls::parse_uri(endpoints.authorization_endpoint);
    if (!endpoint || (to_lower(endpoint->scheme()) != "https" && !allow_http)) {
        spdlog::error("indieauth: authorization endpoint {} is not an https URL",
                      net::url_for_log(endpoints.authorization_endpoint));
        return make_error(ErrorCode::io, "Your authorization server's address is not a secure (https) URL.");
    }

    auto state_bytes = random_bytes(32);
    auto verifier_bytes = random_bytes(32);
    if (!state_bytes) return std::move(state_bytes).error();
    if (!verifier_bytes) return std::move(verifier_bytes).error();
    const std::string state = base64url(*state_bytes);
    const std::string verifier = base64url(*verifier_bytes);  // 43 characters (RFC 7636 §4.1)
    const std::string challenge = base64url(sha256(verifier));
    const std::string client_id = config_.site_url + "/";
    const std::string redirect_uri = config_.site_url + "/auth/callback";
    const Timestamp now = clock_.now();
    const Timestamp expires = now + std::chrono::duration_cast<std::chrono::microseconds>(kStateLifetime);

    {
        auto lease = pool_->acquire();
        if (!lease) return make_error(ErrorCode::io, "Could not start the login: " + lease.error().message);
        storage::Connection& db = **lease;
        // Opportunistic clean-up; a failure here does not stop the login.
        if (auto old = db.prepare("DELETE FROM auth_state WHERE expires_at <= ?1")) (void)(*old)->bind(1, format_db_time(now)).run();
        auto ins = db.prepare(
            "INSERT INTO auth_state (state, created_at, expires_at, redirect_uri, code_verifier, after_login) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
        if (!ins) return make_error(ErrorCode::io, "Could not start the login: " + ins.error().message);
        auto st = (*ins)->bind(1, state).bind(2, format_db_time(now)).bind(3, format_db_time(expires)).bind(4, redirect_uri)
                      .bind(5, verifier).bind(6, next).run();
        if (!st) return make_error(ErrorCode::io, "Could not start the login: " + st.error().message);
    }
    {
        std::lock_guard lock(pending_mutex_);
        std::erase_if(pending_, [now](const auto& kv) { return kv.second.expires <= now; });
        if (pending_.size() >= kMaxPending) pending_.clear();  // a flood of abandoned logins: forget, rediscover
        pending_.insert_or_assign(state, Pending{endpoints, expires});
    }

    boost::urls::url target(*endpoint);
    target.remove_fragment();
    std::string url(target.buffer());
    if (!target.has_query()) {
        url += '?';
    } else if (!target.encoded_query().empty()) {
        url += '&';
    }
    url += net::form_urlencode({{"response_type", "code"},
                                {"client_id", client_id},
                                {"redirect_uri", redirect_uri},
                                {"state", state},
                                {"code_challenge", challenge},
                                {"code_challenge_method", "S256"},
                                {"me", *canon}});
    spdlog::info("indieauth: login for {} started at {} (state {})", *canon,
                 net::url_for_log(endpoints.authorization_endpoint), log::redact(state));
    return url;
}

Result<std::string> IndieAuthClient::complete(std::string_view code, std::string_view state,
                                              std::optional<std::string_view> iss, std::string* next) {
    if (code.empty() || state.empty()) return invalid_input("The login callback is missing its code or state; please log in again.");

    // 1. Take the state row: deleted before anything else, so it works once.
    std::string expires_at, redirect_uri, verifier, after_login;
    {
        auto lease = pool_->acquire();
        if (!lease) return make_error(ErrorCode::io, "Could not finish the login: " + lease.error().message);
        auto del = (**lease).prepare(
            "DELETE FROM auth_state WHERE state = ?1 RETURNING expires_at, redirect_uri, code_verifier, after_login");
        if (!del) return make_error(ErrorCode::io, "Could not finish the login: " + del.error().message);
        auto row = (*del)->bind(1, state).step();
        if (!row) return make_error(ErrorCode::io, "Could not finish the login: " + row.error().message);
        if (!*row) {
            spdlog::warn("indieauth: callback with an unknown or used state {}", log::redact(state));
            return invalid_input("This login link is unknown or was already used; please log in again.");
        }
        expires_at = (*del)->text(0);
        redirect_uri = (*del)->text(1);
        verifier = (*del)->text(2);
        after_login = (*del)->optional_text(3).value_or("");
        (*del)->reset();  // completes the statement, committing the delete
    }
    std::optional<Pending> pending;
    {
        std::lock_guard lock(pending_mutex_);
        if (auto it = pending_.find(state); it != pending_.end()) {
            pending = std::move(it->second);
            pending_.erase(it);
        }
    }

    // 2. Expiry.
    const auto expires = parse_timestamp(expires_at);
    if (!expires || *expires <= clock_.now()) {
        spdlog::info("indieauth: callback with an expired state {}", log::redact(state));
        return invalid_input("This login attempt expired; please log in again.");
    }
    if (verifier.empty()) return invalid_input("This login attempt cannot be completed; please log in again.");
    if (redirect_uri.empty()) redirect_uri = config_.site_url + "/auth/callback";

    auto admin = admin_identity();
    if (!admin) {
        spdlog::error("indieauth: {}", admin.error().message);
        return admin;
    }
    Endpoints endpoints;
    if (pending) {
        endpoints = pending->endpoints;
    } else {
        auto discovered = endpoints_for(*admin);
        if (!discovered) return std::move(discovered).error();
        endpoints = std::move(*discovered);
    }

    // 3. Issuer (RFC 9207): when the server has one, the callback must name it.
    if (!endpoints.issuer.empty() && (!iss || *iss != endpoints.issuer)) {
        spdlog::warn("indieauth: callback issuer {} does not match {} (state {})",
                     iss ? std::string(*iss) : std::string("(none)"), endpoints.issuer, log::redact(state));
        return invalid_input("The login answer came from an unexpected authorization server; please log in again.");
    }

    // 4. Redeem the code.
    net::HttpRequest req;
    req.method = net::Method::post;
    req.url = endpoints.authorization_endpoint;
    req.headers = {{"Accept", "application/json"}};
    req.form = {{"grant_type", "authorization_code"},
                {"code", std::string(code)},
                {"client_id", config_.site_url + "/"},
                {"redirect_uri", redirect_uri},
                {"code_verifier", verifier}};
    auto answer = http_.fetch(req);
    if (!answer && answer.error().code == ErrorCode::busy) {
        spdlog::warn("indieauth: code {} not redeemed: {}", log::redact(code), answer.error().message);
        return make_error(ErrorCode::busy, "The server is busy with other logins; please log in again in a few seconds.");
    }
    if (!answer) {
        spdlog::warn("indieauth: redeeming code {} failed: {}", log::redact(code), answer.error().message);
        return make_error(ErrorCode::io, "Your authorization server could not be reached; please try again.");
    }
    const auto json = nlohmann::json::parse(answer->body, nullptr, false);
    if (answer->status < 200 || answer->status >= 300) {
        std::string oauth_error, description;
        if (json.is_object() && json.contains("error") && json["error"].is_string())
            oauth_error = printable(json["error"].get<std::string>(), 64);
        if (json.is_object() && json.contains("error_description") && json["error_description"].is_string())
            description = printable(json["error_description"].get<std::string>(), 200);
        spdlog::warn("indieauth: {} refused code {} (HTTP {}{}{}{}{})", net::url_for_log(req.url), log::redact(code),
                     answer->status, oauth_error.empty() ? "" : ", ", oauth_error, description.empty() ? "" : ": ",
                     description);
        return make_error(ErrorCode::io, fmt::format("Your authorization server refused the login (HTTP {}{}{}).",
                                                     answer->status, oauth_error.empty() ? "" : ": ", oauth_error));
    }
    if (!json.is_object() || !json.contains("me") || !json["me"].is_string()) {
        spdlog::warn("indieauth: {} answered HTTP {} without a JSON \"me\"", net::url_for_log(req.url), answer->status);
        return make_error(ErrorCode::io, "Your authorization server gave an answer that could not be understood.");
    }
    auto me = canonicalize_profile_url(json["me"].get<std::string>(), config_.outbound_http_allowed());
    if (!me) {
        spdlog::warn("indieauth: {} vouched for an unusable me: {}", net::url_for_log(req.url), me.error().message);
        return make_error(ErrorCode::io, "Your authorization server returned an invalid profile URL.");
    }

    // 5. Only ADMIN_ME may log in.
    if (*me != *admin) {
        spdlog::warn("indieauth: {} vouched for {}, which is not ADMIN_ME ({}); no session", net::url_for_log(req.url),
                     *me, *admin);
        return make_error(ErrorCode::conflict, "You logged in as someone other than the owner of this site.");
    }
    spdlog::info("indieauth: login completed for {}", *me);
    if (next) *next = std::move(after_login);
    return me;
}

Result<int> IndieAuthClient::purge_expired() {
    const Timestamp now = clock_.now();
    {
        std::lock_guard lock(pending_mutex_);
        std::erase_if(pending_, [now](const auto& kv) { return kv.second.expires <= now; });
    }
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto del = (**lease).prepare("DELETE FROM auth_state WHERE expires_at <= ?1");
    if (!del) return std::move(del).error();
    if (auto st = (*del)->bind(1, format_db_time(now)).run(); !st) return std::move(st).error();
    return (**lease).changes();
}

}  // namespace starpunk::auth
