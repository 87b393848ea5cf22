// The built-in IndieAuth server's authorization endpoint (IndieAuth 2022-02
// §5.2-5.3; docs/indieauth.md):
//   GET  /auth/authorize          asks for the owner's login (a password login
//                                 comes back here), then checks the request and
//                                 the client, then shows the consent page;
//   POST /auth/authorize/consent  approve or deny (admin: same-origin + CSRF,
//                                 checked by the gate); approve issues a code;
//   POST /auth/authorize          a client redeems a code for the identity only.
// Invariants:
//   1. Nothing goes to a redirect_uri that has not passed the client checks
//      (indieauth/client.hpp): such errors are shown here, never sent there.
//   2. The consent POST is checked again from scratch (request rules, client,
//      redirect_uri) — the hidden fields are the client's words, not ours —
//      and grants only scopes the request asked for and the owner left ticked.
//   3. Every answer sent back to the client carries `state` and `iss`.
#include <spdlog/spdlog.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "auth/sessions.hpp"
#include "http/form.hpp"
#include "indieauth/authorization_request.hpp"
#include "indieauth/authorization_server.hpp"
#include "indieauth/client.hpp"
#include "log/log.hpp"
#include "net/http_client.hpp"
#include "web/errors.hpp"
#include "web/handlers/handlers.hpp"
#include "web/oauth_json.hpp"
#include "util/url.hpp"
#include "web/visitor.hpp"

namespace starpunk::web::handlers {

namespace {

using indieauth::AuthorizationRequest;

std::string issuer(const Site& site) { return site.config.site_url + "/"; }

// The request checked end to end: rules, then the client and its redirect_uri
// (invariant 1). On failure, the response to give.
struct Checked {
    std::optional<AuthorizationRequest> request;
    indieauth::ClientInfo client;
    std::optional<http::Response> refusal;
};

Checked check_request(const Site& site, const http::Request& req, const http::FormData& fields) {
    Checked out;
    const bool allow_http = site.config.outbound_http_allowed();
    auto parsed = indieauth::parse_authorization_request(fields, allow_http);
    if (!parsed.request && !parsed.error.redirect) {
        out.refusal = error_response(site, req, 400, "This sign-in request cannot be used: " + parsed.error.description);
        return out;
    }
    const std::string client_id(fields.get("client_id").value_or(""));
    const std::string redirect_uri = parsed.redirect_uri;
    std::string fetch_problem;
    if (site.outbound) {
        auto client = indieauth::fetch_client(*site.outbound, client_id);
        if (client) {
            out.client = std::move(*client);
        } else if (client.error().code == ErrorCode::busy) {
            out.refusal = error_response(site, req, 503, "The server is busy; try again in a few seconds.");
            return out;
        } else {
            fetch_problem = client.error().message;
            spdlog::info("indieauth: client {} could not be fetched: {}", net::url_for_log(client_id), fetch_problem);
        }
    }
    if (auto refusal = indieauth::redirect_uri_refusal(client_id, redirect_uri, out.client); !refusal.empty()) {
        spdlog::warn("indieauth: refused redirect_uri {} for client {}", net::url_for_log(redirect_uri),
                     net::url_for_log(client_id));
        if (!fetch_problem.empty()) refusal += " (The client's page could not be fetched.)";
        out.refusal = error_response(site, req, 400, "This sign-in request cannot be used: " + refusal);
        return out;
    }
    if (!parsed.request) {
        out.refusal = http::redirect(indieauth::with_query(redirect_uri, {{"error", parsed.error.error},
                                                                          {"error_description", parsed.error.description},
                                                                          {"state", parsed.state},
                                                                          {"iss", issuer(site)}}),
                                     302);
        return out;
    }
    out.request = std::move(parsed.request);
    // `email` is known but only grantable with an address to give: without
    // SITE_AUTHOR_EMAIL it is listed as not granted, like an unknown scope.
    if (site.config.site_author_email.empty()) {
        auto& scopes = out.request->scopes;
        if (auto it = std::find(scopes.begin(), scopes.end(), "email"); it != scopes.end()) {
            scopes.erase(it);
            out.request->ignored_scopes.emplace_back("email");
        }
    }
    return out;
}

std::string host_of(std::string_view url) {
    std::string o = origin_of(url);
    auto p = o.find("://");
    return p == std::string::npos ? o : o.substr(p + 3);
}

http::Response consent_page(const Site& site, const http::Request& req, const AuthorizationRequest& r,
                            const indieauth::ClientInfo& client) {
    TemplateData data;
    data.set("csrf_token", visitor(req).csrf_token);
    data.set("client_id", r.client_id);
    data.set("client_name", client.name.empty() ? host_of(r.client_id) : client.name);
    // The logo: an https URL (the CSP's img-src allows no other remote images),
    // or http where http endpoints are allowed (development); escaped by the
    // template like every value.
    if (client.logo.starts_with("https://") ||
        (client.logo.starts_with("http://") && site.config.outbound_http_allowed())) {
        data.set("client_logo", client.logo);
    }
    data.set("redirect_uri", r.redirect_uri);
    data.set("redirect_host", host_of(r.redirect_uri));
    data.set("state", r.state);
    data.set("code_challenge", r.code_challenge);
    data.set("me", r.me);
    data.set("requested_scope", indieauth::join_scopes(r.scopes));
    TemplateData scopes{TemplateData::type::list};
    for (const auto& s : r.scopes) {
        TemplateData item;
        item.set("scope", s);
        scopes.push_back(std::move(item));
    }
    data.set("scopes", scopes);
    data.set("has_scopes", !r.scopes.empty());
    if (!r.ignored_scopes.empty()) data.set("ignored_scopes", indieauth::join_scopes(r.ignored_scopes));
    data.set("owner", site.authorization_server->options().me);
    data.set("token_days", std::to_string(site.config.indieauth_token_lifetime_days));
    auto page = render_page(site, page_info(req, "Sign in to " + (client.name.empty() ? host_of(r.client_id) : client.name)),
                            "consent", std::move(data));
    if (!page) {
        spdlog::error("consent page could not be rendered: {}", page.error().message);
        return error_response(site, req, 500, "The page could not be rendered.");
    }
    return http::html_response(200, std::move(*page));
}

}  // namespace

http::Handler authorize(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        if (!site->authorization_server) return error_response(*site, req, 404, "There is nothing at this address.");
        auto fields = http::parse_urlencoded(req.query);
        if (!fields) return error_response(*site, req, 400, "The sign-in request is malformed: " + fields.error().message);
        if (!visitor(req).is_admin) {
            // Strangers do not get to make this server fetch pages: only the
            // rules that need no fetch are checked before the login, whose
            // page continues here afterwards (web/login_page.hpp: safe_next).
            auto parsed = indieauth::parse_authorization_request(*fields, site->config.outbound_http_allowed());
            if (!parsed.request && !parsed.error.redirect) {
                return error_response(*site, req, 400, "This sign-in request cannot be used: " + parsed.error.description);
            }
            return http::redirect(indieauth::with_query("/auth/login", {{"next", "/auth/authorize?" + std::string(req.query)}}), 302);
        }
        auto checked = check_request(*site, req, *fields);
        if (checked.refusal) return std::move(*checked.refusal);
        return consent_page(*site, req, *checked.request, checked.client);
    };
}

http::Handler authorize_consent(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        if (!site->authorization_server) return error_response(*site, req, 404, "There is nothing at this address.");
        if (req.content_type() != "application/x-www-form-urlencoded") {
            return error_response(*site, req, 400, "Send the consent form as an ordinary HTML form.");
        }
        auto form = http::parse_urlencoded(req.body);
        if (!form) return error_response(*site, req, 400, "The consent form is malformed: " + form.error().message);
        auto checked = check_request(*site, req, *form);  // invariant 2
        if (checked.refusal) return std::move(*checked.refusal);
        const AuthorizationRequest& r = *checked.request;
        const std::string iss = issuer(*site);
        const std::string_view decision = form->get("decision").value_or("");
        if (decision != "approve") {
            spdlog::info("indieauth: the owner denied {}", net::url_for_log(r.client_id));
            return http::redirect(indieauth::with_query(r.redirect_uri, {{"error", "access_denied"},
                                                                         {"error_description", "The owner said no."},
                                                                         {"state", r.state},
                                                                         {"iss", iss}}),
                                  302);
        }
        indieauth::Grant grant;
        grant.client_id = r.client_id;
        grant.redirect_uri = r.redirect_uri;
        grant.code_challenge = r.code_challenge;
        grant.me = site->authorization_server->options().me;
        for (auto ticked : form->get_all("grant")) {
            const bool asked = std::find(r.scopes.begin(), r.scopes.end(), ticked) != r.scopes.end();
            const bool seen = std::find(grant.scopes.begin(), grant.scopes.end(), ticked) != grant.scopes.end();
            if (asked && !seen) grant.scopes.emplace_back(ticked);
        }
        auto code = site->authorization_server->issue_code(grant);
        if (!code) {
            spdlog::error("indieauth: could not issue a code: {}", code.error().message);
            return error_response(*site, req, 500, "The approval could not be saved. Please try again.");
        }
        spdlog::info("indieauth: code {} issued to {} (scope \"{}\")", log::redact(*code), net::url_for_log(r.client_id),
                     indieauth::join_scopes(grant.scopes));
        return http::redirect(
            indieauth::with_query(r.redirect_uri, {{"code", *code}, {"state", r.state}, {"iss", iss}}), 302);
    };
}

http::Handler authorize_redeem(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        if (!site->authorization_server) return oauth_error(404, "not_found", "This site has no built-in IndieAuth server.");
        if (req.content_type() != "application/x-www-form-urlencoded") {
            return oauth_error(400, "invalid_request", "Send the parameters as application/x-www-form-urlencoded.");
        }
        auto form = http::parse_urlencoded(req.body);
        if (!form) return oauth_error(400, "invalid_request", form.error().message);
        if (auto type = form->get("grant_type"); type && *type != "authorization_code") {
            return oauth_error(400, "unsupported_grant_type", "grant_type must be authorization_code.");
        }
        auto grant = site->authorization_server->redeem_code(
            form->get("code").value_or(""), form->get("client_id").value_or(""),
            form->get("redirect_uri").value_or(""), form->get("code_verifier").value_or(""));
        if (!grant && grant.error().code == ErrorCode::invalid_input) {
            spdlog::info("indieauth: profile redemption refused: {}", grant.error().message);
            return oauth_error(400, "invalid_grant", grant.error().message);
        }
        if (!grant) {
            spdlog::error("indieauth: code redemption failed: {}", grant.error().message);
            return oauth_error(500, "server_error", "The code could not be checked; try again.");
        }
        // Profile-only redemption (IndieAuth §5.3.3): the identity, and the
        // profile when the owner granted it.
        nlohmann::json body = {{"me", grant->me}};
        if (auto profile = profile_json(*site, grant->scopes, grant->me); !profile.is_null()) body["profile"] = std::move(profile);
        return oauth_json(200, body);
    };
}

}  // namespace starpunk::web::handlers
