// The built-in IndieAuth server's token endpoint and friends (IndieAuth
// 2022-02 §5.3, §6-7; RFC 6749 §4.1.3, RFC 7009, RFC 7662; docs/indieauth.md):
//   POST /auth/token             authorization_code grant with PKCE -> access
//                                and refresh token; refresh_token grant with
//                                rotation (legacy action=revoke also revokes);
//   GET  /auth/token             legacy verification: Authorization: Bearer;
//   POST /auth/token/introspect  RFC 7662; the caller authenticates with a
//                                live token of this server (Bearer);
//   POST /auth/token/revoke      RFC 7009: 200 whether or not the token existed.
// Invariants:
//   1. A refused redemption issues nothing, and the code is spent anyway
//      (indieauth/authorization_server.hpp, invariant 3).
//   2. `scope` on the token request may narrow the grant, never widen it:
//      a scope the owner did not approve -> invalid_scope, nothing issued.
//   3. A code approved without scopes proves identity only: the answer is
//      `me` and no access token.
//   4. Tokens appear in logs only as log::redact prefixes.
//   5. The refresh_token grant (indieauth/authorization_server.hpp,
//      invariants 7-9) answers like the authorization_code grant, with a new
//      refresh token; a refused refresh is invalid_grant (invalid_scope for a
//      wider scope) and issues nothing.
#include <spdlog/spdlog.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "http/form.hpp"
#include "indieauth/authorization_request.hpp"
#include "indieauth/authorization_server.hpp"
#include "log/log.hpp"
#include "net/http_client.hpp"
#include "util/strings.hpp"
#include "web/handlers/handlers.hpp"
#include "web/oauth_json.hpp"

namespace starpunk::web::handlers {

namespace {

http::Response no_server() { return oauth_error(404, "not_found", "This site has no built-in IndieAuth server."); }

Result<http::FormData> read_form(const http::Request& req) {
    if (req.content_type() != "application/x-www-form-urlencoded") {
        return make_error(ErrorCode::invalid_input, "Send the parameters as application/x-www-form-urlencoded.");
    }
    return http::parse_urlencoded(req.body);
}

// The Bearer token of the Authorization header; empty when none.
std::string bearer(const http::Request& req) {
    auto h = req.header("Authorization");
    if (!h) return {};
    std::string_view v = trim(*h);
    const size_t space = v.find_first_of(" \t");
    if (space == std::string_view::npos || to_lower(v.substr(0, space)) != "bearer") return {};
    return std::string(trim(v.substr(space + 1)));
}

nlohmann::json token_facts(const indieauth::TokenRecord& r) {
    return {{"me", r.me}, {"client_id", r.client_id}, {"scope", indieauth::join_scopes(r.scopes)}};
}

// The token answer (RFC 6749 §5.1, IndieAuth §5.3.3) for freshly issued tokens.
http::Response token_answer(const Site& site, const indieauth::IssuedToken& issued) {
    const auto& r = issued.record;
    nlohmann::json body = {{"access_token", issued.access_token},
                           {"token_type", "Bearer"},
                           {"scope", indieauth::join_scopes(r.scopes)},
                           {"me", r.me},
                           {"expires_in", std::chrono::duration_cast<std::chrono::seconds>(r.expires_at - r.issued_at).count()}};
    if (!issued.refresh_token.empty()) body["refresh_token"] = issued.refresh_token;
    if (auto profile = profile_json(site, r.scopes, r.me); !profile.is_null()) body["profile"] = std::move(profile);
    return oauth_json(200, body);
}

http::Response refresh_grant(const Site& site, indieauth::AuthorizationServer& server, const http::FormData& form) {
    const std::string_view presented = form.get("refresh_token").value_or("");
    if (presented.empty()) return oauth_error(400, "invalid_request", "refresh_token is missing.");
    const std::string_view client_id = form.get("client_id").value_or("");
    if (client_id.empty()) return oauth_error(400, "invalid_request", "client_id is missing.");
    std::optional<std::vector<std::string>> scopes;
    if (auto asked = form.get("scope")) scopes = indieauth::split_scope(*asked);
    auto issued = server.refresh(presented, client_id, scopes);
    if (!issued && (issued.error().code == ErrorCode::invalid_input || issued.error().code == ErrorCode::unsupported)) {
        const bool scope = issued.error().code == ErrorCode::unsupported;
        spdlog::warn("indieauth: refresh token {} from {} refused: {}", log::redact(presented),
                     net::url_for_log(client_id), issued.error().message);
        return oauth_error(400, scope ? "invalid_scope" : "invalid_grant", issued.error().message);
    }
    if (!issued) {
        spdlog::error("indieauth: refresh failed: {}", issued.error().message);
        return oauth_error(500, "server_error", "The refresh token could not be checked; try again.");
    }
    spdlog::info("indieauth: refresh token {} rotated for {}: token {} (scope \"{}\")", log::redact(presented),
                 net::url_for_log(client_id), log::redact(issued->access_token),
                 indieauth::join_scopes(issued->record.scopes));
    return token_answer(site, *issued);
}

http::Response revoke(indieauth::AuthorizationServer& server, std::string_view token) {
    auto gone = server.revoke(token);
    if (!gone) {
        spdlog::error("indieauth: revocation failed: {}", gone.error().message);
        return oauth_error(503, "temporarily_unavailable", "The token could not be revoked now; try again.");
    }
    if (*gone) spdlog::info("indieauth: token {} revoked", log::redact(token));
    auto res = http::text_response(200, "");
    return res;
}

}  // namespace

http::Handler token(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        auto* server = site->authorization_server;
        if (!server) return no_server();
        auto form = read_form(req);
        if (!form) return oauth_error(400, "invalid_request", form.error().message);
        if (form->get("action") == std::optional<std::string_view>("revoke")) {
            return revoke(*server, form->get("token").value_or(""));
        }
        const std::string_view type = form->get("grant_type").value_or("");
        if (type.empty()) return oauth_error(400, "invalid_request", "grant_type is missing.");
        if (type == "refresh_token") return refresh_grant(*site, *server, *form);
        if (type != "authorization_code") {
            return oauth_error(400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token.");
        }
        const std::string_view client_id = form->get("client_id").value_or("");
        auto grant = server->redeem_code(form->get("code").value_or(""), client_id,
                                         form->get("redirect_uri").value_or(""),
                                         form->get("code_verifier").value_or(""));
        if (!grant && grant.error().code == ErrorCode::invalid_input) {
            spdlog::info("indieauth: code redemption by {} refused: {}", net::url_for_log(client_id),
                         grant.error().message);
            return oauth_error(400, "invalid_grant", grant.error().message);
        }
        if (!grant) {
            spdlog::error("indieauth: code redemption failed: {}", grant.error().message);
            return oauth_error(500, "server_error", "The code could not be checked; try again.");
        }
        if (auto asked = form->get("scope")) {  // invariant 2
            auto wanted = indieauth::split_scope(*asked);
            for (const auto& s : wanted) {
                if (std::find(grant->scopes.begin(), grant->scopes.end(), s) == grant->scopes.end()) {
                    spdlog::warn("indieauth: {} asked the token endpoint for scope \"{}\" beyond its grant",
                                 net::url_for_log(client_id), s);
                    return oauth_error(400, "invalid_scope", "The scope \"" + s + "\" was not approved for this code.");
                }
            }
            grant->scopes = std::move(wanted);
        }
        if (grant->scopes.empty()) return oauth_json(200, {{"me", grant->me}});  // invariant 3
        auto issued = server->issue_token(*grant, true);
        if (!issued) {
            spdlog::error("indieauth: could not issue a token: {}", issued.error().message);
            return oauth_error(500, "server_error", "The token could not be saved; try again.");
        }
        spdlog::info("indieauth: token {} issued to {} (scope \"{}\")", log::redact(issued->access_token),
                     net::url_for_log(issued->record.client_id), indieauth::join_scopes(issued->record.scopes));
        return token_answer(*site, *issued);
    };
}

http::Handler token_verify(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        auto* server = site->authorization_server;
        if (!server) return no_server();
        const std::string presented = bearer(req);
        if (presented.empty()) return oauth_error(401, "invalid_token", "Send the token as \"Authorization: Bearer <token>\".");
        auto found = server->find_token(presented);
        if (!found) return oauth_error(503, "temporarily_unavailable", "The token could not be checked; try again.");
        if (!*found) return oauth_error(401, "invalid_token", "The access token is invalid, expired or revoked.");
        return oauth_json(200, token_facts(**found));
    };
}

http::Handler token_introspect(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        auto* server = site->authorization_server;
        if (!server) return no_server();
        const std::string caller = bearer(req);
        auto authenticated = caller.empty() ? Result<std::optional<indieauth::TokenRecord>>(std::nullopt)
                                            : server->find_token(caller);
        if (!authenticated) return oauth_error(503, "temporarily_unavailable", "The caller could not be checked; try again.");
        if (!*authenticated) {
            return oauth_error(401, "invalid_token",
                               "Introspection needs \"Authorization: Bearer <token>\" with a live token of this server.");
        }
        auto form = read_form(req);
        if (!form) return oauth_error(400, "invalid_request", form.error().message);
        const std::string_view token = form->get("token").value_or("");
        if (token.empty()) return oauth_error(400, "invalid_request", "token is missing.");
        auto found = server->find_token(token);
        if (!found) return oauth_error(503, "temporarily_unavailable", "The token could not be checked; try again.");
        if (!*found) return oauth_json(200, {{"active", false}});
        const auto& r = **found;
        auto body = token_facts(r);
        body["active"] = true;
        body["token_type"] = "Bearer";
        body["iat"] = std::chrono::duration_cast<std::chrono::seconds>(r.issued_at.time_since_epoch()).count();
        body["exp"] = std::chrono::duration_cast<std::chrono::seconds>(r.expires_at.time_since_epoch()).count();
        return oauth_json(200, body);
    };
}

http::Handler token_revoke(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        auto* server = site->authorization_server;
        if (!server) return no_server();
        auto form = read_form(req);
        if (!form) return oauth_error(400, "invalid_request", form.error().message);
        auto token = form->get("token");
        if (!token || token->empty()) return oauth_error(400, "invalid_request", "token is missing.");
        return revoke(*server, *token);
    };
}

}  // namespace starpunk::web::handlers
