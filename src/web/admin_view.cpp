#include "web/admin_view.hpp"
#include "web/visitor.hpp"

#include <charconv>

#include "http/form.hpp"
#include "web/errors.hpp"

namespace starpunk::web {

http::Response admin_page(const Site& site, const http::Request& req, int status, std::string title,
                          std::string_view name, TemplateData data) {
    data.set("csrf_token", visitor(req).csrf_token);
    auto body = render_page(site, page_info(req, std::move(title)), name, std::move(data));
    if (!body) return error_response(site, req, 500, "The page could not be rendered.");
    return http::html_response(status, std::move(*body));
}

std::optional<int64_t> note_id_param(const http::Request& req) {
    std::string_view text = req.param("id");
    int64_t id = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc{} || end != text.data() + text.size() || id <= 0) return std::nullopt;
    return id;
}

http::Response back_to_list(std::string_view notice, std::string_view slug, bool trash) {
    std::string location = "/admin/?notice=" + std::string(notice);
    if (!slug.empty()) location += "&slug=" + std::string(slug);  // slugs are [a-z0-9-]: nothing to escape
    if (trash) location += "&view=trash";
    return http::redirect(std::move(location), 303);
}

http::Response admin_error(const Site& site, const http::Request& req, const Error& error) {
    switch (error.code) {
        case ErrorCode::not_found: return error_response(site, req, 404, "There is no note with that number.");
        case ErrorCode::conflict: return error_response(site, req, 409, error.message);
        case ErrorCode::invalid_input: return error_response(site, req, 400, error.message);
        case ErrorCode::no_space:
            return error_response(site, req, 507,
                                  "The note could not be saved: the server's disk is full. Nothing was changed; try "
                                  "again once space is freed.");
        default: return error_response(site, req, 500, "The note could not be saved: the server's storage failed. Nothing was changed.");
    }
}

}  // namespace starpunk::web
