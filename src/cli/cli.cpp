#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "cli/commands.hpp"
#include "log/log.hpp"
#include "render/worker.hpp"
#include "starpunk_version.hpp"

namespace starpunk::cli {

int run(int argc, char** argv) {
    // The server's own render workers (render/isolated.hpp): not a user
    // command, so it bypasses configuration and the command-line parser.
    if (argc == 3 && std::string_view(argv[1]) == "render-worker") {
        return render::run_worker(0, std::strtoull(argv[2], nullptr, 10));
    }
    CLI::App app{"StarPunk — a minimal single-user IndieWeb CMS.\n"
                 "Configuration comes from the environment and ./.env (see docs/configuration.md)."};
    app.require_subcommand(0, 1);
    app.set_version_flag("--version", std::string(kVersion));
    auto* serve_cmd = app.add_subcommand("serve", "Run the web server (the default)");
    auto* version_cmd = app.add_subcommand("version", "Print the version and exit");
    auto* migrate_cmd = app.add_subcommand("migrate", "Apply pending database migrations and exit");
    auto* check_cmd = app.add_subcommand("check", "Verify every note's file and hash; list orphan files");
    std::string backup_dest;
    auto* backup_cmd = app.add_subcommand("backup", "Copy the database (online) and the notes into DEST");
    backup_cmd->add_option("dest", backup_dest, "New directory to create, laid out like DATA_PATH")->required();
    std::string import_dir;
    bool import_draft = false;
    auto* import_cmd = app.add_subcommand("import", "Import every *.md file under DIR as a note");
    import_cmd->add_option("dir", import_dir, "Directory to import (searched recursively)")->required();
    import_cmd->add_flag("--draft", import_draft, "Import as drafts instead of published notes");
    auto* reindex_cmd = app.add_subcommand("reindex", "Rebuild the search index from the note files");
    bool remove_password = false;
    auto* password_cmd = app.add_subcommand(
        "set-password", "Set the owner's password for /auth/login, read from the terminal (no echo) or stdin");
    password_cmd->add_flag("--remove", remove_password, "Remove the password instead (password login stops)");
    DoctorOptions doctor_options;
    auto* doctor_cmd = app.add_subcommand(
        "doctor", "Check configuration, permissions, database, search, disk space and note files; say what to fix");
    doctor_cmd->add_flag("--full", doctor_options.full,
                         "Hash every note file and run a full integrity_check (default: quick)");
    doctor_cmd->add_flag("--online", doctor_options.online,
                         "Also fetch ADMIN_ME and check its IndieAuth endpoints (an outbound request)");
    bool remove_totp = false;
    auto* totp_cmd = app.add_subcommand(
        "set-totp", "Turn on TOTP as the password login's second factor: prints a new secret once");
    totp_cmd->add_flag("--remove", remove_totp, "Turn TOTP off instead (the password alone logs in)");
    auto* routes_cmd = app.add_subcommand(
        "routes", "Print every route (method, path pattern, who may call it) as JSON lines, and exit");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int code = app.exit(e);
        return code == 0 ? kExitOk : kExitUsage;
    }
    if (*version_cmd) {
        std::printf("starpunk %s\n", kVersion);
        return kExitOk;
    }
    (void)log::init({});
    if (*routes_cmd) return routes();
    if (*migrate_cmd) return migrate();
    if (*check_cmd) return check();
    if (*backup_cmd) return backup(backup_dest);
    if (*import_cmd) return import_notes(import_dir, import_draft);
    if (*reindex_cmd) return reindex();
    if (*password_cmd) return set_password(remove_password);
    if (*doctor_cmd) return doctor(doctor_options);
    if (*totp_cmd) return set_totp(remove_totp);
    (void)serve_cmd;
    return serve();
}

}  // namespace starpunk::cli
