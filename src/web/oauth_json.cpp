#include "web/oauth_json.hpp"

#include <algorithm>
#include <string>

namespace starpunk::web {

http::Response oauth_json(int status, const nlohmann::json& body) {
    auto res = http::json_response(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    res.set_header("Pragma", "no-cache");
    return res;
}

http::Response oauth_error(int status, std::string_view error, std::string_view description) {
    auto res = oauth_json(status, {{"error", error}, {"error_description", description}});
    if (status == 401) res.set_header("WWW-Authenticate", "Bearer error=\"" + std::string(error) + "\"");
    return res;
}

nlohmann::json profile_json(const Site& site, const std::vector<std::string>& scopes, std::string_view me) {
    auto granted = [&](std::string_view s) { return std::find(scopes.begin(), scopes.end(), s) != scopes.end(); };
    if (!granted("profile")) return nullptr;
    const auto& c = site.config;
    nlohmann::json profile = {{"url", me}, {"name", c.site_author.empty() ? c.site_name : c.site_author}};
    if (!c.site_author_photo.empty()) {
        profile["photo"] = c.site_author_photo.starts_with("/") ? c.site_url + c.site_author_photo : c.site_author_photo;
    }
    if (granted("email") && !c.site_author_email.empty()) profile["email"] = c.site_author_email;
    return profile;
}

}  // namespace starpunk::web
