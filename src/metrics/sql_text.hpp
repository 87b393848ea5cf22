// What a database metric says about a statement: its kind and main table,
// read from the SQL text alone (no parsing beyond keywords), and the text cut
// for display.
#pragma once

#include <string>
#include <string_view>

namespace starpunk::metrics {

struct StatementShape {
    std::string kind;   // first keyword, upper case: SELECT, INSERT, UPDATE, DELETE, PRAGMA, BEGIN, …; "" if none
    std::string table;  // the table read or written (FROM / INTO / UPDATE / TABLE / PRAGMA name); "" if none
};

// Never fails: unknown shapes give empty fields. Skips comments, string
// literals and quoting ("notes", `notes`, [notes] all give notes).
StatementShape classify_sql(std::string_view sql);

// The first `max_bytes` bytes of `sql` with runs of whitespace folded to one
// space, cut on a UTF-8 character boundary.
std::string shorten_sql(std::string_view sql, size_t max_bytes = 200);

}  // namespace starpunk::metrics
