// Text escaping for feed documents. One policy for every format, so an item reads
// the same in RSS, Atom and JSON Feed:
//   * invalid UTF-8 (bad sequences, overlongs, surrogates, > U+10FFFF) becomes
//     U+FFFD, one replacement per bad byte;
//   * characters XML 1.0 forbids — U+0000–U+0008, U+000B, U+000C, U+000E–U+001F,
//     U+FFFE, U+FFFF — are dropped (from JSON too, for the same content);
//   * everything else is kept, escaped for where it goes.
// Each function escapes exactly once: HTML placed in an XML element arrives at
// the reader as that HTML (its own `&amp;` stays `&amp;` after XML parsing).
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace starpunk::feeds {

// Character data and attribute values (double- or single-quoted): & < > " '
// become entities, CR becomes &#13; (so it survives XML line-end
// normalisation). `]]>` can therefore never appear in the output.
void append_xml_escaped(std::string& out, std::string_view text);
std::string xml_escape(std::string_view text);

// A JSON string literal, quotes included (RFC 8259): " \ and control characters
// escaped, U+2028/U+2029 written as \u2028/\u2029, other characters as UTF-8.
void append_json_string(std::string& out, std::string_view text);

}  // namespace starpunk::feeds
