#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>

#include "cli/commands.hpp"
#include "cli/runtime.hpp"
#include "search/search_service.hpp"

namespace starpunk::cli {

int reindex() {
    auto cfg = load_config_or_report(config::Purpose::maintenance);
    if (!cfg) return kExitUsage;
    auto storage = open_storage(*cfg);
    if (!storage) {
        spdlog::error("{}", storage.error().message);
        return kExitFailure;
    }
    // The index is kept up to date by every write even while SEARCH_FORCE_FALLBACK
    // is set, so it is rebuilt whatever that setting says.
    auto service = search::SearchService::open(*storage->notes, {});
    if (!service) {
        spdlog::error("{}", service.error().message);
        return kExitFailure;
    }
    if ((*service)->mode() != search::Mode::fts) {
        std::fprintf(stderr, "starpunk reindex: this SQLite has no FTS5 (or the database has no notes_fts table); "
                             "search scans the note files instead and there is no index to rebuild\n");
        return kExitFailure;
    }
    const bool progress = stderr_is_terminal();
    size_t last_drawn = 0;
    auto report = (*service)->rebuild([&](size_t done, size_t total) {
        // At most ~200 redraws, however many notes there are.
        if (progress && (done == total || done - last_drawn >= std::max<size_t>(1, total / 200))) {
            draw_progress(done, total, "notes");
            last_drawn = done;
        }
    });
    if (!report) {
        spdlog::error("reindex failed, the old index is unchanged: {}", report.error().message);
        return kExitFailure;
    }
    for (const auto& f : report->failed) spdlog::error("not indexed: {}", f);
    std::printf("indexed %lld, failed %zu\n", static_cast<long long>(report->indexed), report->failed.size());
    return report->failed.empty() ? kExitOk : kExitFailure;
}

}  // namespace starpunk::cli
