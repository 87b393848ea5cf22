// What every command needs before it can work: the validated configuration and
// the opened, migrated storage. Commands call these, report, and pick an exit code.
#pragma once

#include <memory>
#include <optional>

#include "config/config.hpp"
#include "notes/notes_service.hpp"
#include "storage/pool.hpp"

namespace starpunk::cli {

// Reads .env + environment and validates. On any problem prints every one of
// them to stderr and returns nullopt (the caller exits 2).
std::optional<config::Config> load_config_or_report(config::Purpose purpose);

struct Storage {
    std::shared_ptr<storage::ConnectionPool> pool;
    std::unique_ptr<notes::NotesService> notes;
};

// Creates DATA_PATH and NOTES_PATH, runs pending migrations (logging what ran),
// opens the connection pool and the notes service.
Result<Storage> open_storage(const config::Config& cfg);

// True when stderr is a terminal (progress bars).
bool stderr_is_terminal();
// Draws "\r[#####.....] done/total label" on stderr; call with done == total to finish the line.
void draw_progress(size_t done, size_t total, std::string_view label);

}  // namespace starpunk::cli
