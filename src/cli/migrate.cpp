#include <spdlog/spdlog.h>

#include "cli/commands.hpp"
#include "cli/runtime.hpp"
#include "storage/fs.hpp"
#include "storage/migrations.hpp"

namespace starpunk::cli {

int migrate() {
    auto cfg = load_config_or_report(config::Purpose::maintenance);
    if (!cfg) return kExitUsage;
    if (auto st = storage::posix_fs().create_dirs(storage::parent_dir(cfg->database_path)); !st) {
        spdlog::error("{}", st.error().message);
        return kExitFailure;
    }
    auto report = storage::run_migrations(cfg->database_path);
    if (!report) {
        spdlog::error("{}", report.error().message);
        return kExitFailure;
    }
    for (const auto& name : report->applied) std::printf("applied %s\n", name.c_str());
    std::printf("database %s is up to date (%zu migration(s) applied now)\n", cfg->database_path.c_str(),
                report->applied.size());
    return kExitOk;
}

}  // namespace starpunk::cli
