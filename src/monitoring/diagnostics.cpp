#include "monitoring/diagnostics.hpp"

#include <unistd.h>

#include <cmath>

#include "monitoring/disk.hpp"
#include "starpunk_version.hpp"

namespace starpunk::monitoring {

namespace {

using json = nlohmann::json;

json check_database(storage::ConnectionPool* pool, bool& ok) {
    auto start = std::chrono::steady_clock::now();
    ok = false;
    std::string error;
    if (!pool) {
        error = "no database";
    } else if (auto lease = pool->acquire(); !lease) {
        error = "no connection: " + lease.error().message;
    } else if (auto stmt = (*lease)->prepare("SELECT 1"); !stmt) {
        error = stmt.error().message;
    } else {
        auto row = (*stmt)->step();
        ok = row.ok() && *row && (*stmt)->integer(0) == 1;
        (*stmt)->reset();
        if (!ok) error = row.ok() ? "unexpected answer" : row.error().message;
    }
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    json out = {{"status", ok ? "ok" : "error"}, {"latency_ms", std::round(ms * 1000) / 1000}};
    if (!ok) out["error"] = error;
    return out;
}

json check_filesystem(const std::string& notes_path, bool& ok) {
    bool readable = ::access(notes_path.c_str(), R_OK | X_OK) == 0;
    bool writable = ::access(notes_path.c_str(), W_OK) == 0;
    ok = readable && writable;
    json out = {{"status", ok ? "ok" : "error"}, {"notes_readable", readable}, {"notes_writable", writable}};
    if (!ok) out["error"] = "the notes directory must be readable and writable by the server's user";
    return out;
}

json check_disk(const std::string& data_path, bool& low) {
    low = false;
    auto space = disk_space(data_path);
    if (!space) return {{"status", "unknown"}};
    low = space->free_percent < kLowDiskPercent;
    json out = {{"status", low ? "warning" : "ok"},
                {"free_bytes", space->free_bytes},
                {"total_bytes", space->total_bytes},
                {"free_percent", std::round(space->free_percent * 10) / 10}};
    if (low) out["warning"] = "less than 10 % of the disk is free";
    return out;
}

}  // namespace

Diagnostics diagnose(const DiagnosticsInput& in) {
    bool db_ok = false, fs_ok = false, disk_low = false;
    json checks;
    checks["database"] = check_database(in.pool, db_ok);
    checks["filesystem"] = check_filesystem(in.notes_path, fs_ok);
    checks["disk"] = check_disk(in.data_path, disk_low);
    const bool slow_search = in.search == "fallback" && !in.search_forced_fallback;
    checks["search"] = {{"status", slow_search ? "warning" : "ok"}, {"mode", in.search}};
    if (slow_search) checks["search"]["warning"] = "SQLite has no FTS5: search scans note files";

    Diagnostics d;
    d.status = !db_ok || !fs_ok ? "unhealthy" : (disk_low || slow_search) ? "degraded" : "healthy";
    auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - in.started);
    d.body = {{"status", d.status}, {"version", kVersion}, {"uptime_seconds", uptime.count()}, {"checks", checks}};
    return d;
}

json pool_stats_json(const storage::PoolStats& s) {
    return {{"size", s.size},       {"idle", s.idle},       {"in_use", s.in_use}, {"created", s.created},
            {"reused", s.reused},   {"closed", s.closed},   {"hits", s.hits},     {"misses", s.misses},
            {"waits", s.waits},     {"wait_time_ms", s.wait_time_ms}};
}

}  // namespace starpunk::monitoring
