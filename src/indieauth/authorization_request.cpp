#include "indieauth/authorization_request.hpp"

#include <boost/url/parse.hpp>

#include <algorithm>

#include "indieauth/pkce.hpp"
#include "util/strings.hpp"

namespace starpunk::indieauth {

namespace {

constexpr size_t kMaxUrlBytes = 2048;
constexpr size_t kMaxStateBytes = 1024;
constexpr size_t kMaxScopeBytes = 1024;

bool is_loopback_ip(std::string_view host) { return host == "127.0.0.1" || host == "[::1]"; }

bool host_name_ok(std::string_view host) {
    if (host.empty() || host.front() == '.' || host.front() == '-' || host.find("..") != std::string_view::npos)
        return false;
    return std::all_of(host.begin(), host.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    });
}

RequestError no_redirect(std::string description) { return RequestError{false, "invalid_request", std::move(description)}; }
RequestError back(std::string error, std::string description) {
    return RequestError{true, std::move(error), std::move(description)};
}

}  // namespace

bool supported_scope(std::string_view scope) {
    return std::find(std::begin(kSupportedScopes), std::end(kSupportedScopes), scope) != std::end(kSupportedScopes);
}

std::string client_id_problem(std::string_view client_id, bool allow_http) {
    if (client_id.empty()) return "client_id is missing.";
    if (client_id.size() > kMaxUrlBytes) return "client_id is too long.";
    auto u = boost::urls::parse_uri(client_id);
    if (!u) return "client_id is not a URL.";
    const std::string scheme = to_lower(u->scheme());
    if (scheme != "https" && !(scheme == "http" && allow_http)) return "client_id must be an https URL.";
    if (!u->has_authority() || u->encoded_host().empty()) return "client_id needs a host.";
    if (u->has_userinfo()) return "client_id must not contain a user name or password.";
    if (u->has_fragment()) return "client_id must not contain a fragment.";
    if (u->encoded_path().empty()) return "client_id needs a path (at least \"/\").";
    for (const auto& segment : u->segments()) {
        if (segment == "." || segment == "..") return "client_id must not contain . or .. path segments.";
    }
    const std::string host = to_lower(u->encoded_host());
    switch (u->host_type()) {
        case boost::urls::host_type::ipv4:
        case boost::urls::host_type::ipv6:
            if (!is_loopback_ip(host)) return "client_id must use a domain name, not an IP address.";
            if (!allow_http) return "client_id must not be a loopback address on this server.";
            break;
        case boost::urls::host_type::name:
            if (!host_name_ok(host)) return "client_id has an invalid host name.";
            break;
        default: return "client_id has an unsupported host.";
    }
    if (u->has_port() && !allow_http) {
        const bool default_port = (scheme == "https" && u->port() == "443") || (scheme == "http" && u->port() == "80");
        if (!default_port) return "client_id must not contain a port on this server.";
    }
    return {};
}

std::string redirect_uri_problem(std::string_view redirect_uri, bool allow_http) {
    if (redirect_uri.empty()) return "redirect_uri is missing.";
    if (redirect_uri.size() > kMaxUrlBytes) return "redirect_uri is too long.";
    auto u = boost::urls::parse_uri(redirect_uri);
    if (!u) return "redirect_uri is not a URL.";
    const std::string scheme = to_lower(u->scheme());
    const std::string host = u->has_authority() ? to_lower(u->encoded_host()) : std::string();
    if (host.empty()) return "redirect_uri needs a host.";
    const bool loopback = is_loopback_ip(host) || host == "localhost";
    if (scheme != "https" && !(scheme == "http" && (allow_http || loopback))) return "redirect_uri must be an https URL.";
    if (u->has_userinfo()) return "redirect_uri must not contain a user name or password.";
    if (u->has_fragment()) return "redirect_uri must not contain a fragment.";
    return {};
}

std::vector<std::string> split_scope(std::string_view scope) {
    std::vector<std::string> out;
    size_t p = 0;
    auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
    while (p < scope.size()) {
        while (p < scope.size() && space(scope[p])) ++p;
        const size_t q = p;
        while (p < scope.size() && !space(scope[p])) ++p;
        if (p > q) out.emplace_back(scope.substr(q, p - q));
    }
    return out;
}

std::string join_scopes(const std::vector<std::string>& scopes) {
    std::string out;
    for (const auto& s : scopes) {
        if (!out.empty()) out += ' ';
        out += s;
    }
    return out;
}

std::string with_query(std::string_view uri, const std::vector<std::pair<std::string, std::string>>& params) {
    std::string out(uri.substr(0, uri.find('#')));
    // No separator after an empty query ("cb?") or a trailing '&'; a '?' that
    // ends a non-empty query ("cb?c?") is part of it and still needs one.
    const auto query = out.find('?');
    char sep = query == std::string::npos ? '?' : '&';
    if (sep == '&' && (query + 1 == out.size() || out.back() == '&')) sep = '\0';
    for (const auto& [k, v] : params) {
        if (sep != '\0') out += sep;
        out += percent_encode(k);
        out += '=';
        out += percent_encode(v);
        sep = '&';
    }
    return out;
}

ParsedRequest parse_authorization_request(const http::FormData& f, bool allow_http) {
    ParsedRequest out;
    const std::string client_id(trim(f.get("client_id").value_or("")));
    const std::string redirect_uri(trim(f.get("redirect_uri").value_or("")));
    if (auto p = client_id_problem(client_id, allow_http); !p.empty()) {
        out.error = no_redirect(p);
        return out;
    }
    if (auto p = redirect_uri_problem(redirect_uri, allow_http); !p.empty()) {
        out.error = no_redirect(p);
        return out;
    }
    out.redirect_uri = redirect_uri;
    const std::string state(f.get("state").value_or(""));
    out.state = state.substr(0, kMaxStateBytes);

    const std::string_view response_type = f.get("response_type").value_or("");
    if (response_type != "code" && response_type != "id") {
        out.error = back("unsupported_response_type", "response_type must be \"code\".");
        return out;
    }
    if (state.empty()) {
        out.error = back("invalid_request", "state is missing.");
        return out;
    }
    if (state.size() > kMaxStateBytes) {
        out.error = back("invalid_request", "state is longer than 1024 bytes.");
        return out;
    }
    const std::string_view method = f.get("code_challenge_method").value_or("");
    const std::string_view challenge = f.get("code_challenge").value_or("");
    if (challenge.empty()) {
        out.error = back("invalid_request", "code_challenge is missing: this server requires PKCE (S256).");
        return out;
    }
    if (method != "S256") {
        out.error = back("invalid_request", "code_challenge_method must be S256; plain PKCE is not accepted.");
        return out;
    }
    if (!valid_code_challenge(challenge)) {
        out.error = back("invalid_request", "code_challenge is not a valid S256 challenge.");
        return out;
    }
    AuthorizationRequest r;
    const std::string_view scope = f.get("scope").value_or("");
    if (scope.size() > kMaxScopeBytes) {
        out.error = back("invalid_scope", "scope is longer than 1024 bytes.");
        return out;
    }
    for (auto& s : split_scope(scope)) {
        auto& into = supported_scope(s) ? r.scopes : r.ignored_scopes;
        if (std::find(into.begin(), into.end(), s) == into.end()) into.push_back(std::move(s));
    }
    r.client_id = client_id;
    r.redirect_uri = redirect_uri;
    r.state = state;
    r.code_challenge = std::string(challenge);
    r.me = std::string(trim(f.get("me").value_or(""))).substr(0, kMaxUrlBytes);
    out.request = std::move(r);
    return out;
}

}  // namespace starpunk::indieauth
