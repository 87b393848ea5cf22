#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/commands.hpp"
#include "starpunk_version.hpp"

namespace starpunk::cli {

int run(int argc, char** argv) {
    CLI::App app{"StarPunk — a minimal single-user IndieWeb CMS.\n"
                 "Configuration comes from the environment and ./.env (see docs/configuration.md)."};
    app.require_subcommand(0, 1);
    app.set_version_flag("--version", std::string(kVersion));
    auto* serve_cmd = app.add_subcommand("serve", "Run the web server (the default)");
    auto* version_cmd = app.add_subcommand("version", "Print the version and exit");
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
    (void)serve_cmd;
    return serve();
}

}  // namespace starpunk::cli
