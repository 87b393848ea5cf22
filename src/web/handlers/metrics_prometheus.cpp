// GET /metrics: Prometheus text exposition (SPEC §9). Exists only with
// METRICS_PROMETHEUS=true (404 otherwise). With METRICS_TOKEN set it needs
// `Authorization: Bearer <METRICS_TOKEN>` (compared in constant time; 401 with
// WWW-Authenticate otherwise); without one it is open and the operations
// guide says to restrict it at the proxy.
//
// Families: starpunk_http_requests_total and
// starpunk_http_request_duration_seconds (histogram) by route pattern, method
// and status; starpunk_db_pool_* gauges and counters; starpunk_notes by state;
// starpunk_feed_responses_total by format and result; process memory, start
// time and build info. Counters never go down within a process.
#include <chrono>

#include "metrics/process.hpp"
#include "metrics/prometheus.hpp"
#include "starpunk_version.hpp"
#include "util/crypto.hpp"
#include "web/errors.hpp"
#include "web/handlers/handlers.hpp"

namespace starpunk::web::handlers {

namespace {

void http_families(metrics::Exposition& e, const metrics::Metrics& m) {
    auto series = m.requests().snapshot();
    e.family("starpunk_http_requests_total", "counter", "HTTP responses by route pattern, method and status.");
    for (const auto& s : series) {
        std::string status = std::to_string(s.status);
        e.sample("starpunk_http_requests_total", {{"route", s.route}, {"method", s.method}, {"status", status}},
                 static_cast<double>(s.count));
    }
    e.family("starpunk_http_request_duration_seconds", "histogram",
             "Time from the request's first byte to the response's last, by route pattern, method and status.");
    for (const auto& s : series) {
        std::string status = std::to_string(s.status);
        for (size_t i = 0; i < metrics::kLatencyBuckets.size(); ++i) {
            std::string le = metrics::format_value(metrics::kLatencyBuckets[i]);
            e.sample("starpunk_http_request_duration_seconds_bucket",
                     {{"route", s.route}, {"method", s.method}, {"status", status}, {"le", le}},
                     static_cast<double>(s.buckets[i]));
        }
        e.sample("starpunk_http_request_duration_seconds_bucket",
                 {{"route", s.route}, {"method", s.method}, {"status", status}, {"le", "+Inf"}},
                 static_cast<double>(s.count));
        e.sample("starpunk_http_request_duration_seconds_sum",
                 {{"route", s.route}, {"method", s.method}, {"status", status}}, s.sum_seconds);
        e.sample("starpunk_http_request_duration_seconds_count",
                 {{"route", s.route}, {"method", s.method}, {"status", status}}, static_cast<double>(s.count));
    }
    e.family("starpunk_feed_responses_total", "counter",
             "Feed answers by format: cached (304 or 200 from the feed cache, nothing generated) or "
             "generated (the feed was generated for the answer).");
    for (const auto& f : m.feeds().snapshot()) {
        e.sample("starpunk_feed_responses_total", {{"format", f.format}, {"result", "cached"}},
                 static_cast<double>(f.cache_hits));
        e.sample("starpunk_feed_responses_total", {{"format", f.format}, {"result", "generated"}},
                 static_cast<double>(f.cache_misses));
    }
}

void pool_families(metrics::Exposition& e, const storage::PoolStats& p) {
    e.family("starpunk_db_pool_size", "gauge", "Connections the pool may hold.");
    e.sample("starpunk_db_pool_size", p.size);
    e.family("starpunk_db_pool_connections", "gauge", "Open connections by state.");
    e.sample("starpunk_db_pool_connections", {{"state", "idle"}}, p.idle);
    e.sample("starpunk_db_pool_connections", {{"state", "in_use"}}, p.in_use);
    e.family("starpunk_db_pool_connections_created_total", "counter", "Connections opened.");
    e.sample("starpunk_db_pool_connections_created_total", static_cast<double>(p.created));
    e.family("starpunk_db_pool_connections_closed_total", "counter", "Connections closed.");
    e.sample("starpunk_db_pool_connections_closed_total", static_cast<double>(p.closed));
    e.family("starpunk_db_pool_acquires_total", "counter",
             "Connection requests: hit = an idle connection was ready; miss = one had to be opened or waited for.");
    e.sample("starpunk_db_pool_acquires_total", {{"result", "hit"}}, static_cast<double>(p.hits));
    e.sample("starpunk_db_pool_acquires_total", {{"result", "miss"}}, static_cast<double>(p.misses));
    e.family("starpunk_db_pool_reused_total", "counter", "Acquires served by a connection used before.");
    e.sample("starpunk_db_pool_reused_total", static_cast<double>(p.reused));
    e.family("starpunk_db_pool_waits_total", "counter", "Acquires that had to wait for a connection.");
    e.sample("starpunk_db_pool_waits_total", static_cast<double>(p.waits));
    e.family("starpunk_db_pool_wait_seconds_total", "counter", "Time spent waiting for a connection.");
    e.sample("starpunk_db_pool_wait_seconds_total", p.wait_time_ms / 1000.0);
}

bool authorized(const Site& site, const http::Request& req) {
    const std::string& token = site.config.metrics_token;
    if (token.empty()) return true;
    auto header = req.header("Authorization");
    if (!header || header->size() < 7 || !http::iequals(header->substr(0, 7), "Bearer ")) return false;
    return constant_time_equal(header->substr(7), token);
}

}  // namespace

http::Handler prometheus(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        if (!site->config.metrics_prometheus) return error_response(*site, req, 404, "There is nothing at this address.");
        if (!authorized(*site, req)) {
            auto res = http::text_response(401, "Send Authorization: Bearer <METRICS_TOKEN>.\n");
            res.set_header("WWW-Authenticate", "Bearer realm=\"metrics\"");
            res.set_header("Cache-Control", "no-store");
            return res;
        }
        metrics::Exposition e;
        if (site->metrics) http_families(e, *site->metrics);
        pool_families(e, site->pool.stats());
        if (auto counts = site->notes.counts()) {
            e.family("starpunk_notes", "gauge", "Notes by state.");
            e.sample("starpunk_notes", {{"state", "published"}}, static_cast<double>(counts->published));
            e.sample("starpunk_notes", {{"state", "draft"}}, static_cast<double>(counts->drafts));
            e.sample("starpunk_notes", {{"state", "deleted"}}, static_cast<double>(counts->deleted));
        }
        if (auto mem = metrics::read_process_memory()) {
            e.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
            e.sample("process_resident_memory_bytes", static_cast<double>(mem->rss_bytes));
            e.family("starpunk_process_resident_memory_max_bytes", "gauge", "Peak resident memory (VmHWM) in bytes.");
            e.sample("starpunk_process_resident_memory_max_bytes", static_cast<double>(mem->high_water_bytes));
        }
        if (site->metrics) {
            e.family("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch in seconds.");
            e.sample("process_start_time_seconds",
                     std::chrono::duration<double>(site->metrics->started().time_since_epoch()).count());
        }
        e.family("starpunk_build_info", "gauge", "Always 1; the version is a label.");
        e.sample("starpunk_build_info", {{"version", kVersion}}, 1);
        http::Response res;
        res.status = 200;
        res.set_header("Content-Type", metrics::kPrometheusContentType);
        res.set_header("Cache-Control", "no-store");
        res.body = e.take();
        return res;
    };
}

}  // namespace starpunk::web::handlers
