// GET /auth/login shows the form; POST /auth/login either checks the owner's
// password (a `password` field: throttled, auth/password.hpp) and signs them
// in — or, with TOTP on (auth/totp.hpp), answers the code form holding a
// ticket, and a second POST (`totp_ticket` + `code`) signs them in — or starts
// the IndieAuth flow with an outside server (a `me` field, SPEC §4.1 steps
// 1-4) and sends the browser to its authorization endpoint.
// Invariants:
//   1. A session is made only after every factor the owner set up is right.
//   2. Wrong codes count as failed logins in the same throttle as wrong
//      passwords, and a right password does not forget them while a code is
//      still to come.
//   3. Neither the password, the code nor the ticket is ever logged.
#include <spdlog/spdlog.h>

#include "auth/indieauth.hpp"
#include "auth/password.hpp"
#include "auth/sessions.hpp"
#include "auth/totp.hpp"
#include "http/form.hpp"
#include "util/strings.hpp"
#include "web/handlers/handlers.hpp"
#include "web/login_page.hpp"
#include "web/session_cookie.hpp"

namespace starpunk::web::handlers {

namespace {

http::Response start_session(const Site& site, const http::Request& req, std::string_view next, std::string_view how);

http::Response password_login(const Site& site, const http::Request& req, std::string_view password,
                              std::string_view next) {
    if (!site.passwords || !site.login_throttle || !site.sessions) {
        return login_page(site, req, 503, "Logging in with a password is not available on this server.");
    }
    const std::string& me = site.sessions->options().admin_me;
    if (me.empty()) return login_page(site, req, 503, "This site's owner (ADMIN_ME) is not set or not a usable profile URL.");
    bool second_factor = false;
    if (site.totp && site.second_factor) {
        auto on = site.totp->is_enabled();
        if (!on) {
            spdlog::error("password login could not be checked: {}", on.error().message);
            return login_page(site, req, 500, "The password could not be checked. Please try again.", {}, next);
        }
        second_factor = *on;
    }
    auto attempt = auth::attempt_password_login(*site.passwords, *site.login_throttle, req.remote_address, password,
                                                !second_factor);
    if (!attempt) {
        spdlog::error("password login could not be checked: {}", attempt.error().message);
        return login_page(site, req, 500, "The password could not be checked. Please try again.", {}, next);
    }
    using O = auth::PasswordAttempt::Outcome;
    if (attempt->outcome == O::throttled) {
        auto res = login_page(site, req, 429,
                              "Too many failed attempts. Wait " + std::to_string(attempt->retry_after.count()) +
                                  " second(s), then try again.",
                              {}, next);
        res.set_header("Retry-After", std::to_string(attempt->retry_after.count()));
        return res;
    }
    if (attempt->outcome == O::refused) return login_page(site, req, 403, "That password is not right.", {}, next);
    if (second_factor) {
        auto ticket = site.second_factor->begin(req.remote_address);
        if (!ticket) {
            spdlog::error("password login could not continue: {}", ticket.error().message);
            return login_page(site, req, 500, "The login could not continue. Please try again.", {}, next);
        }
        spdlog::info("password right from {}; asking for the TOTP code", req.remote_address);
        return totp_page(site, req, 200, {}, *ticket, next);
    }
    return start_session(site, req, next, "the password");
}

// The second step: the ticket from the password step and the 6-digit code.
http::Response totp_login(const Site& site, const http::Request& req, std::string_view ticket, std::string_view code,
                          std::string_view next) {
    if (!site.totp || !site.second_factor || !site.login_throttle || !site.sessions) {
        return login_page(site, req, 503, "Logging in with a password is not available on this server.");
    }
    auto& throttle = *site.login_throttle;
    const std::string& address = req.remote_address;
    if (!site.second_factor->valid(ticket, address)) {
        return login_page(site, req, 403, "This login attempt has expired. Enter your password again.", {}, next);
    }
    if (auto wait = throttle.wait(address); wait.count() > 0) {
        spdlog::warn("TOTP code from {} refused unheard: throttled for {} s more", address, wait.count());
        auto res = totp_page(site, req, 429,
                             "Too many failed attempts. Wait " + std::to_string(wait.count()) +
                                 " second(s), then try again.",
                             ticket, next);
        res.set_header("Retry-After", std::to_string(wait.count()));
        return res;
    }
    auto ok = site.totp->verify(trim(code));
    if (!ok) {
        spdlog::error("TOTP code could not be checked: {}", ok.error().message);
        return totp_page(site, req, 500, "The code could not be checked. Please try again.", ticket, next);
    }
    if (!*ok) {
        const int failures = throttle.failed(address);
        site.second_factor->wrong_code(ticket);
        spdlog::warn("TOTP code from {} wrong or already used ({} failure(s) from there, {} overall)", address, failures,
                     throttle.overall_failures());
        if (!site.second_factor->valid(ticket, address)) {
            return login_page(site, req, 403, "Too many wrong codes. Enter your password again.", {}, next);
        }
        return totp_page(site, req, 403, "That code is not right (or was used already). Try the next one.", ticket,
                         next);
    }
    throttle.succeeded(address);
    site.second_factor->finish(ticket);
    return start_session(site, req, next, "the password and a TOTP code");
}

// Both factors are right: a new password session, then `next` or the admin area.
http::Response start_session(const Site& site, const http::Request& req, std::string_view next, std::string_view how) {
    const std::string& me = site.sessions->options().admin_me;
    auto session =
        site.sessions->create(me, auth::LoginMethod::password, req.header("User-Agent").value_or(""), req.remote_address);
    if (!session) {
        spdlog::error("could not create a session: {}", session.error().message);
        return login_page(site, req, 500, "The session could not be saved. Please try again.");
    }
    spdlog::info("admin logged in as {} with {} from {}", me, how, req.remote_address);
    std::string target = safe_next(next);
    auto res = http::redirect(target.empty() ? std::string(kAfterLogin) : site.url(target), 302);
    res.add_header("Set-Cookie", session_set_cookie(site, session->token));
    return res;
}

}  // namespace

http::Handler login_form(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        std::string next;
        if (auto query = http::parse_urlencoded(req.query)) next = std::string(query->get("next").value_or(""));
        return login_page(*site, req, 200, {}, {}, next);
    };
}

http::Handler login_start(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        if (req.content_type() != "application/x-www-form-urlencoded") {
            return login_page(*site, req, 400, "Send the login form as an ordinary HTML form.");
        }
        auto form = http::parse_urlencoded(req.body);
        if (!form) return login_page(*site, req, 400, form.error().message);
        const std::string next(form->get("next").value_or(""));
        if (auto ticket = form->get("totp_ticket")) {
            return totp_login(*site, req, *ticket, form->get("code").value_or(""), next);
        }
        if (auto password = form->get("password")) {
            if (password->empty()) return login_page(*site, req, 400, "Enter your password.", {}, next);
            return password_login(*site, req, *password, next);
        }
        std::string me(trim(form->get("me").value_or("")));
        if (me.empty()) return login_page(*site, req, 400, "Enter your website's address, e.g. https://example.com/.", {}, next);
        if (!site->indieauth) return login_page(*site, req, 503, "Logging in is not available on this server.", me, next);
        auto target = site->indieauth->begin(me, safe_next(next));
        if (!target) return login_page(*site, req, login_error_status(target.error().code), target.error().message, me, next);
        if (target->starts_with(site->url("/auth/authorize?"))) {
            // ADMIN_ME advertises this site's own (built-in) server, which
            // needs the owner logged in first: only the password gets in.
            return login_page(*site, req, 400,
                              "This site is its own IndieAuth server: log in with your password "
                              "(set it with `starpunk set-password`).",
                              me, next);
        }
        return http::redirect(std::move(*target), 302);
    };
}

}  // namespace starpunk::web::handlers
