// `starpunk doctor` (SPEC §13): what an operator would check by hand before
// blaming the software, each answer with the path at fault and the fix.
//
// Contract:
//   * Every check only reads: it never creates, migrates, repairs or deletes
//     (the database is opened read-only; note files are read, not written).
//   * A check returns findings, never throws; an unexpected error becomes a
//     problem finding that names what could not be checked.
//   * Findings never carry secrets (SESSION_SECRET, METRICS_TOKEN, tokens):
//     configuration findings name variables, not their values.
//   * Severity: problem — the site is broken or will break (doctor exits 1);
//     warning — it works, but something needs attention; ok — checked, fine.
//
// Extension point: a check is a function returning findings, run in order by
// run_checks(). A module with files of its own (media, issue 14) adds one
// function here (e.g. check_media_files, in its own doctor_media.cpp, with
// doctor_finding.hpp's helpers) and one line to cli/doctor.cpp.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "monitoring/disk.hpp"
#include "net/http_client.hpp"
#include "notes/notes_service.hpp"

namespace starpunk::monitoring {

enum class Severity { ok, warning, problem };

struct Finding {
    std::string check;    // "configuration", "data directory", "database", …
    Severity severity = Severity::ok;
    std::string message;  // what was found
    std::string path;     // the file or directory at fault; empty when none
    std::string fix;      // what to do; empty for ok
};

struct DoctorReport {
    std::vector<Finding> findings;
    int count(Severity s) const;
    bool healthy() const { return count(Severity::problem) == 0; }
};

struct NamedCheck {
    std::string name;
    std::function<std::vector<Finding>()> run;
};

// Runs `checks` in order; an exception escaping one becomes a problem finding.
DoctorReport run_checks(const std::vector<NamedCheck>& checks);

// The configuration as loaded (problems and warnings), plus what is valid but
// wrong for a public site: no SITE_URL outside DEV_MODE, http SITE_URL.
// `dotenv_error`: the .env file could not be parsed (empty when it could).
std::vector<Finding> check_configuration(const config::LoadedConfig& loaded, const std::string& dotenv_error);

// DATA_PATH, NOTES_PATH and the database's directory: each exists (a missing
// DATA_PATH is a problem; the others, which serve creates, a warning), is a
// directory, is readable and writable by this user (else a problem), and is
// owned by this user (else a warning: run doctor as the server's user).
std::vector<Finding> check_directories(const config::Config& cfg);

// The database file: present, opens read-only, PRAGMA quick_check
// (integrity_check when `full`), schema: migrations this binary would apply
// (warning) or ones it does not know (problem: a newer StarPunk wrote it);
// whether SQLite has FTS5 and the search index exists.
std::vector<Finding> check_database(const config::Config& cfg, bool full);

// Free space where DATA_PATH lives: under kCriticalFreeBytes a problem, under
// kLowDiskPercent a warning (monitoring/disk.hpp).
std::vector<Finding> check_disk(const config::Config& cfg);
// The same judgement of a measured `space` at `path`.
std::vector<Finding> disk_findings(const DiskSpace& space, const std::string& path);

// Note files against their hashes (NotesService::check at `depth`), orphan
// and stale temporary files.
std::vector<Finding> check_notes(const notes::NotesService& notes, notes::CheckDepth depth);

// ADMIN_ME's IndieAuth endpoints, fetched through `http` (outbound: only when
// the operator allows it). Login needs an authorization endpoint (else it
// falls back to INDIELOGIN_URL: warning); Micropub needs a token endpoint
// unless TOKEN_ENDPOINT is set or the built-in server issues the tokens.
std::vector<Finding> check_admin_endpoints(const config::Config& cfg, net::HttpClient& http);

}  // namespace starpunk::monitoring
