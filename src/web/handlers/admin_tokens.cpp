// GET /admin/tokens — the built-in IndieAuth server's live access tokens and
// unspent refresh tokens (client, kind, scopes, issued, last used, expiry);
// POST /admin/tokens/revoke/{id} revokes one — a refresh token with its whole
// family (admin: same-origin + CSRF, checked by the gate).
#include <spdlog/spdlog.h>

#include <charconv>

#include "http/form.hpp"
#include "indieauth/authorization_request.hpp"
#include "indieauth/authorization_server.hpp"
#include "web/errors.hpp"
#include "web/handlers/handlers.hpp"
#include "web/visitor.hpp"

namespace starpunk::web::handlers {

namespace {
void set_time(TemplateData& row, const char* name, Timestamp t) {
    row.set(std::string(name) + "_iso", format_rfc3339(t));
    row.set(std::string(name) + "_human", human_date(t));
}
}  // namespace

http::Handler admin_tokens(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        if (!site->authorization_server) return error_response(*site, req, 404, "This site has no built-in IndieAuth server.");
        auto tokens = site->authorization_server->live_tokens();
        if (!tokens) {
            spdlog::error("admin: tokens could not be listed: {}", tokens.error().message);
            return error_response(*site, req, 500, "The tokens could not be listed.");
        }
        TemplateData rows{TemplateData::type::list};
        for (const auto& t : tokens.value()) {
            TemplateData row;
            row.set("id", std::to_string(t.id));
            row.set("client_id", t.client_id);
            row.set("refresh", t.kind == indieauth::TokenKind::refresh);
            row.set("scope", indieauth::join_scopes(t.scopes));
            set_time(row, "issued", t.issued_at);
            set_time(row, "expires", t.expires_at);
            row.set("used", t.last_used_at.has_value());
            if (t.last_used_at) set_time(row, "used", *t.last_used_at);
            row.set("csrf_token", visitor(req).csrf_token);
            rows.push_back(std::move(row));
        }
        TemplateData data;
        data.set("rows", rows);
        data.set("has_rows", !tokens->empty());
        if (auto q = http::parse_urlencoded(req.query); q && q->get("notice") == std::optional<std::string_view>("revoked")) {
            data.set("notice", std::string("The token was revoked."));
        }
        auto page = render_page(*site, page_info(req, "Access tokens"), "admin_tokens", std::move(data));
        if (!page) return error_response(*site, req, 500, "The page could not be rendered.");
        return http::html_response(200, std::move(*page));
    };
}

http::Handler admin_token_revoke(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        if (!site->authorization_server) return error_response(*site, req, 404, "This site has no built-in IndieAuth server.");
        std::string_view text = req.param("id");
        int64_t id = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
        if (ec != std::errc{} || end != text.data() + text.size() || id <= 0) {
            return error_response(*site, req, 404, "There is no token with that number.");
        }
        auto gone = site->authorization_server->revoke_id(id);
        if (!gone) {
            spdlog::error("admin: token {} could not be revoked: {}", id, gone.error().message);
            return error_response(*site, req, 500, "The token could not be revoked.");
        }
        if (!*gone) return error_response(*site, req, 404, "There is no token with that number (already revoked or expired).");
        spdlog::info("admin revoked token {} (a refresh token: with its family)", id);
        return http::redirect("/admin/tokens?notice=revoked", 303);
    };
}

}  // namespace starpunk::web::handlers
