// GET /admin/metrics (admin JSON; 401 otherwise): the metrics report
// (web/metrics_view.hpp lists its fields). Never cached (no-store).
#include "web/handlers/handlers.hpp"
#include "web/metrics_view.hpp"

namespace starpunk::web::handlers {

http::Handler admin_metrics(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request&) {
        auto res = http::json_response(200, metrics_report(*site).dump());
        res.set_header("Cache-Control", "no-store");
        return res;
    };
}

}  // namespace starpunk::web::handlers
