// What the metrics routes show (SPEC §9), built from the site's live objects:
// the /admin/metrics JSON report, the summary /admin/health adds, and the
// dashboard's template data (derived from the same report, so the page, the
// htmx fragment and the JSON never disagree).
//
// Report fields: timestamp (ISO 8601 UTC), process_id, uptime_seconds,
// enabled, pool (the ten PoolStats), metrics (per type: count, avg_ms, min_ms,
// max_ms, p50_ms, p95_ms, p99_ms), buffer (size, capacity, recorded_total,
// sampling), slow_threshold_ms, slow (the slow log, newest first), requests_total,
// feeds (per format: cache_hits, cache_misses, generated), memory (rss_bytes,
// high_water_bytes; null when /proc is unreadable).
// Never fails: missing parts (no pool, metrics off) give empty or zero values.
#pragma once

#include <nlohmann/json.hpp>

#include "web/site.hpp"
#include "web/templates.hpp"

namespace starpunk::web {

nlohmann::json metrics_report(const Site& site);

// Per-type stats, sampling and slow-log size: what /admin/health adds.
nlohmann::json metrics_summary(const Site& site);

// Template data for templates/metrics_figures.mustache from a report: tables
// for the no-JavaScript view and the JSON the charts read.
TemplateData dashboard_figures(const nlohmann::json& report);

}  // namespace starpunk::web
