#include "web/oauth_json.hpp"

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

}  // namespace starpunk::web
