#include "monitoring/doctor.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <exception>
#include <set>

#include "auth/discovery.hpp"
#include "monitoring/disk.hpp"
#include "storage/fs.hpp"
#include "storage/migrations.hpp"
#include "storage/sqlite.hpp"
#include "util/strings.hpp"

namespace starpunk::monitoring {

namespace {

Finding ok(std::string check, std::string message, std::string path = {}) {
    return {std::move(check), Severity::ok, std::move(message), std::move(path), {}};
}
Finding warning(std::string check, std::string message, std::string path, std::string fix) {
    return {std::move(check), Severity::warning, std::move(message), std::move(path), std::move(fix)};
}
Finding problem(std::string check, std::string message, std::string path, std::string fix) {
    return {std::move(check), Severity::problem, std::move(message), std::move(path), std::move(fix)};
}

std::string who() { return fmt::format("uid {}", ::geteuid()); }

// One directory the server must read and write. A missing DATA_PATH is a
// problem (a mistyped DATA_PATH would start an empty site); the directories
// inside it are created by `starpunk serve`, so their absence is a warning.
void check_directory(std::vector<Finding>& out, const std::string& what, const std::string& path, bool required) {
    const std::string check = "data directory";
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0) {
        if (required) {
            out.push_back(problem(check, fmt::format("{} does not exist", what), path,
                                  "point DATA_PATH at your data directory; on a new install, `starpunk serve` (or "
                                  "`starpunk migrate`) run as the server's user creates it"));
        } else {
            out.push_back(warning(check, fmt::format("{} does not exist yet", what), path,
                                  "`starpunk serve` creates it at start-up; if your notes should be there, the "
                                  "setting points at the wrong place"));
        }
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        out.push_back(problem(check, fmt::format("{} is not a directory", what), path,
                              "point the setting at a directory, or move the file out of the way"));
        return;
    }
    const bool readable = ::access(path.c_str(), R_OK | X_OK) == 0;
    const bool writable = ::access(path.c_str(), W_OK) == 0;
    if (!readable || !writable) {
        out.push_back(problem(check,
                              fmt::format("{} is not {} by {} (owner uid {}, mode {:o})", what,
                                          !readable ? "readable" : "writable", who(), st.st_uid, st.st_mode & 07777),
                              path,
                              fmt::format("run the server (and doctor) as the directory's owner, or give it to "
                                          "the server's user: chown -R <user> {}",
                                          path)));
        return;
    }
    if (st.st_uid != ::geteuid()) {
        out.push_back(warning(check,
                              fmt::format("{} is owned by uid {}, not by this user ({}); run doctor as the "
                                          "server's user to see what it sees",
                                          what, st.st_uid, who()),
                              path,
                              fmt::format("chown -R <user> {} if the server runs as another user than its owner",
                                          path)));
        return;
    }
    out.push_back(ok(check, fmt::format("{} exists, owned and writable by {}", what, who()), path));
}

// Names of migrations a database records (schema_migrations), or an error.
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
    while (true) {
        auto row = (*q)->step();
        if (!row) return std::move(row).error();
        if (!*row) break;
        names.insert((*q)->text(0));
    }
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

std::vector<Finding> check_directories(const config::Config& cfg) {
    std::vector<Finding> out;
    check_directory(out, "DATA_PATH", cfg.data_path, true);
    check_directory(out, "NOTES_PATH", cfg.notes_path, false);
    const std::string db_dir = storage::parent_dir(cfg.database_path);
    if (db_dir != cfg.data_path) check_directory(out, "the directory of DATABASE_PATH", db_dir, false);
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

std::vector<Finding> disk_findings(const DiskSpace& space, const std::string& path) {
    const std::string check = "disk";
    const std::string amount = fmt::format("{:.1f} MiB free ({:.1f} %)", static_cast<double>(space.free_bytes) / 1048576.0,
                                           space.free_percent);
    const std::string fix =
        "free space on this file system (old logs in DATA_PATH/logs, old backups, journalctl --vacuum-size), or "
        "move DATA_PATH to a larger disk";
    if (space.free_bytes < kCriticalFreeBytes) {
        return {problem(check, amount + ": note writes, the database's WAL and logging may fail", path, fix)};
    }
    if (space.free_percent < kLowDiskPercent) return {warning(check, amount + ": under 10 %", path, fix)};
    return {ok(check, amount, path)};
}

std::vector<Finding> check_disk(const config::Config& cfg) {
    auto space = disk_space(cfg.data_path);
    if (!space) return {problem("disk", space.error().message, cfg.data_path, "create DATA_PATH (see above)")};
    return disk_findings(*space, cfg.data_path);
}

std::vector<Finding> check_notes(const notes::NotesService& notes, notes::CheckDepth depth) {
    const std::string check = "notes";
    const std::string& root = notes.options().notes_path;
    auto report = notes.check(depth);
    if (!report) {
        return {problem(check, "cannot check the note files: " + report.error().message, root,
                        "see the database and data directory findings above")};
    }
    std::vector<Finding> out;
    for (const auto& p : report->problems) {
        const std::string where = root + "/" + p.file_path;
        const std::string note = p.slug.empty() ? "" : fmt::format(" (note {})", p.slug);
        if (p.problem.starts_with("orphan")) {
            out.push_back(warning(check, "orphan file: no database row" + note, where,
                                  "left by a crash between writing a file and committing its row: inspect it, then "
                                  "delete it or `starpunk import` it"));
        } else if (p.problem.starts_with("stale temporary")) {
            out.push_back(warning(check, "stale temporary file", where,
                                  "removed by the next `starpunk serve` start-up (or delete it while the server is "
                                  "stopped)"));
        } else {
            out.push_back(problem(check, p.problem + note, where,
                                  "restore this file from a backup (docs/backup.md); `starpunk check` lists every "
                                  "such note"));
        }
    }
    if (report->ok()) {
        out.push_back(ok(check,
                         depth == notes::CheckDepth::full
                             ? fmt::format("{} note file(s) present and matching their hashes", report->notes_checked)
                             : fmt::format("{} note file(s) present; the {} most recently changed match their hashes "
                                           "(--full hashes every one)",
                                           report->notes_checked, report->notes_hashed),
                         root));
    }
    return out;
}

std::vector<Finding> check_admin_endpoints(const config::Config& cfg, net::HttpClient& http) {
    const std::string check = "identity";
    if (cfg.admin_me.empty()) {
        return {warning(check, "ADMIN_ME is not set: only DEV_MODE's /dev/login can sign in", {},
                        "set ADMIN_ME to your site's address, e.g. ADMIN_ME=https://example.com/")};
    }
    auto found = auth::discover_endpoints(http, cfg.admin_me);
    std::vector<Finding> out;
    if (!found && found.error().code != ErrorCode::not_found) {
        out.push_back(problem(check, fmt::format("{} cannot be fetched: {}", cfg.admin_me, found.error().message),
                              {}, "make sure ADMIN_ME is your public homepage and reachable from this server"));
        return out;
    }
    if (!found) {
        out.push_back(warning(check,
                              fmt::format("{} names no authorization endpoint: login falls back to {}",
                                          cfg.admin_me, cfg.indielogin_url),
                              {},
                              cfg.indieauth_server
                                  ? "serve ADMIN_ME from this site (the built-in server advertises itself on "
                                    "every page) or add <link rel=\"indieauth-metadata\"> to it"
                                  : "add <link rel=\"authorization_endpoint\"> (or indieauth-metadata) to that page"));
    } else {
        out.push_back(ok(check, fmt::format("{} advertises authorization endpoint {}", cfg.admin_me,
                                            found->authorization_endpoint)));
    }
    const bool token_endpoint = found && !found->token_endpoint.empty();
    if (token_endpoint) {
        out.push_back(ok(check, fmt::format("token endpoint {}", found->token_endpoint)));
    } else if (!cfg.token_endpoint.empty()) {
        out.push_back(ok(check, fmt::format("no token endpoint advertised; TOKEN_ENDPOINT {} is used", cfg.token_endpoint)));
    } else {
        out.push_back(problem(check,
                              fmt::format("{} advertises no token endpoint and TOKEN_ENDPOINT is not set: Micropub "
                                          "clients cannot get their tokens verified (401)",
                                          cfg.admin_me),
                              {},
                              "advertise rel=\"token_endpoint\" (or indieauth-metadata) on ADMIN_ME, or set "
                              "TOKEN_ENDPOINT"));
    }
    return out;
}

}  // namespace starpunk::monitoring
