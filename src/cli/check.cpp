#include <spdlog/spdlog.h>

#include <cstdio>

#include "cli/commands.hpp"
#include "cli/runtime.hpp"
#include "media/media_service.hpp"

namespace starpunk::cli {

int check() {
    auto cfg = load_config_or_report(config::Purpose::maintenance);
    if (!cfg) return kExitUsage;
    auto storage = open_storage(*cfg);
    if (!storage) {
        spdlog::error("{}", storage.error().message);
        return kExitFailure;
    }
    auto report = storage->notes->check();
    if (!report) {
        spdlog::error("{}", report.error().message);
        return kExitFailure;
    }
    // Photos: every stored image against its hash; files no row names.
    media::MediaService media(storage::posix_fs(), storage->pool, system_clock(),
                              {cfg->data_path + "/media", cfg->data_path + "/uploads", {}});
    auto media_report = media.check();
    if (!media_report) {
        spdlog::error("{}", media_report.error().message);
        return kExitFailure;
    }
    bool db_ok = false;
    if (auto lease = storage->pool->acquire()) {
        auto stmt = (*lease)->prepare("PRAGMA integrity_check");
        if (stmt && (*stmt)->step().ok()) db_ok = (*stmt)->text(0) == "ok";
    }
    for (const auto& p : report->problems) {
        std::printf("%s: %s%s%s\n", p.problem.c_str(), p.file_path.c_str(), p.slug.empty() ? "" : " (note ",
                    p.slug.empty() ? "" : (p.slug + ")").c_str());
    }
    for (const auto& p : media_report->problems) std::printf("media file altered or missing: %s\n", p.c_str());
    for (const auto& p : media_report->orphans) std::printf("orphan media file (no database row): %s\n", p.c_str());
    const bool media_ok = media_report->problems.empty() && media_report->orphans.empty();
    std::printf("checked %zu media file(s): %zu problem(s), %zu orphan(s)\n", media_report->files_checked,
                media_report->problems.size(), media_report->orphans.size());
    if (!db_ok) std::printf("database: PRAGMA integrity_check failed\n");
    std::printf("checked %lld note(s): %zu problem(s)%s\n", static_cast<long long>(report->notes_checked),
                report->problems.size(), db_ok ? ", database ok" : ", database damaged");
    return report->ok() && media_ok && db_ok ? kExitOk : kExitFailure;
}

}  // namespace starpunk::cli
