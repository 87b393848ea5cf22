// GET /admin/metrics (admin JSON; 401 otherwise): the metrics report
// (web/metrics_view.hpp lists its fields). Never cached (no-store).
#include "web/handlers/handlers.hpp"
#include "web/metrics_view.hpp"

namespace starpunk::web::handlers {

http::Handler admin_metrics(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request&) {
        // Values are cut on character boundaries, but SQL or routes could still
        // carry invalid UTF-8: replace it rather than throw.
        auto res = http::json_response(200, metrics_report(*site).dump(-1, ' ', false,
                                                                       nlohmann::json::error_handler_t::replace));
        res.set_header("Cache-Control", "no-store");
        return res;
    };
}

}  // namespace starpunk::web::handlers
