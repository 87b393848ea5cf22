// The detailed health report (SPEC §8, second and third tiers): what an
// operator needs to see when something is wrong, for the admin only.
//
// Status rules:
//   unhealthy -> the database does not answer, or the notes directory is not
//                readable and writable (the site cannot serve or save notes);
//   degraded  -> it works, but needs attention: free disk under 10 %, or search
//                running on the slow file-scan fallback because FTS5 is missing;
//   healthy   -> otherwise.
// Never includes secrets or configuration values beyond paths' health.
// Thread-safe: every call checks afresh (it is for humans, not load balancers).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "storage/pool.hpp"

namespace starpunk::monitoring {

struct DiagnosticsInput {
    storage::ConnectionPool* pool = nullptr;
    std::string notes_path;
    std::string data_path;
    std::string search;  // "fts5", "fallback", or "disabled"
    bool search_forced_fallback = false;
    std::chrono::steady_clock::time_point started{};
};

struct Diagnostics {
    std::string status;  // healthy | degraded | unhealthy
    nlohmann::json body;  // {"status", "version", "uptime_seconds", "checks": {...}}
    bool unhealthy() const { return status == "unhealthy"; }
};

Diagnostics diagnose(const DiagnosticsInput& in);

// Pool statistics as JSON (SPEC §9 names).
nlohmann::json pool_stats_json(const storage::PoolStats& s);

}  // namespace starpunk::monitoring
