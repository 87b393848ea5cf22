// What a database metric says about a statement: its kind and main table,
// read from the SQL text alone (keywords only, no parsing), and the text cut
// for display. Allocation-free: the observer calls these for every recorded
// statement.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace starpunk::metrics {

struct StatementShape {
    // First keyword, canonical upper case (SELECT, INSERT, UPDATE, DELETE,
    // REPLACE, WITH, PRAGMA, BEGIN, COMMIT, ROLLBACK, CREATE, DROP, ALTER, …);
    // "OTHER" for an unknown first word, "" for no word at all. Static storage.
    std::string_view kind;
    // The table read or written (FROM / INTO / UPDATE / TABLE / INDEX / PRAGMA
    // name), without quotes or schema: a view into the SQL; "" if none.
    std::string_view table;
};

// Never fails: unknown shapes give empty fields. Skips comments, string
// literals and quoting ("notes", `notes`, [notes] and main.notes all give notes).
StatementShape classify_sql(std::string_view sql);

// The first bytes of `sql` that fit `out`, with runs of whitespace folded to
// one space, cut on a UTF-8 character boundary. Returns a view into `out`.
std::string_view shorten_sql(std::string_view sql, std::span<char> out);

inline constexpr size_t kSqlDisplayBytes = 200;

}  // namespace starpunk::metrics
