// GET /.well-known/oauth-authorization-server — the built-in IndieAuth
// server's metadata (RFC 8414; IndieAuth 2022-02 §4.1.1). 404 when the
// built-in server is off.
#include <nlohmann/json.hpp>

#include "indieauth/authorization_request.hpp"
#include "web/handlers/handlers.hpp"
#include "web/errors.hpp"
#include "web/oauth_json.hpp"

namespace starpunk::web::handlers {

http::Handler indieauth_metadata(std::shared_ptr<const Site> site) {
    // Constant for the process: built once.
    nlohmann::json scopes = nlohmann::json::array();
    for (auto s : indieauth::kSupportedScopes) scopes.push_back(s);
    const auto& c = site->config;
    const std::string body = nlohmann::json{
        {"issuer", c.site_url + "/"},
        {"authorization_endpoint", c.site_url + "/auth/authorize"},
        {"token_endpoint", c.site_url + "/auth/token"},
        {"introspection_endpoint", c.site_url + "/auth/token/introspect"},
        {"introspection_endpoint_auth_methods_supported", {"Bearer"}},
        {"revocation_endpoint", c.site_url + "/auth/token/revoke"},
        {"revocation_endpoint_auth_methods_supported", {"none"}},
        {"scopes_supported", scopes},
        {"response_types_supported", {"code"}},
        {"grant_types_supported", {"authorization_code", "refresh_token"}},
        {"code_challenge_methods_supported", {"S256"}},
        {"authorization_response_iss_parameter_supported", true},
        {"service_documentation", "https://indieauth.spec.indieweb.org/"},
    }.dump(2);
    return [site = std::move(site), body](http::Request& req) {
        if (!site->authorization_server) return error_response(*site, req, 404, "There is nothing at this address.");
        auto res = http::json_response(200, body);
        res.set_header("Cache-Control", "public, max-age=3600");
        res.set_header("Access-Control-Allow-Origin", "*");
        return res;
    };
}

}  // namespace starpunk::web::handlers
