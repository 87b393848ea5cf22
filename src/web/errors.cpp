#include "web/errors.hpp"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

namespace starpunk::web {

bool wants_json_errors(std::string_view path) {
    return path == "/micropub" || path.starts_with("/micropub/") || path.starts_with("/api/") || path == "/health" ||
           path == "/admin/health" || path == "/admin/metrics";
}

std::string_view json_error_code(int status) {
    switch (status) {
        case 400: return "invalid_request";
        case 401: return "unauthorized";
        case 403: return "forbidden";
        case 404: return "not_found";
        case 405: return "method_not_allowed";
        case 406: return "not_acceptable";
        case 408: return "request_timeout";
        case 413: return "request_too_large";
        case 415: return "unsupported_media_type";
        case 431: return "request_header_too_large";
        case 503: return "temporarily_unavailable";
        case 507: return "insufficient_storage";
        default: return status >= 500 ? "server_error" : "invalid_request";
    }
}

http::Response error_response(const Site& site, const http::Request& req, int status, std::string_view message) {
    if (status >= 500) {
        spdlog::error("{} {} -> {}: {}", req.method_text, req.path, status, message);
    }
    if (wants_json_errors(req.path)) {
        nlohmann::json body = {{"error", json_error_code(status)}, {"error_description", message}};
        return http::json_response(status, body.dump());
    }
    TemplateData data;
    data.set("status", std::to_string(status));
    data.set("reason", std::string(http::reason_phrase(status)));
    data.set("message", std::string(message));
    auto page = render_page(site, PageInfo{std::string(http::reason_phrase(status)), {}}, "error", data);
    if (!page) {
        spdlog::error("error page for {} could not be rendered: {}", status, page.error().message);
        return http::text_response(status, std::string(message) + "\n");
    }
    auto res = http::html_response(status, std::move(*page));
    res.set_header("Link", discovery_link_header(site));
    return res;
}

}  // namespace starpunk::web
