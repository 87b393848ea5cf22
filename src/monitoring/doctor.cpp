#include "monitoring/doctor.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <exception>
#include <set>

#include "monitoring/doctor_finding.hpp"
#include "storage/migrations.hpp"
#include "storage/sqlite.hpp"

namespace starpunk::monitoring {

using detail::ok;
using detail::problem;
using detail::warning;
using detail::who;

namespace {

Result<std::set<std::string>> recorded_migrations(storage::Connection& c) {
    auto exists = c.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'");
    if (!exists) return std::move(exists).error();
    auto found = (*exists)->step();
    if (!found) return std::move(found).error();
    std::set<std::string> names;
    if (!*found) return names;
    (*exists)->reset();
    auto q = c.prepare("SELECT migration_name FROM schema_migrations");
    if (!q) return std::move(q).error();
    auto rows = (*q)->each_row([&](const storage::Statement& r) { names.insert(r.text(0)); });
    if (!rows) return std::move(rows).error();
    return names;
}

}  // namespace

int DoctorReport::count(Severity s) const {
    int n = 0;
    for (const auto& f : findings) n += f.severity == s ? 1 : 0;
    return n;
}

DoctorReport run_checks(const std::vector<NamedCheck>& checks) {
    DoctorReport report;
    for (const auto& c : checks) {
        try {
            auto found = c.run();
            report.findings.insert(report.findings.end(), found.begin(), found.end());
        } catch (const std::exception& e) {
            report.findings.push_back(problem(c.name, std::string("could not be checked: ") + e.what(), {},
                                              "report this with the message above"));
        }
    }
    return report;
}

std::vector<Finding> check_configuration(const config::LoadedConfig& loaded, const std::string& dotenv_error) {
    const std::string check = "configuration";
    std::vector<Finding> out;
    if (!dotenv_error.empty()) {
        out.push_back(problem(check, dotenv_error, ".env", "fix that line of ./.env (KEY=VALUE, see docs/configuration.md)"));
    }
    for (const auto& p : loaded.problems) {
        out.push_back(problem(check, p, {}, "set it in ./.env or the environment (docs/configuration.md); "
                                            "`starpunk serve` refuses to start (exit 2) until it is fixed"));
    }
    for (const auto& w : loaded.warnings) {
        out.push_back(warning(check, w, {}, "see docs/configuration.md"));
    }
    const auto& c = loaded.config;
    if (!c.dev_mode && !c.site_url_set) {
        out.push_back(problem(check,
                              "SITE_URL is not set: links, feeds and IndieAuth use http://localhost:8000, which "
                              "no reader can reach",
                              {}, "set SITE_URL to the public address, e.g. SITE_URL=https://example.com"));
    } else if (!c.dev_mode && !c.site_is_https()) {
        out.push_back(warning(check,
                              fmt::format("SITE_URL {} is not https: the session cookie is not marked Secure and "
                                          "IndieAuth clients may refuse the site",
                                          c.site_url),
                              {}, "serve the site over TLS (docs/deployment.md) and set SITE_URL=https://…"));
    }
    if (out.empty() || std::none_of(out.begin(), out.end(), [](const Finding& f) { return f.severity == Severity::problem; })) {
        out.insert(out.begin(), ok(check, fmt::format("valid (SITE_URL {}, listening on {}:{}{})", c.site_url, c.host,
                                                      c.port, c.dev_mode ? ", DEV_MODE" : "")));
    }
    return out;
}

std::vector<Finding> check_database(const config::Config& cfg, bool full) {
    const std::string check = "database";
    const std::string& path = cfg.database_path;
    std::vector<Finding> out;
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0) {
        out.push_back(warning(check, "the database does not exist yet", path,
                              "`starpunk migrate` (or the first `starpunk serve`) creates it, as the server's user"));
        return out;
    }
    if (::access(path.c_str(), R_OK | W_OK) != 0) {
        out.push_back(problem(check, fmt::format("the database is not readable and writable by {}", who()), path,
                              fmt::format("chown <user> {0} {0}-wal {0}-shm (the server's user must own all three)", path)));
    }
    auto conn = storage::Connection::open(path, {.busy_timeout_seconds = cfg.db_timeout_seconds, .read_only = true});
    if (!conn) {
        out.push_back(problem(check, conn.error().message, path,
                              "check the file is a StarPunk database and readable; restore from a backup if not "
                              "(docs/backup.md)"));
        return out;
    }
    storage::Connection& c = **conn;
    // Integrity: quick_check is O(size) without index cross-checks.
    const char* pragma = full ? "PRAGMA integrity_check" : "PRAGMA quick_check";
    auto q = c.prepare(pragma);
    std::string verdict;
    if (!q) {
        verdict = q.error().message;
    } else {
        auto row = (*q)->step();
        verdict = !row ? row.error().message : *row ? (*q)->text(0) : "no answer";
        (*q)->reset();
    }
    if (verdict == "ok") {
        out.push_back(ok(check, fmt::format("{} passed", pragma + 7), path));
    } else {
        out.push_back(problem(check, fmt::format("{} failed: {}", pragma + 7, verdict), path,
                              "stop the server and restore the last backup (docs/backup.md); if the error says "
                              "\"database is locked\", another process holds a write lock: see "
                              "docs/troubleshooting.md"));
        return out;
    }
    // Schema version: what this binary would apply, and what it does not know.
    auto recorded = recorded_migrations(c);
    if (!recorded) {
        out.push_back(problem(check, "cannot read the schema version: " + recorded.error().message, path,
                              "restore the last backup (docs/backup.md)"));
    } else {
        std::set<std::string> known;
        std::vector<std::string> pending;
        for (const auto& m : storage::migrations()) {
            known.insert(m.name);
            if (!recorded->contains(m.name)) pending.push_back(m.name);
        }
        std::vector<std::string> unknown;
        for (const auto& name : *recorded) {
            // Python StarPunk 1.x records its own migrations as file names.
            if (!known.contains(name) && !name.ends_with(".sql")) unknown.push_back(name);
        }
        const std::string latest = storage::migrations().back().name;
        if (!unknown.empty()) {
            out.push_back(problem(check,
                                  fmt::format("the schema has migration(s) this version does not know ({}): a newer "
                                              "StarPunk wrote this database",
                                              fmt::join(unknown, ", ")),
                                  path,
                                  "run the newer StarPunk binary again, or restore the backup taken before the "
                                  "upgrade (docs/upgrading.md, rolling back)"));
        } else if (!pending.empty()) {
            out.push_back(warning(check,
                                  fmt::format("{} migration(s) not applied yet ({}); this version expects {}",
                                              pending.size(), fmt::join(pending, ", "), latest),
                                  path,
                                  "take a backup (starpunk backup), then run `starpunk migrate` as the server's "
                                  "user (`starpunk serve` also applies them at start-up)"));
        } else {
            out.push_back(ok(check, fmt::format("schema is current ({})", latest), path));
        }
    }
    // Search: FTS5 in this SQLite, and the index table.
    if (!storage::fts5_available()) {
        out.push_back(warning("search",
                              "this SQLite has no FTS5: search scans note files (slower, no ranking)", {},
                              "use a SQLite built with FTS5 (Debian 12's libsqlite3-0 has it); then run "
                              "`starpunk migrate` and `starpunk reindex`"));
    } else if (auto fts = storage::table_exists(c, "notes_fts"); !fts || !*fts) {
        out.push_back(warning("search", "SQLite has FTS5 but the database has no search index (notes_fts)", path,
                              "run `starpunk migrate`, then `starpunk reindex`"));
    } else {
        out.push_back(ok("search", "FTS5 available, search index present"));
    }
    return out;
}

}  // namespace starpunk::monitoring
