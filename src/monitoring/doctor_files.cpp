// doctor's checks of what lies on disk: the directories, free space, the note
// files (monitoring/doctor.hpp has the contract).
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "monitoring/disk.hpp"
#include "monitoring/doctor.hpp"
#include "monitoring/doctor_finding.hpp"
#include "storage/fs.hpp"

namespace starpunk::monitoring {

using detail::ok;
using detail::problem;
using detail::warning;
using detail::who;

namespace {

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

}  // namespace

std::vector<Finding> check_directories(const config::Config& cfg) {
    std::vector<Finding> out;
    check_directory(out, "DATA_PATH", cfg.data_path, true);
    check_directory(out, "NOTES_PATH", cfg.notes_path, false);
    const std::string db_dir = storage::parent_dir(cfg.database_path);
    if (db_dir != cfg.data_path) check_directory(out, "the directory of DATABASE_PATH", db_dir, false);
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

}  // namespace starpunk::monitoring
