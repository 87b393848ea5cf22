#include <nlohmann/json.hpp>

#include "starpunk_version.hpp"
#include "web/handlers/handlers.hpp"

namespace starpunk::web::handlers {

http::Handler health(std::shared_ptr<const Site> site) {
    // The body never changes while the process lives: build it once.
    auto body = std::make_shared<const std::string>(
        nlohmann::json{{"status", "healthy"}, {"version", kVersion}}.dump());
    return [site = std::move(site), body](http::Request&) {
        http::Response res;
        res.set_header("Content-Type", http::kJsonType);
        res.set_header("Cache-Control", "no-store");
        res.shared_body = body;
        return res;
    };
}

}  // namespace starpunk::web::handlers
