// doctor --online: ADMIN_ME's IndieAuth endpoints (monitoring/doctor.hpp).
#include <fmt/format.h>

#include "auth/discovery.hpp"
#include "monitoring/doctor.hpp"
#include "monitoring/doctor_finding.hpp"

namespace starpunk::monitoring {

using detail::ok;
using detail::problem;
using detail::warning;

std::vector<Finding> check_admin_endpoints(const config::Config& cfg, net::HttpClient& http) {
    const std::string check = "identity";
    if (cfg.admin_me.empty()) {
        return {warning(check, "ADMIN_ME is not set: only DEV_MODE's /dev/login can sign in", {},
                        "set ADMIN_ME to your site's address, e.g. ADMIN_ME=https://example.com/")};
    }
    auto found = auth::discover_endpoints(http, cfg.admin_me);
    std::vector<Finding> out;
    if (!found && found.error().code != ErrorCode::not_found) {
        out.push_back(problem(check, fmt::format("{} cannot be fetched: {}", cfg.admin_me, found.error().message),
                              {}, "make sure ADMIN_ME is your public homepage and reachable from this server"));
        return out;
    }
    if (!found) {
        out.push_back(warning(check,
                              fmt::format("{} names no authorization endpoint: login falls back to {}",
                                          cfg.admin_me, cfg.indielogin_url),
                              {},
                              cfg.indieauth_server
                                  ? "serve ADMIN_ME from this site (the built-in server advertises itself on "
                                    "every page) or add <link rel=\"indieauth-metadata\"> to it"
                                  : "add <link rel=\"authorization_endpoint\"> (or indieauth-metadata) to that page"));
    } else {
        out.push_back(ok(check, fmt::format("{} advertises authorization endpoint {}", cfg.admin_me,
                                            found->authorization_endpoint)));
    }
    const bool token_endpoint = found && !found->token_endpoint.empty();
    if (token_endpoint) {
        out.push_back(ok(check, fmt::format("token endpoint {}", found->token_endpoint)));
    } else if (!cfg.token_endpoint.empty()) {
        out.push_back(ok(check, fmt::format("no token endpoint advertised; TOKEN_ENDPOINT {} is used", cfg.token_endpoint)));
    } else {
        out.push_back(problem(check,
                              fmt::format("{} advertises no token endpoint and TOKEN_ENDPOINT is not set: Micropub "
                                          "clients cannot get their tokens verified (401)",
                                          cfg.admin_me),
                              {},
                              "advertise rel=\"token_endpoint\" (or indieauth-metadata) on ADMIN_ME, or set "
                              "TOKEN_ENDPOINT"));
    }
    return out;
}

}  // namespace starpunk::monitoring
