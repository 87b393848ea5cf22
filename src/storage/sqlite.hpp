// A thin RAII layer over the SQLite C API. Errors are values: every fallible
// call returns Status/Result with SQLite's message and, where useful, the SQL.
//
// Thread-safety: a Connection (and its Statements) belongs to one thread at a
// time; share connections through storage/pool.hpp.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "util/result.hpp"

namespace starpunk::storage {

class Statement;

// Observer of every statement executed (metrics instrumentation). Called once
// per execution on the executing thread — when it finished, failed, or was
// reset after returning rows (then timed to its last row); must be cheap and
// not throw.
using StatementObserver = std::function<void(std::string_view sql, std::chrono::nanoseconds took, bool ok)>;

class Connection {
public:
    struct Options {
        double busy_timeout_seconds = 10.0;
        bool read_only = false;
        bool create = true;
    };

    // Opens (and with create, creates) the database, enables WAL, foreign keys
    // and the busy timeout.
    static Result<std::unique_ptr<Connection>> open(const std::string& path, const Options& options);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Runs one or more statements without results.
    Status exec(std::string_view sql);
    // Prepares a statement (cached per connection by SQL text).
    Result<Statement*> prepare(std::string_view sql);
    int64_t last_insert_rowid() const;
    int changes() const;
    sqlite3* raw() const { return db_; }
    const std::string& path() const { return path_; }

    void set_observer(StatementObserver observer) { observer_ = std::move(observer); }
    const StatementObserver& observer() const { return observer_; }

    // An error value from SQLite's last error on this connection.
    Error last_error(std::string_view what) const;

private:
    explicit Connection(sqlite3* db, std::string path);
    sqlite3* db_;
    std::string path_;
    StatementObserver observer_;
    struct Cache;
    std::unique_ptr<Cache> cache_;
};

// A prepared statement owned by its Connection's cache. prepare() hands it out
// reset with bindings cleared; when step() reports the end (false) or an error,
// the statement resets itself, so it can be bound and run again at once.
class Statement {
public:
    explicit Statement(Connection& conn, sqlite3_stmt* stmt) : conn_(conn), stmt_(stmt) {}
    ~Statement();
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    // Binding is 1-based like SQLite; chaining returns *this.
    Statement& bind(int index, std::string_view text);
    Statement& bind(int index, int64_t value);
    Statement& bind(int index, int value) { return bind(index, static_cast<int64_t>(value)); }
    Statement& bind(int index, double value);
    Statement& bind_null(int index);
    Statement& bind(int index, const std::string& text) { return bind(index, std::string_view(text)); }
    Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
    Statement& bind_optional(int index, const std::optional<std::string>& text);

    // Steps once: true when a row is available, false when done.
    Result<bool> step();
    // Runs to completion, ignoring rows.
    Status run();
    // Steps through the rows left, calling on_row(const Statement&) for each;
    // the first error ends it and is returned. Either way the statement has
    // reset itself (step()).
    template <typename OnRow>
    Status each_row(OnRow&& on_row) {
        while (true) {
            auto row = step();
            if (!row) return std::move(row).error();
            if (!*row) return {};
            on_row(static_cast<const Statement&>(*this));
        }
    }

    std::string text(int col) const;
    std::optional<std::string> optional_text(int col) const;
    int64_t integer(int col) const;
    double real(int col) const;
    bool is_null(int col) const;

    void reset();
    sqlite3_stmt* raw() const { return stmt_; }

private:
    Connection& conn_;
    sqlite3_stmt* stmt_;
    std::chrono::steady_clock::time_point started_{};
    std::chrono::steady_clock::time_point last_row_{};  // when the latest row arrived (observed statements)
    bool running_ = false;
};

// BEGIN (IMMEDIATE by default) on construction; ROLLBACK in the destructor
// unless commit() succeeded.
class Transaction {
public:
    enum class Kind { deferred, immediate };
    static Result<Transaction> begin(Connection& conn, Kind kind = Kind::immediate);
    Transaction(Transaction&& other) noexcept;
    Transaction& operator=(Transaction&&) = delete;
    ~Transaction();
    Status commit();

private:
    explicit Transaction(Connection& conn) : conn_(&conn) {}
    Connection* conn_;
    bool open_ = true;
};

// True when `table` exists (tables, virtual tables, views).
Result<bool> table_exists(Connection& conn, std::string_view table);
// True when `table` has a column called `column`.
Result<bool> column_exists(Connection& conn, std::string_view table, std::string_view column);

}  // namespace starpunk::storage

namespace starpunk::storage {

// Online backup (sqlite3_backup) of `source` into a new database file at
// `dest_path`, which must not exist. Consistent even while others write.
Status backup_database(Connection& source, const std::string& dest_path);

}  // namespace starpunk::storage
