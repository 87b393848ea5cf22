// Case-insensitive term matching and highlighted result excerpts (SPEC §7).
// Pure functions, thread-safe.
//
// Case-insensitive means ICU *simple* case folding, applied code point by code
// point: it maps one code point to one, so a match found in the folded text
// sits at the same code point positions in the original (needed to highlight
// it). It covers Latin, Greek, Cyrillic and the rest; the few full foldings it
// leaves out ("ß" vs "ss") do not match each other. Diacritics are kept:
// "creme" does not highlight "crème" (FTS5 still *finds* it, its tokenizer
// removes diacritics).
//
// Invariants of highlight_excerpt(), for any input:
//   1. Every byte of the text is HTML-escaped (util/strings html_escape); the
//      only markup in the result is the literal `<mark>` and `</mark>` it adds
//      around matches, properly paired and never nested. No other tag, entity
//      or attribute from the text can survive.
//   2. The result is valid UTF-8 and never cuts a code point; cuts also avoid
//      separating a combining mark from its base character.
//   3. At most max_chars code points of the text, plus a leading and/or
//      trailing "…" when the excerpt starts after the beginning or stops before
//      the end of the text.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace starpunk::search {

// `utf8` decoded and simple-case-folded (invalid sequences read as U+FFFD).
std::u32string fold(std::string_view utf8);

// fold(utf8) with every run of non-token characters (search/query.hpp
// is_token_char: spaces, punctuation, symbols) replaced by one U' ': the text
// fallback mode matches terms in. A term's needle is its folded tokens joined
// by U' ' (fold_tokens), so in this text a phrase matches across any spaces,
// line breaks or punctuation, as in FTS5, and a word matches as a substring.
std::u32string fold_words(std::string_view utf8);
std::u32string fold_tokens(const std::vector<std::string>& tokens);

// Excerpts are cut from the first kExcerptSourceBytes of a note: a match
// further in still finds the note, its excerpt is then the note's start.
inline constexpr std::size_t kExcerptSourceBytes = 16 * 1024;

// The text an excerpt is cut from: the first kExcerptSourceBytes of `content`
// (cut on a code point boundary), every run of whitespace and control
// characters collapsed to one space, trimmed. The note's Markdown source, not
// its rendering: both search modes match the source, so a match inside a link
// target or an HTML attribute is visible in the excerpt (escaped).
std::string excerpt_source(std::string_view content);

struct ExcerptOptions {
    std::size_t max_chars = 200;     // code points of text in the excerpt
    std::size_t context_chars = 60;  // text kept before the first match
    // FTS5 mode: a match must start a word (FTS5 matches whole tokens, so
    // "art" should not light up inside "start"). Fallback mode matches
    // substrings anywhere, so it highlights anywhere.
    bool word_start_only = false;
};

// An HTML excerpt of `text` (e.g. excerpt_source(content)) around the first
// match of any of `terms`, with every match in it wrapped in <mark>…</mark>
// (the longest where several match at one position). Each term is a sequence
// of tokens (search/query.hpp Term::tokens) matched case-insensitively, with
// at least one non-token character (space, punctuation) between two tokens:
// the phrase "went running" marks "went, running" as one match. Without a
// match it is the start of the text, unmarked. Empty for empty text.
std::string highlight_matches(std::string_view text, const std::vector<std::vector<std::string>>& terms,
                              const ExcerptOptions& options = {});

// highlight_matches() with each string a literal term of one token (matched
// as it is, punctuation included).
std::string highlight_excerpt(std::string_view text, const std::vector<std::string>& terms,
                              const ExcerptOptions& options = {});

}  // namespace starpunk::search
