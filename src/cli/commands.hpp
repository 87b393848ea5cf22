// The `starpunk` command line (SPEC §13). Exit codes: 0 ok, 1 runtime failure,
// 2 bad usage or configuration. One file per command.
#pragma once

#include <string>

namespace starpunk::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

int run(int argc, char** argv);

// Load configuration, open storage, serve until SIGTERM/SIGINT.
int serve();
// Apply pending migrations and exit.
int migrate();
// Verify every note file against its hash, list orphans; 1 on any problem.
int check();
// Online backup of the database plus the note files into `dest`.
int backup(const std::string& dest);
// Import every *.md under `dir` as a note.
int import_notes(const std::string& dir, bool as_draft);
// Rebuild the search index from the note files (progress bar on a terminal).
int reindex();
struct DoctorOptions {
    bool full = false;    // hash every note file and run integrity_check (else quick)
    bool online = false;  // fetch ADMIN_ME to check its IndieAuth endpoints
};
// Read-only health check of configuration, directories, database, disk, notes
// (and ADMIN_ME's endpoints when online); every finding with its fix.
// 0 when nothing is a problem, 1 otherwise.
int doctor(const DoctorOptions& options);
// Set the owner's password (read from the terminal or stdin), or remove it.
int set_password(bool remove);
int set_totp(bool remove);
// Print the route table (web/routes.cpp), one JSON object a line:
// {"method","pattern","access" (web/access.hpp's class name),"admin","called_cross_site"}.
// Reads no configuration and touches no data: the table is built over an
// empty site in a scratch directory.
int routes();

}  // namespace starpunk::cli
