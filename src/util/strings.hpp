// Small string helpers shared by every layer. All functions are pure and thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace starpunk {

// A whole decimal number filling all of `text` (an optional leading '-', no
// spaces, no '+'); nullopt when malformed or out of int64 range.
std::optional<int64_t> parse_int64(std::string_view text);

// Decodes %XX escapes (no '+' handling: that is form encoding, see http/form.hpp).
// nullopt when an escape is malformed or decodes to NUL.
std::optional<std::string> percent_decode(std::string_view in);
// RFC 3986 unreserved bytes (A-Z a-z 0-9 - . _ ~) kept, every other byte %XX
// (upper-case hex; space is %20): safe in a path segment or a query value.
std::string percent_encode(std::string_view value);

// Without leading and trailing whitespace (any of " \t\n\v\f\r").
std::string_view trim(std::string_view s);
// Without leading and trailing HTTP optional whitespace (SP and HTAB only,
// RFC 9110 §5.6.3): header values and parameters.
std::string_view trim_ows(std::string_view s);
std::string to_lower(std::string_view s);
// ASCII case-insensitive equality (header names, tokens, HTML tag names);
// bytes outside A-Z/a-z must match exactly.
bool iequals(std::string_view a, std::string_view b);
// An RFC 9110 token character: ALPHA / DIGIT / one of !#$%&'*+-.^_`|~
bool is_tchar(char c);
bool starts_with_icase(std::string_view s, std::string_view prefix);

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool is_valid_utf8(std::string_view s);
// Decodes the code point starting at s[i] (i < s.size()); returns its length in
// bytes, or 0 when the bytes there are not well-formed UTF-8 (overlong forms,
// surrogates and values past U+10FFFF included).
size_t decode_utf8(std::string_view s, size_t i, char32_t& cp);

// Appends the UTF-8 encoding of code point `cp` (precondition: a scalar value).
void append_utf8(std::string& out, char32_t cp);

// Escapes a string for inclusion in HTML text or a quoted attribute.
std::string html_escape(std::string_view s);

// Lowercase hex of the bytes.
std::string to_hex(std::string_view bytes);

}  // namespace starpunk
