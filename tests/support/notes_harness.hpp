// A NotesService on a temporary DATA_PATH: migrated database, connection pool,
// fake clock, and either the real file system or a FaultFs over it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "notes/notes_service.hpp"
#include "storage/migrations.hpp"
#include "storage/pool.hpp"
#include "support/fault_fs.hpp"
#include "support/temp_dir.hpp"
#include "util/clock.hpp"

namespace starpunk::testing {

// 2024-11-18 12:34:56.123456 UTC
inline Timestamp test_epoch() {
    using namespace std::chrono;
    return sys_days{year{2024} / November / 18} + hours{12} + minutes{34} + seconds{56} + microseconds{123456};
}

struct NotesHarness {
    struct Options {
        bool fault_fs = false;
        size_t max_content_bytes = 1024 * 1024;
        int pool_size = 5;
        bool migrate = true;  // false: the caller prepared the database (fixtures)
        // How often other connections' writes are looked for (0: on every
        // poll, so a test sees them at once).
        std::chrono::milliseconds external_check{0};
        std::function<Result<notes::RenderedNote>(std::string_view)> render;  // NotesService::Options::render
    };

    TempDir dir;
    std::string db_path = dir / "starpunk.db";
    std::string notes_path = dir / "notes";
    FakeClock clock{test_epoch()};
    FaultFs fault;
    std::shared_ptr<storage::ConnectionPool> pool;
    std::unique_ptr<notes::NotesService> service;

    NotesHarness() : NotesHarness(Options{}) {}
    explicit NotesHarness(Options o) : options(o) {}

    // Migrates (unless told not to) and opens pool + service. Returns an error
    // message, empty on success.
    std::string start() {
        if (options.migrate) {
            auto m = storage::run_migrations(db_path);
            if (!m) return m.error().message;
        }
        storage::ConnectionPool::Options po;
        po.path = db_path;
        po.size = options.pool_size;
        auto p = storage::ConnectionPool::open(po);
        if (!p) return p.error().message;
        pool = *p;
        notes::NotesService::Options so{notes_path, options.max_content_bytes, options.external_check};
        so.render = options.render;
        service = std::make_unique<notes::NotesService>(pool, fs(), clock, std::move(so));
        return {};
    }

    storage::FileSystem& fs() { return options.fault_fs ? static_cast<storage::FileSystem&>(fault) : storage::posix_fs(); }
    notes::NotesService& svc() { return *service; }

    // Runs SQL on a pooled connection; returns the error message, empty on success.
    std::string sql(const std::string& text) {
        auto lease = pool->acquire();
        if (!lease) return lease.error().message;
        auto st = (**lease).exec(text);
        return st ? std::string() : st.error().message;
    }
    // First column of the first row as text ("" when no row or NULL).
    std::string sql_text(const std::string& query) {
        auto lease = pool->acquire();
        if (!lease) return "<" + lease.error().message + ">";
        auto stmt = (**lease).prepare(query);
        if (!stmt) return "<" + stmt.error().message + ">";
        auto row = (*stmt)->step();
        std::string out = row && *row ? (*stmt)->text(0) : std::string();
        (*stmt)->reset();
        return out;
    }

    Options options;
};

}  // namespace starpunk::testing
