#include "web/login_page.hpp"
#include "web/visitor.hpp"

#include <spdlog/spdlog.h>

namespace starpunk::web {

http::Response login_page(const Site& site, const http::Request& req, int status, std::string_view message,
                          std::string_view me, std::string_view next) {
    TemplateData data;
    if (!message.empty()) data.set("message", std::string(message));
    data.set("me", std::string(me));
    data.set("password_login", site.passwords != nullptr && site.login_throttle != nullptr);
    if (auto n = safe_next(next); !n.empty()) data.set("next", n);
    if (visitor(req).is_admin) data.set("logged_in_as", site.config.admin_me.empty() ? site.config.dev_admin_me : site.config.admin_me);
    auto page = render_page(site, page_info(req, "Log in"), "login", std::move(data));
    if (!page) {
        spdlog::error("login page could not be rendered: {}", page.error().message);
        return http::text_response(500, "The login page could not be rendered.\n");
    }
    return http::html_response(status, std::move(*page));
}

http::Response totp_page(const Site& site, const http::Request& req, int status, std::string_view message,
                         std::string_view ticket, std::string_view next) {
    TemplateData data;
    if (!message.empty()) data.set("message", std::string(message));
    data.set("totp_ticket", std::string(ticket));
    if (auto n = safe_next(next); !n.empty()) data.set("next", n);
    auto page = render_page(site, page_info(req, "Log in: code"), "login", std::move(data));
    if (!page) {
        spdlog::error("login page could not be rendered: {}", page.error().message);
        return http::text_response(500, "The login page could not be rendered.\n");
    }
    return http::html_response(status, std::move(*page));
}

int login_error_status(ErrorCode code) {
    switch (code) {
        case ErrorCode::invalid_input: return 400;
        case ErrorCode::conflict: return 403;
        case ErrorCode::io: return 502;
        case ErrorCode::busy: return 503;
        case ErrorCode::no_space: return 507;
        default: return 500;
    }
}

std::string safe_next(std::string_view next) {
    constexpr std::string_view kAllowed = "/auth/authorize?";
    if (!next.starts_with(kAllowed)) return {};
    for (char c : next) {
        if (static_cast<unsigned char>(c) < 0x21 || c == '\\' || c == 0x7F) return {};
    }
    return std::string(next);
}

}  // namespace starpunk::web
