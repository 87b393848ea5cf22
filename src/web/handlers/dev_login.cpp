// GET /dev/login — DEV_MODE only (the gate answers 404 otherwise): an instant
// admin session for DEV_ADMIN_ME (or ADMIN_ME), with a loud warning each time.
#include <spdlog/spdlog.h>

#include "auth/sessions.hpp"
#include "web/handlers/handlers.hpp"
#include "web/session_cookie.hpp"

namespace starpunk::web::handlers {

http::Handler dev_login(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        const std::string me = site->config.dev_identity();
        if (!site->sessions) return http::text_response(503, "Sessions are not available on this server.\n");
        auto session =
            site->sessions->create(me, auth::LoginMethod::dev, req.header("User-Agent").value_or(""), req.remote_address);
        if (!session) {
            spdlog::error("could not create a dev session: {}", session.error().message);
            return http::text_response(500, "The session could not be saved.\n");
        }
        spdlog::warn("DEV LOGIN: admin session for {} granted without authentication (DEV_MODE=true)", me);
        auto res = http::redirect(std::string(kAfterLogin), 302);
        res.add_header("Set-Cookie", session_set_cookie(*site, session->token));
        return res;
    };
}

}  // namespace starpunk::web::handlers
