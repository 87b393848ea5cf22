#include "indieauth/client.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "auth/discovery.hpp"
#include "util/strings.hpp"
#include "util/url.hpp"

namespace starpunk::indieauth {

namespace {
bool is_json(const net::HttpResponse& r) {
    auto type = to_lower(r.headers.get("Content-Type").value_or(""));
    return type.starts_with("application/json") || (type.find("+json") != std::string::npos);
}
bool is_html(const net::HttpResponse& r) {
    auto type = to_lower(r.headers.get("Content-Type").value_or(""));
    return type.starts_with("text/html") || type.starts_with("application/xhtml+xml");
}
}  // namespace

ClientInfo read_client(std::string_view client_id, const net::HttpResponse& answer) {
    ClientInfo info;
    const std::string base = answer.final_url.empty() ? std::string(client_id) : answer.final_url;
    auto header = auth::links_from_headers(answer.headers, base);
    info.redirect_uris = std::move(header.redirect_uris);
    if (is_json(answer)) {
        const auto doc = nlohmann::json::parse(answer.body, nullptr, false);
        if (!doc.is_object()) return info;
        auto id = doc.find("client_id");
        if (id == doc.end() || !id->is_string() || id->get<std::string>() != client_id) return info;
        if (auto n = doc.find("client_name"); n != doc.end() && n->is_string()) info.name = n->get<std::string>();
        if (auto l = doc.find("logo_uri"); l != doc.end() && l->is_string()) {
            if (auto u = auth::resolve_url(base, l->get<std::string>())) info.logo = std::move(*u);
        }
        if (auto r = doc.find("redirect_uris"); r != doc.end() && r->is_array()) {
            for (const auto& v : *r) {
                if (v.is_string()) info.redirect_uris.push_back(v.get<std::string>());
            }
        }
    } else if (is_html(answer)) {
        auto html = auth::links_from_html(answer.body, base);
        for (auto& u : html.redirect_uris) info.redirect_uris.push_back(std::move(u));
        auto app = auth::app_from_html(answer.body, base);
        info.name = std::move(app.name);
        info.logo = std::move(app.logo);
    }
    if (info.name.size() > 200) {  // cut at a UTF-8 character boundary
        size_t end = 200;
        while (end > 0 && (static_cast<unsigned char>(info.name[end]) & 0xC0) == 0x80) --end;
        info.name.resize(end);
    }
    return info;
}

Result<ClientInfo> fetch_client(net::HttpClient& http, std::string_view client_id) {
    net::HttpRequest req;
    req.url = std::string(client_id);
    req.headers = {{"Accept", "application/json, text/html;q=0.9"}};
    auto answer = http.fetch(req);
    if (!answer) return std::move(answer).error();
    if (answer->status < 200 || answer->status >= 300) {
        return make_error(ErrorCode::io, "the client's page answered HTTP " + std::to_string(answer->status));
    }
    return read_client(client_id, *answer);
}

std::string redirect_uri_refusal(std::string_view client_id, std::string_view redirect_uri, const ClientInfo& client) {
    const std::string a = origin_of(client_id);
    if (!a.empty() && a == origin_of(redirect_uri)) return {};
    if (std::find(client.redirect_uris.begin(), client.redirect_uris.end(), redirect_uri) != client.redirect_uris.end())
        return {};
    return "redirect_uri is on another origin than client_id and the client does not list it as one of its redirect URIs.";
}

}  // namespace starpunk::indieauth
