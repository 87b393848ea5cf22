// A reader's search query, parsed once into a small syntax tree that both
// search modes evaluate (SPEC §7). Pure functions, thread-safe.
//
// The syntax (docs/search.md):
//   word            a note must contain it; several words are AND-ed
//   "two words"     a phrase: the words in this order, only spaces or
//                   punctuation between them (“curly quotes” work too); an
//                   unbalanced quote runs to the end of the query
//   a OR b          either (OR binds tighter than the implicit AND:
//                   `x a OR b` is x AND (a OR b)); `OR` only in capitals
//   -word, NOT word leave out notes containing it (`-"a phrase"` too)
//   word*           words starting with `word`, only when the part before `*`
//                   ends in at least kMinPrefixChars letters or digits
//                   (a shorter prefix is the plain word: bounded cost)
//   AND             optional, ignored
// Everything else — parentheses, `NEAR(`, `^`, `+`, column filters such as
// `title:x` — is ordinary punctuation inside a word. No input is malformed:
// an operator without an operand is ignored, and a term without any token
// character (letter, digit; see is_token_char) is dropped.
//
// Tokens: a term's tokens are its runs of token characters (what FTS5's
// unicode61 tokenizer indexes), so `e-mail` is the two-token phrase "e mail".
//
// Invariants of a ParsedQuery from parse_query():
//   1. Every Term has at least one token; every Clause at least one Term; at
//      most kMaxTerms terms in all (the rest of the query is ignored).
//   2. usable() (some clause to look for) <=> fts_expression is non-empty
//      <=> hint is empty. A query that only excludes (`-park`) or holds no
//      token at all (`!!!`, a lone `OR`) is unusable: no note matches it and
//      `hint` says what to change.
//   3. fts_expression is built from the tree only: each term is a quoted FTS5
//      string (its text, `"` doubled — it holds none) optionally followed by
//      ` *`, joined by OR / AND / NOT with parentheses around every group. No
//      input text reaches FTS5 outside quotes, so FTS5 never rejects it.
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
// Terms (positive and excluded) after the 16th are ignored.
inline constexpr std::size_t kMaxTerms = 16;
// `kiw*` is a prefix search, `ki*` is the word "ki": a short prefix expands
// to too many indexed words.
inline constexpr std::size_t kMinPrefixChars = 3;

// A word or a phrase.
struct Term {
    std::string text;                 // as typed, without quotes, leading '-' or trailing '*'s
    std::vector<std::string> tokens;  // the runs of token characters in text, in order; never empty
    bool phrase = false;              // typed in quotes
    bool prefix = false;              // word*: the last token is a prefix (>= kMinPrefixChars code points)
};

// Matches when any of its terms matches (terms joined by OR).
struct Clause {
    std::vector<Term> any;
};

struct ParsedQuery {
    std::string text;              // the query without leading/trailing whitespace and control characters
    std::vector<Clause> all;       // a note must match every clause (AND)
    std::vector<Term> none;        // ... and none of these terms (-word, NOT word)
    std::string fts_expression;    // FTS5 MATCH expression; empty when !usable()
    std::string hint;              // when !usable(): one sentence telling the reader what to change

    bool usable() const { return !all.empty(); }
};

// Errors: invalid_input when the query is blank (nothing but ASCII
// whitespace: util trim()), longer than kMaxQueryBytes, or not valid UTF-8.
// Any other string parses (see the invariants above); one of only Unicode
// spaces or control characters is unusable, with a hint.
Result<ParsedQuery> parse_query(std::string_view query);

// True for code points FTS5's unicode61 tokenizer treats as part of a token:
// general categories L*, N* and Co.
bool is_token_char(char32_t cp);

}  // namespace starpunk::search
