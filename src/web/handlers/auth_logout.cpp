// POST /auth/logout — ends the session server-side (the row is deleted, so the
// cookie is worthless even if the browser keeps it), then home.
#include <spdlog/spdlog.h>

#include "web/handlers/handlers.hpp"
#include "web/session_cookie.hpp"

namespace starpunk::web::handlers {

http::Handler logout(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        if (auto token = session_cookie(req); token && site->sessions) {
            if (auto st = site->sessions->destroy(*token); !st) {
                spdlog::error("could not delete the session: {}", st.error().message);
                return http::text_response(500, "The session could not be ended. Please try again.\n");
            }
        }
        spdlog::info("admin logged out");
        auto res = http::redirect("/", 302);
        res.add_header("Set-Cookie", session_clear_cookie(*site));
        return res;
    };
}

}  // namespace starpunk::web::handlers
