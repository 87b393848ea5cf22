// Schema migrations (SPEC §2.2, §10): an ordered, append-only list.
//
// Invariants:
//   1. Names never change and entries are only ever appended.
//   2. Every migration is idempotent by inspection: it checks which tables,
//      columns and indexes exist and creates only what is missing, so a
//      StarPunk 1.1.x database (which may lack schema_migrations rows for
//      things it already has) gets only what it lacks.
//   3. The runner holds SQLite's write lock (BEGIN IMMEDIATE on a dedicated
//      connection) for the whole run; each migration runs in its own savepoint
//      and is recorded in schema_migrations in the same transaction. Another
//      process starting at the same time retries with exponential backoff and
//      jitter, then finds nothing left to do.
//   4. A failing migration rolls everything back and the error says which one
//      failed and what to do.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "storage/sqlite.hpp"

namespace starpunk::storage {

struct Migration {
    std::string name;
    std::function<Status(Connection&)> apply;  // idempotent, see invariant 2
};

// The list, in order.
const std::vector<Migration>& migrations();

struct MigrationOptions {
    int attempts = 10;
    std::chrono::milliseconds first_delay{100};
    std::chrono::milliseconds max_total_wait{120'000};
    double busy_timeout_seconds = 1.0;  // per attempt, before backing off
};

struct MigrationReport {
    std::vector<std::string> applied;  // names run by this call
    int attempts = 1;                  // how many tries the write lock took
};

// Creates the database file if needed and brings it to the current schema.
Result<MigrationReport> run_migrations(const std::string& database_path, const MigrationOptions& options = {});

// True when SQLite was built with FTS5 (checked once, cached).
bool fts5_available();

}  // namespace starpunk::storage
