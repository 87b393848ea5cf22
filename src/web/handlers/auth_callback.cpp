// GET /auth/callback?code&state&iss — completes the IndieAuth flow (SPEC §4.1
// steps 5-8): on success a new session and its cookie, then the `next` the
// login started with (a pending authorization request of the built-in server;
// checked again by safe_next, so only a same-site /auth/authorize? path), else
// the admin area.
#include <spdlog/spdlog.h>

#include "auth/indieauth.hpp"
#include "auth/sessions.hpp"
#include "http/form.hpp"
#include "log/log.hpp"
#include "web/handlers/handlers.hpp"
#include "web/login_page.hpp"
#include "web/session_cookie.hpp"

namespace starpunk::web::handlers {

http::Handler login_callback(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        auto query = http::parse_urlencoded(req.query);
        if (!query) return login_page(*site, req, 400, "The login answer was malformed. Please log in again.");
        if (auto err = query->get("error")) {
            // Anyone can send the admin a link to /auth/callback?error=…: its
            // text goes to the log (shortened; the log escapes control
            // characters), never onto the page, which says one fixed thing.
            spdlog::info("authorization server refused the login: {} {}", http::printable_excerpt(*err, 64),
                         http::printable_excerpt(query->get("error_description").value_or(""), 200));
            return login_page(*site, req, 403, "Your authorization server did not approve the login. Please try again.");
        }
        if (!site->indieauth || !site->sessions) return login_page(*site, req, 503, "Logging in is not available on this server.");
        std::optional<std::string_view> iss;
        if (auto i = query->get("iss")) iss = *i;
        std::string next;
        auto me = site->indieauth->complete(query->get("code").value_or(""), query->get("state").value_or(""), iss, &next);
        if (!me) return login_page(*site, req, login_error_status(me.error().code), me.error().message);

        auto session = site->sessions->create(*me, auth::LoginMethod::indieauth, req.header("User-Agent").value_or(""),
                                              req.remote_address);
        if (!session) {
            spdlog::error("could not create a session: {}", session.error().message);
            return login_page(*site, req, 500, "The session could not be saved. Please try again.");
        }
        spdlog::info("admin logged in as {}", *me);
        const std::string target = safe_next(next);
        auto res = http::redirect(target.empty() ? std::string(kAfterLogin) : site->url(target), 302);
        res.add_header("Set-Cookie", session_set_cookie(*site, session->token));
        return res;
    };
}

}  // namespace starpunk::web::handlers
