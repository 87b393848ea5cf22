// GET /auth/login shows the form; POST /auth/login starts the IndieAuth flow
// (SPEC §4.1 steps 1-4) and sends the browser to the authorization endpoint.
#include <spdlog/spdlog.h>

#include "auth/indieauth.hpp"
#include "http/form.hpp"
#include "util/strings.hpp"
#include "web/handlers/handlers.hpp"
#include "web/login_page.hpp"

namespace starpunk::web::handlers {

http::Handler login_form(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) { return login_page(*site, req, 200); };
}

http::Handler login_start(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        if (req.content_type() != "application/x-www-form-urlencoded") {
            return login_page(*site, req, 400, "Send the login form as an ordinary HTML form.");
        }
        auto form = http::parse_urlencoded(req.body);
        if (!form) return login_page(*site, req, 400, form.error().message);
        std::string me(trim(form->get("me").value_or("")));
        if (me.empty()) return login_page(*site, req, 400, "Enter your website's address, e.g. https://example.com/.");
        if (!site->indieauth) return login_page(*site, req, 503, "Logging in is not available on this server.", me);
        auto target = site->indieauth->begin(me);
        if (!target) return login_page(*site, req, login_error_status(target.error().code), target.error().message, me);
        return http::redirect(std::move(*target), 302);
    };
}

}  // namespace starpunk::web::handlers
