#include "storage/sqlite.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <unordered_map>

namespace starpunk::storage {

namespace {

// The disk (or quota) is full: SQLITE_FULL (SQLite's answer to a write that
// hit ENOSPC), or an I/O error whose system errno says so (an fsync, a
// truncate). `sys` is sqlite3_system_errno(), meaningful only after an IOERR.
bool full(int rc, int sys) {
    return (rc & 0xFF) == SQLITE_FULL || ((rc & 0xFF) == SQLITE_IOERR && (sys == ENOSPC || sys == EDQUOT));
}

}  // namespace

struct Connection::Cache {
    std::unordered_map<std::string, std::unique_ptr<Statement>> statements;
};

Connection::Connection(sqlite3* db, std::string path)
    : db_(db), path_(std::move(path)), cache_(std::make_unique<Cache>()) {}

Connection::~Connection() {
    cache_.reset();  // finalize statements before closing
    sqlite3_close_v2(db_);
}

Error Connection::last_error(std::string_view what) const {
    int code = sqlite3_extended_errcode(db_);
    ErrorCode ec = ErrorCode::io;
    if ((code & 0xFF) == SQLITE_CONSTRAINT) ec = ErrorCode::conflict;
    if ((code & 0xFF) == SQLITE_MISUSE || (code & 0xFF) == SQLITE_ERROR) ec = ErrorCode::internal;
    if (full(code, sqlite3_system_errno(db_))) ec = ErrorCode::no_space;
    return make_error(ec, fmt::format("{}: {} (sqlite {})", what, sqlite3_errmsg(db_), code));
}

Result<std::unique_ptr<Connection>> Connection::open(const std::string& path, const Options& options) {
    sqlite3* db = nullptr;
    int flags = SQLITE_OPEN_NOMUTEX | (options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE);
    if (options.create && !options.read_only) flags |= SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        sqlite3_close_v2(db);
        return make_error(ErrorCode::io, fmt::format("cannot open database {}: {}", path, msg));
    }
    std::unique_ptr<Connection> conn(new Connection(db, path));
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, static_cast<int>(options.busy_timeout_seconds * 1000));
    // cache_size: 1 MiB of pages per connection (SQLite's default is 2 MB):
    // the operating system caches the file too, and the server keeps up to
    // DB_POOL_SIZE + 2 connections within its memory budget (SPEC §14).
    const char* setup = options.read_only
                            ? "PRAGMA foreign_keys=ON; PRAGMA cache_size=-1024;"
                            : "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-1024;";
    if (auto st = conn->exec(setup); !st) return std::move(st).error();
    return conn;
}

Status Connection::exec(std::string_view sql) {
    std::string s(sql);
    char* err = nullptr;
    auto start = std::chrono::steady_clock::now();
    int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
    if (observer_) observer_(sql, std::chrono::steady_clock::now() - start, rc == SQLITE_OK);
    if (rc != SQLITE_OK) {
        std::string msg = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        ErrorCode ec = (rc & 0xFF) == SQLITE_CONSTRAINT ? ErrorCode::conflict : ErrorCode::io;
        if (full(rc, sqlite3_system_errno(db_))) ec = ErrorCode::no_space;
        return make_error(ec, fmt::format("SQL failed: {} (sqlite {})", msg, rc));
    }
    return {};
}

Result<Statement*> Connection::prepare(std::string_view sql) {
    auto it = cache_->statements.find(std::string(sql));
    if (it != cache_->statements.end()) {
        it->second->reset();
        return it->second.get();
    }
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                                nullptr);
    if (rc != SQLITE_OK) return last_error(fmt::format("cannot prepare \"{}\"", sql.substr(0, 200)));
    auto owned = std::make_unique<Statement>(*this, stmt);
    Statement* raw_stmt = owned.get();
    cache_->statements.emplace(std::string(sql), std::move(owned));
    return raw_stmt;
}

int64_t Connection::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
int Connection::changes() const { return sqlite3_changes(db_); }

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::bind(int index, std::string_view text) {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
}
Statement& Statement::bind(int index, int64_t value) {
    sqlite3_bind_int64(stmt_, index, value);
    return *this;
}
Statement& Statement::bind(int index, double value) {
    sqlite3_bind_double(stmt_, index, value);
    return *this;
}
Statement& Statement::bind_null(int index) {
    sqlite3_bind_null(stmt_, index);
    return *this;
}
Statement& Statement::bind_optional(int index, const std::optional<std::string>& text) {
    return text ? bind(index, std::string_view(*text)) : bind_null(index);
}

Result<bool> Statement::step() {
    if (!running_) {
        running_ = true;
        started_ = std::chrono::steady_clock::now();
    }
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) {
        if (conn_.observer()) last_row_ = std::chrono::steady_clock::now();
        return true;
    }
    running_ = false;
    bool ok = rc == SQLITE_DONE;
    if (const auto& obs = conn_.observer()) obs(sqlite3_sql(stmt_), std::chrono::steady_clock::now() - started_, ok);
    if (ok) {
        reset();  // ready for the next bind/step; a finished statement holds no locks
        return false;
    }
    auto err = conn_.last_error(fmt::format("statement \"{}\" failed", std::string_view(sqlite3_sql(stmt_)).substr(0, 200)));
    reset();
    return err;
}

Status Statement::run() {
    while (true) {
        auto r = step();
        if (!r) return std::move(r).error();
        if (!*r) return {};
    }
}

std::string Statement::text(int col) const {
    auto p = sqlite3_column_text(stmt_, col);
    int n = sqlite3_column_bytes(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}
std::optional<std::string> Statement::optional_text(int col) const {
    if (is_null(col)) return std::nullopt;
    return text(col);
}
int64_t Statement::integer(int col) const { return sqlite3_column_int64(stmt_, col); }
double Statement::real(int col) const { return sqlite3_column_double(stmt_, col); }
bool Statement::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

void Statement::reset() {
    // A statement abandoned after some rows (a point lookup, COUNT) ran too:
    // report it, timed to its last row rather than to this reset.
    if (running_) {
        if (const auto& obs = conn_.observer()) obs(sqlite3_sql(stmt_), last_row_ - started_, true);
    }
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    running_ = false;
}

Result<Transaction> Transaction::begin(Connection& conn, Kind kind) {
    if (auto st = conn.exec(kind == Kind::immediate ? "BEGIN IMMEDIATE" : "BEGIN"); !st) return std::move(st).error();
    return Transaction(conn);
}

Transaction::Transaction(Transaction&& other) noexcept : conn_(other.conn_), open_(other.open_) { other.open_ = false; }

Transaction::~Transaction() {
    if (open_) (void)conn_->exec("ROLLBACK");
}

Status Transaction::commit() {
    if (!open_) return make_error(ErrorCode::internal, "transaction already finished");
    auto st = conn_->exec("COMMIT");
    if (st) open_ = false;
    return st;
}

Result<bool> table_exists(Connection& conn, std::string_view table) {
    auto stmt = conn.prepare("SELECT 1 FROM sqlite_master WHERE name = ?1 AND type IN ('table','view')");
    if (!stmt) return std::move(stmt).error();
    (*stmt)->bind(1, table);
    auto r = (*stmt)->step();
    (*stmt)->reset();
    return r;
}

Result<bool> column_exists(Connection& conn, std::string_view table, std::string_view column) {
    auto stmt = conn.prepare("SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2");
    if (!stmt) return std::move(stmt).error();
    (*stmt)->bind(1, table).bind(2, column);
    auto r = (*stmt)->step();
    (*stmt)->reset();
    return r;
}

}  // namespace starpunk::storage

namespace starpunk::storage {

Status backup_database(Connection& source, const std::string& dest_path) {
    auto dest = Connection::open(dest_path, {});
    if (!dest) return std::move(dest).error();
    sqlite3_backup* b = sqlite3_backup_init((*dest)->raw(), "main", source.raw(), "main");
    if (!b) return (*dest)->last_error("cannot start the backup");
    int rc;
    do {
        rc = sqlite3_backup_step(b, 256);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) sqlite3_sleep(20);
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) return (*dest)->last_error("backup failed");
    return {};
}

}  // namespace starpunk::storage
