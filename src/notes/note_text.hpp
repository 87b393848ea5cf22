// Text derived from a note's content: plain text, title, excerpt (SPEC §2.4).
//
// All functions are pure (no I/O, no clock) and thread-safe: the only shared
// state is an ICU character BreakIterator, created once and cloned per thread
// (ICU iterators must not be shared between threads).
//
// Invariants every function here keeps, for any input bytes:
//   1. Output is valid UTF-8. Invalid input sequences read as U+FFFD; C0/C1
//      control characters other than tab and newline read as a space.
//   2. A multi-byte character is never cut. Cuts fall on a grapheme-cluster
//      boundary (so "e" + U+0301 stays together, as do flags and ZWJ emoji);
//      only a single cluster longer than the whole limit is cut between code
//      points.
//   3. Limits count Unicode code points ("characters"), not bytes and not
//      grapheme clusters, so they also bound the byte size (4 bytes each).
//   4. Work is bounded: only the first kTextScanBytes of the content are read.
//   5. note_title(c) and note_excerpt(c) minus a trailing "…" are prefixes of
//      plain_text(c); when explicit_title(c) has a value it equals note_title(c).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace starpunk::notes {

inline constexpr std::size_t kTitleMaxChars = 100;
inline constexpr std::size_t kExcerptMaxChars = 200;
// Titles and excerpts come from the start of a note: reading more than this
// never changes them in practice and keeps a 1 MB note cheap.
inline constexpr std::size_t kTextScanBytes = 64 * 1024;
// Appended to an excerpt that was cut (U+2026 HORIZONTAL ELLIPSIS).
inline constexpr std::string_view kEllipsis = "\u2026";

// The visible text of Markdown (or HTML) content as lines, in document order.
// Each line has its whitespace collapsed to single spaces and is trimmed; lines
// with no visible text are dropped, so the result never holds an empty string.
//
// This is a deliberate approximation of what cmark-gfm renders, not a Markdown
// parser. On ordinary notes it agrees with render::markdown_to_plain_text (the
// cmark-gfm + sanitizer path); it differs on contrived syntax (emphasis across
// link brackets, image alt text holding HTML). It exists because titles,
// excerpts and slugs need only the start of a note: it reads at most
// kTextScanBytes, stops early, and takes no lock (cmark-gfm parses are
// serialised process-wide).
//
// What is removed:
//   * block markers: ATX heading '#'s (and closing '#'s), setext underlines,
//     thematic breaks, blockquote '>', list markers ("- ", "* ", "+ ", "1. ",
//     "2) "), task-list boxes ("[ ]", "[x]"), code fences (their contents are
//     kept verbatim), link reference definitions, table delimiter rows and
//     table pipes; a line starting with a block-level HTML tag (<p>, <div>,
//     </li>, …) opens a raw HTML block in which only tags and entities are
//     handled, up to the next blank line (CommonMark HTML block kind 6);
//   * inline syntax: emphasis and strikethrough delimiters (* _ ~ ~~, only when
//     they pair up, so "5 * 3" and snake_case survive), code-span backticks,
//     links "[text](url)" / "[text][ref]" -> text, images "![alt](src)" -> alt,
//     footnote references "[^1]", autolinks "<https://…>" -> the URL, HTML tags
//     and comments (block-level tags such as <p>, <br>, <li> end a line; the
//     contents of <script> and <style> are dropped), backslash escapes;
//   * numeric entities and common named ones (&amp; &lt; &gt; &quot; &apos;
//     &nbsp; &hellip; &mdash; …) are decoded; the result is text: escape it
//     again for HTML.
//
// stop_after_chars: stop after the block in which the collected text reaches
// this many code points; the result is then a prefix (in whole lines) of the
// unlimited one.
std::vector<std::string> plain_text_lines(std::string_view content,
                                          std::size_t stop_after_chars = static_cast<std::size_t>(-1));

// plain_text_lines() joined with single spaces: the "normalised text" that
// titles and excerpts are prefixes of.
std::string plain_text(std::string_view content, std::size_t stop_after_chars = static_cast<std::size_t>(-1));

// Title (SPEC §2.4): the first line with visible text (Markdown heading markers
// and other syntax stripped, see plain_text_lines), cut to kTitleMaxChars code
// points at a character boundary, trailing whitespace removed. No ellipsis is
// added. Empty when the content has no visible text (callers pick a fallback,
// e.g. the date).
std::string note_title(std::string_view content);

// The author-given title, for p-name on the permalink page: a value only when
// the first block of the note that has visible text is a Markdown heading —
// ATX ("# Hello", any level 1–6) or a one-line setext heading ("Hello\n===").
// The value is the heading's text as note_title() gives it. A note that simply
// starts with a sentence has no explicit title (nullopt): its p-name would
// just repeat the content.
std::optional<std::string> explicit_title(std::string_view content);

// The one interpreter of a note's leading heading (titles, p-name, and the
// body shown under it all come from here, so they cannot disagree).
struct LeadingHeading {
    std::string title;      // == explicit_title(content)
    std::size_t begin = 0;  // the heading's source lines in the content, as
    std::size_t end = 0;    // byte offsets: [begin, end), line break(s) included
};
// A value exactly when explicit_title() has one: the first block with visible
// text is a heading. Blocks before it without visible text (an HTML comment,
// an image without alt text, link reference definitions) are not part of it.
std::optional<LeadingHeading> leading_heading(std::string_view content);

// The content without its leading heading's lines (ATX line, or setext text
// and underline) — for notes whose heading is shown separately as their name.
// Everything else, including blocks before the heading, is kept byte for
// byte. The content itself when there is no leading heading.
std::string without_leading_heading(std::string_view content);
// The same for a heading leading_heading(content) returned.
std::string without_leading_heading(std::string_view content, const LeadingHeading& heading);

// Excerpt (SPEC §2.4): plain_text(content) when it has at most `max_chars`
// code points; otherwise a prefix of it of at most `max_chars` code points,
// cut at a word boundary (the last space) when one lies in the last 40% of the
// limit, else at a character boundary, with trailing spaces removed and
// kEllipsis appended (so the result has at most max_chars + 1 code points).
// Text without spaces (CJK, long URLs) is therefore cut mid-word, but never
// mid-character. Empty when there is no visible text or max_chars is 0.
std::string note_excerpt(std::string_view content, std::size_t max_chars = kExcerptMaxChars);

// The longest prefix of `utf8` with at most `max_chars` code points that ends
// on a grapheme-cluster boundary (or, if the first cluster alone exceeds
// max_chars, on a code-point boundary). Returns `utf8` itself when it is short
// enough. Precondition: `utf8` is valid UTF-8 (otherwise the cut is still on a
// byte that does not continue a sequence, but validity is not restored).
// The result views `utf8`.
std::string_view truncate_chars(std::string_view utf8, std::size_t max_chars);

// Code points in valid UTF-8 (bytes that do not continue a sequence).
std::size_t count_chars(std::string_view utf8);

}  // namespace starpunk::notes
