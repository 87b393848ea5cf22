#include <nlohmann/json.hpp>

#include "starpunk_version.hpp"
#include "web/handlers/handlers.hpp"

namespace starpunk::web::handlers {

http::Handler health(std::shared_ptr<const Site> site) {
    // Both possible bodies are fixed for the life of the process: build them once.
    auto healthy = std::make_shared<const std::string>(
        nlohmann::json{{"status", "healthy"}, {"version", kVersion}}.dump());
    auto unhealthy = std::make_shared<const std::string>(nlohmann::json{{"status", "unhealthy"}}.dump());
    return [site = std::move(site), healthy, unhealthy](http::Request&) {
        bool ok = site->health == nullptr || site->health->healthy();
        http::Response res;
        res.status = ok ? 200 : 503;
        res.set_header("Content-Type", http::kJsonType);
        res.set_header("Cache-Control", "no-store");
        res.shared_body = ok ? healthy : unhealthy;
        return res;
    };
}

}  // namespace starpunk::web::handlers
