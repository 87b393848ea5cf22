// A reader's search query, parsed once into what the two search modes need
// (SPEC §7). Pure functions, thread-safe.
//
// The query language is deliberately tiny: whitespace (and any control
// character) separates terms, and a note matches when it contains every term
// (AND). There are no operators — `AND`, `OR`, `NOT`, `NEAR(`, `*`, `"`, `:`
// and parentheses are ordinary characters — so no input can be "malformed".
//
// FTS5 mode: each term becomes a quoted FTS5 phrase (`"` doubled inside), the
// phrases are joined with spaces (FTS5's implicit AND) and the result is bound
// as a parameter of `notes_fts MATCH ?`. Inside a phrase FTS5 tokenizes the
// term like the indexed text (unicode61: letters, numbers and private-use
// characters are token characters, the rest separate tokens), so `foo*(`
// searches for `foo` and `e-mail` for the phrase `e mail`. Terms without any
// token character (`"`, `!!!`, `—`) are dropped: as phrases they would match
// nothing and turn the whole AND into "no results". No prefix queries: a
// prefix such as `a*` expands to every indexed word starting with `a`, which
// is exactly the unbounded cost SPEC §7 rules out.
//
// Fallback mode: each term is matched as a case-insensitive substring of the
// note's Markdown file, punctuation and all.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace starpunk::search {

// Longer queries are refused (invalid_input): nobody types 500 bytes into a
// search box, and every term costs a phrase lookup.
inline constexpr std::size_t kMaxQueryBytes = 500;
// Terms after the 16th are ignored.
inline constexpr std::size_t kMaxTerms = 16;

struct ParsedQuery {
    std::string text;                 // the query, trimmed
    std::vector<std::string> terms;   // whitespace-separated, in order, at most kMaxTerms
    std::string fts_expression;       // FTS5 MATCH expression; empty when no term has a token character
    std::vector<std::string> fts_words;  // the terms with non-token characters trimmed from both ends (highlighting)
};

// Errors: invalid_input when the query is blank, longer than kMaxQueryBytes,
// or not valid UTF-8.
Result<ParsedQuery> parse_query(std::string_view query);

// True for code points FTS5's unicode61 tokenizer treats as part of a token:
// general categories L*, N* and Co.
bool is_token_char(char32_t cp);

}  // namespace starpunk::search
