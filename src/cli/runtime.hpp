// What every command needs before it can work: the validated configuration and
// the opened, migrated storage. Commands call these, report, and pick an exit code.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "config/config.hpp"
#include "notes/notes_service.hpp"
#include "search/search_service.hpp"
#include "storage/pool.hpp"

namespace starpunk::cli {

// Reads .env + environment and validates. On any problem prints every one of
// them to stderr and returns nullopt (the caller exits 2).
std::optional<config::Config> load_config_or_report(config::Purpose purpose);

// The configuration read again with `overrides` on top of the environment
// (serve: SITE_URL following the listening address). Warnings are not
// repeated; a problem (impossible unless an override is bad) is an error.
Result<config::Config> load_config_with(config::Purpose purpose, const config::Environment& overrides);

struct Storage {
    std::shared_ptr<storage::ConnectionPool> pool;
    std::unique_ptr<notes::NotesService> notes;
};

// Creates DATA_PATH and NOTES_PATH, runs pending migrations (logging what ran),
// opens the connection pool and the notes service.
// `observer` (metrics) is installed on every pooled connection;
// `render` becomes NotesService::Options::render (the server's render gate,
// whose renderings are stored with the notes; command-line tools pass none).
Result<Storage> open_storage(const config::Config& cfg, storage::StatementObserver observer = {},
                             std::function<Result<notes::RenderedNote>(std::string_view)> render = {});

// The search service (SEARCH_FORCE_FALLBACK honoured). When search is enabled
// and runs on FTS5, an index that is empty although notes exist is rebuilt
// first (logged; a note whose file cannot be read is left out with a warning).
Result<std::unique_ptr<search::SearchService>> open_search(const config::Config& cfg, Storage& storage);

// True when stderr is a terminal (progress bars).
bool stderr_is_terminal();
// Draws "\r[#####.....] done/total label" on stderr; call with done == total to finish the line.
void draw_progress(size_t done, size_t total, std::string_view label);

}  // namespace starpunk::cli
