#include "web/metrics_view.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include "metrics/process.hpp"
#include "monitoring/diagnostics.hpp"

namespace starpunk::web {

using nlohmann::json;

namespace {

json record_json(const metrics::Record& r) {
    json meta = json::object();
    for (const auto& [k, v] : r.metadata) meta[k] = v;
    return {{"type", metrics::type_name(r.type)}, {"name", r.name},         {"timestamp", r.timestamp()},
            {"duration_ms", r.duration_ms},        {"process_id", r.process_id}, {"metadata", meta}};
}

std::array<metrics::TypeStats, 3> buffer_stats(const metrics::Metrics* m) {
    std::array<metrics::TypeStats, 3> stats{};
    if (m) stats = m->buffer().stats();
    return stats;
}

json stats_json(const std::array<metrics::TypeStats, 3>& stats) {
    json out = json::object();
    for (auto t : metrics::kTypes) {
        const auto& s = stats[static_cast<size_t>(t)];
        out[std::string(metrics::type_name(t))] = {{"count", s.count},   {"avg_ms", s.avg_ms}, {"min_ms", s.min_ms},
                                                   {"max_ms", s.max_ms}, {"p50_ms", s.p50_ms}, {"p95_ms", s.p95_ms},
                                                   {"p99_ms", s.p99_ms}};
    }
    return out;
}

json sampling_json(const metrics::Metrics* m) {
    json out = json::object();
    for (auto t : metrics::kTypes)
        out[std::string(metrics::type_name(t))] = m ? m->settings().sampling[static_cast<size_t>(t)] : 0.0;
    return out;
}

std::string fixed(double v, int digits) { return fmt::format("{:.{}f}", v, digits); }

std::string human_bytes(uint64_t b) {
    if (b >= 1024ull * 1024 * 1024) return fixed(static_cast<double>(b) / (1024.0 * 1024 * 1024), 2) + " GiB";
    if (b >= 1024ull * 1024) return fixed(static_cast<double>(b) / (1024.0 * 1024), 1) + " MiB";
    if (b >= 1024) return fixed(static_cast<double>(b) / 1024.0, 1) + " KiB";
    return std::to_string(b) + " B";
}

std::string human_duration(double seconds) {
    auto s = static_cast<int64_t>(seconds);
    if (s < 60) return fmt::format("{} s", s);
    if (s < 3600) return fmt::format("{} min {} s", s / 60, s % 60);
    if (s < 86400) return fmt::format("{} h {} min", s / 3600, (s % 3600) / 60);
    return fmt::format("{} d {} h", s / 86400, (s % 86400) / 3600);
}

}  // namespace

json metrics_report(const Site& site) {
    const metrics::Metrics* m = site.metrics;
    json report;
    report["timestamp"] = metrics::iso_timestamp(std::chrono::system_clock::now());
    report["process_id"] = static_cast<int>(::getpid());
    report["uptime_seconds"] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - site.started).count();
    report["enabled"] = m != nullptr && m->enabled();
    report["pool"] = monitoring::pool_stats_json(site.pool.stats());
    // One reading of the buffer for the per-type stats and its size, so they
    // agree while other threads record (recorded_total, read after, is >= it).
    const auto stats = buffer_stats(m);
    size_t size = 0;
    for (const auto& s : stats) size += s.count;
    report["metrics"] = stats_json(stats);
    report["buffer"] = {{"size", size},
                        {"capacity", m ? m->buffer().capacity() : 0},
                        {"recorded_total", m ? m->buffer().recorded_total() : 0},
                        {"sampling", sampling_json(m)}};
    report["slow_threshold_ms"] = m ? m->slow_threshold_ms() : 0.0;
    json slow = json::array();
    if (m)
        for (const auto& r : m->slow_log().recent(metrics::Metrics::kSlowLogSize)) slow.push_back(record_json(r));
    report["slow"] = std::move(slow);
    report["requests_total"] = m ? m->requests().total() : 0;
    json feeds = json::object();
    if (m)
        for (const auto& f : m->feeds().snapshot())
            feeds[f.format] = {{"cache_hits", f.cache_hits}, {"cache_misses", f.cache_misses}, {"generated", f.generated}};
    report["feeds"] = std::move(feeds);
    if (auto mem = metrics::read_process_memory()) {
        report["memory"] = {{"rss_bytes", mem->rss_bytes}, {"high_water_bytes", mem->high_water_bytes}};
    } else {
        report["memory"] = nullptr;
    }
    return report;
}

json metrics_summary(const Site& site) {
    const metrics::Metrics* m = site.metrics;
    return {{"enabled", m != nullptr && m->enabled()},
            {"stats", stats_json(buffer_stats(m))},
            {"sampling", sampling_json(m)},
            {"slow_threshold_ms", m ? m->slow_threshold_ms() : 0.0},
            {"slow_operations", m ? m->slow_log().size() : 0},
            {"requests_total", m ? m->requests().total() : 0}};
}

TemplateData dashboard_figures(const json& report) {
    TemplateData d;
    d.set("timestamp", report["timestamp"].get<std::string>());
    d.set("enabled", report["enabled"].get<bool>());
    d.set("uptime", human_duration(report["uptime_seconds"].get<double>()));
    d.set("requests_total", std::to_string(report["requests_total"].get<uint64_t>()));

    TemplateData types{TemplateData::type::list};
    for (const auto& [name, s] : report["metrics"].items()) {
        TemplateData row;
        row.set("type", name);
        row.set("count", std::to_string(s["count"].get<uint64_t>()));
        for (const char* k : {"avg_ms", "min_ms", "max_ms", "p50_ms", "p95_ms", "p99_ms"})
            row.set(k, fixed(s[k].get<double>(), 3));
        types.push_back(std::move(row));
    }
    d.set("types", types);

    const auto& pool = report["pool"];
    TemplateData pool_rows{TemplateData::type::list};
    for (const auto& [name, v] : pool.items()) {
        TemplateData row;
        row.set("name", name);
        row.set("value", v.is_number_float() ? fixed(v.get<double>(), 1) : v.dump());
        pool_rows.push_back(std::move(row));
    }
    d.set("pool", pool_rows);

    TemplateData slow{TemplateData::type::list};
    for (const auto& r : report["slow"]) {
        TemplateData row;
        row.set("type", r["type"].get<std::string>());
        row.set("name", r["name"].get<std::string>());
        row.set("timestamp", r["timestamp"].get<std::string>());
        row.set("duration_ms", fixed(r["duration_ms"].get<double>(), 1));
        std::string detail;
        if (r["metadata"].contains("sql")) detail = r["metadata"]["sql"].get<std::string>();
        else if (r["metadata"].contains("request_id")) detail = "request " + r["metadata"]["request_id"].get<std::string>();
        row.set("detail", detail);
        slow.push_back(std::move(row));
    }
    d.set("has_slow", !report["slow"].empty());
    d.set("slow", slow);
    d.set("slow_threshold_ms", fixed(report["slow_threshold_ms"].get<double>(), 0));

    TemplateData feeds{TemplateData::type::list};
    for (const auto& [format, f] : report["feeds"].items()) {
        TemplateData row;
        row.set("format", format);
        row.set("cache_hits", std::to_string(f["cache_hits"].get<uint64_t>()));
        row.set("cache_misses", std::to_string(f["cache_misses"].get<uint64_t>()));
        row.set("generated", std::to_string(f["generated"].get<uint64_t>()));
        feeds.push_back(std::move(row));
    }
    d.set("has_feeds", !report["feeds"].empty());
    d.set("feeds", feeds);

    if (report["memory"].is_object()) {
        d.set("rss", human_bytes(report["memory"]["rss_bytes"].get<uint64_t>()));
        d.set("high_water", human_bytes(report["memory"]["high_water_bytes"].get<uint64_t>()));
    } else {
        d.set("rss", "unknown");
        d.set("high_water", "unknown");
    }
    // What the charts draw: latency per type and pool usage.
    json chart = {{"metrics", report["metrics"]}, {"pool", report["pool"]}, {"slow", json::array()}};
    for (const auto& r : report["slow"])
        chart["slow"].push_back({{"name", r["name"]}, {"duration_ms", r["duration_ms"]}, {"type", r["type"]}});
    d.set("chart_json", chart.dump());  // HTML-escaped by the template (an attribute value)
    return d;
}

}  // namespace starpunk::web
