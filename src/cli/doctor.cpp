// `starpunk doctor`: runs the read-only checks of monitoring/doctor.hpp in
// order and prints every finding with the path at fault and the fix.
// Exit 0 when no check found a problem (warnings allowed), 1 otherwise.
#include <unistd.h>

#include <cstdio>
#include <sys/stat.h>

#include "cli/commands.hpp"
#include "monitoring/doctor.hpp"
#include "net/http_client.hpp"
#include "storage/fs.hpp"
#include "storage/pool.hpp"
#include "util/clock.hpp"

namespace starpunk::cli {

namespace {

const char* label(monitoring::Severity s) {
    switch (s) {
        case monitoring::Severity::ok: return "ok     ";
        case monitoring::Severity::warning: return "WARNING";
        case monitoring::Severity::problem: return "PROBLEM";
    }
    return "?";
}

void print(const monitoring::Finding& f) {
    std::printf("%s  %s: %s\n", label(f.severity), f.check.c_str(), f.message.c_str());
    if (!f.path.empty()) std::printf("         at:  %s\n", f.path.c_str());
    if (!f.fix.empty()) std::printf("         fix: %s\n", f.fix.c_str());
}

bool exists(const std::string& path) {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0;
}

// The notes check needs the database and the notes directory as they are:
// doctor opens nothing it would have to create.
std::vector<monitoring::Finding> notes_findings(const config::Config& cfg, notes::CheckDepth depth) {
    if (!exists(cfg.database_path) || !exists(cfg.notes_path)) {
        return {{"notes", monitoring::Severity::warning, "not checked: no database or notes directory yet", {},
                 "see the findings above"}};
    }
    auto pool = storage::ConnectionPool::open({cfg.database_path, 1, cfg.db_timeout_seconds, {}});
    if (!pool) {
        return {{"notes", monitoring::Severity::problem, "not checked: " + pool.error().message, cfg.database_path,
                 "see the database findings above"}};
    }
    notes::NotesService service(*pool, storage::posix_fs(), system_clock(),
                                {cfg.notes_path, cfg.max_note_bytes});
    return monitoring::check_notes(service, depth);
}

}  // namespace

int doctor(const DoctorOptions& options) {
    std::string dotenv_error;
    auto env = config::read_environment(".env");
    if (!env) {
        dotenv_error = env.error().message;
        env = config::read_environment("/dev/null");  // the process environment alone
    }
    const config::LoadedConfig loaded = config::load_config(env ? *env : config::Environment{}, config::Purpose::serve);
    const config::Config& cfg = loaded.config;
    const auto depth = options.full ? notes::CheckDepth::full : notes::CheckDepth::quick;

    std::vector<monitoring::NamedCheck> checks = {
        {"configuration", [&] { return monitoring::check_configuration(loaded, dotenv_error); }},
        {"data directory", [&] { return monitoring::check_directories(cfg); }},
        {"database", [&] { return monitoring::check_database(cfg, options.full); }},
        {"disk", [&] { return monitoring::check_disk(cfg); }},
        {"notes", [&] { return notes_findings(cfg, depth); }},
        // Files of other modules (media, issue 14) add their check here.
    };
    net::CurlHttpClient http(net::Policy::outbound(cfg.outbound_http_allowed()));
    if (options.online) {
        checks.push_back({"identity", [&] { return monitoring::check_admin_endpoints(cfg, http); }});
    } else {
        checks.push_back({"identity", [] {
                              return std::vector<monitoring::Finding>{
                                  {"identity", monitoring::Severity::ok,
                                   "ADMIN_ME's endpoints not checked (no outbound requests without --online)", {}, {}}};
                          }});
    }

    const auto report = monitoring::run_checks(checks);
    for (const auto& f : report.findings) print(f);
    const int problems = report.count(monitoring::Severity::problem);
    const int warnings = report.count(monitoring::Severity::warning);
    std::printf("\n%s: %d problem(s), %d warning(s)%s\n", problems == 0 ? "healthy" : "unhealthy", problems, warnings,
                options.full ? "" : " (quick mode; --full reads every note and runs integrity_check)");
    return problems == 0 ? kExitOk : kExitFailure;
}

}  // namespace starpunk::cli
