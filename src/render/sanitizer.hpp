// Allowlist HTML sanitizer (SPEC §12.3) built on gumbo, a real HTML5 parser.
//
// Every piece of user HTML (raw HTML inside Markdown, Micropub {"html": ...}) passes
// through sanitize_html before it reaches a page or a feed. Safety comes from the
// allowlist alone: the input is parsed as a fragment (context <div>) exactly as a
// browser would parse it, and only allowed elements and attributes of the resulting
// tree are serialized again; everything else is rebuilt from scratch, so nothing of
// the input's spelling survives (case, quoting, entities, comments, broken markup).
//
// Policy (keep the copy in docs/ in step with this one):
//   * Allowed elements (HTML namespace only):
//       p br hr wbr h1-h6 blockquote pre code em strong b i u s del ins sub sup small
//       mark abbr cite q kbd samp var dfn time span div ul ol li dl dt dd a img figure
//       figcaption table caption thead tbody tfoot tr th td details summary section
//       article aside header footer, and input only as a task-list checkbox.
//   * Dropped together with their content: script style iframe object embed applet
//       template noscript noembed noframes textarea select option optgroup datalist
//       button frame frameset head title meta link base basefont bgsound param source
//       track audio video canvas area keygen col colgroup, and every element in the SVG
//       or MathML namespace (svg, math and everything inside them).
//   * Any other element (unknown, custom, form, font, center, nav, ...) is unwrapped:
//       its tag goes, its sanitized children stay.
//   * Comments, doctypes, processing instructions and CDATA are dropped.
//   * Attributes, allowlisted per element; everything else (style, on*, data-*, srcset,
//     target, name, ...) is dropped:
//       global:      title, lang ([A-Za-z0-9-]), dir (ltr|rtl|auto),
//                    class (tokens of [A-Za-z0-9_-] kept, others dropped),
//                    id only when it starts with "fn-" or "fnref-" (cmark-gfm footnote
//                    anchors; the hyphen means it cannot clobber a JS global) and has no
//                    whitespace
//       a:           href (URL), rel (tokens of [A-Za-z0-9_.:-]), aria-label
//       img:         src (URL, no mailto), alt, width, height (1-5 digits)
//       ol:          start (integer), reversed, type (1 a A i I)
//       li:          value (integer)
//       th, td:      colspan, rowspan (1-4 digits), align (left|center|right|justify);
//                    th also scope (row|col|rowgroup|colgroup)
//       blockquote, q: cite (URL, no mailto);  del, ins: cite (URL), datetime
//       time:        datetime;  details: open
//       input:       kept only when type=checkbox; emitted as
//                    <input type="checkbox" disabled=""> plus checked="" when checked.
//   * URLs (href, src, cite): ASCII control characters (U+0000-U+001F, U+007F) are
//       removed and surrounding spaces trimmed (what browsers do, and what is emitted);
//       then, ignoring every remaining space, if a ':' comes before the first '/', '?'
//       or '#', the text before it is the scheme and must be http, https or (href only)
//       mailto, case-insensitively. Otherwise the URL is relative and allowed, including
//       protocol-relative "//host/path" (it can only resolve to http or https). A URL
//       that fails is dropped (the attribute, not the element). Entities were already
//       decoded by the parser, so "jav&#x09;ascript:" and "&#106;avascript:" are caught.
//   * Output: lower-case tags, attributes in source order as name="value", text and
//       values escaped (& < > " '), void elements without end tags, every other element
//       explicitly closed.
//   * Nesting: elements nested deeper than 100 allowed levels are unwrapped. Before
//       parsing, a linear pre-scan drops start tags that would nest deeper than 256 open
//       elements, so pathological input such as 100000 nested <div>s cannot drive the
//       parser's quadratic scope checks; this is a performance guard only (safety never
//       depends on it). The tree walk is iterative: no recursion, no stack overflow.
//   * Invalid UTF-8 and NUL bytes become U+FFFD or are dropped, as the parser does.
#pragma once

#include <string>
#include <string_view>

namespace starpunk::render {

// Returns the sanitized HTML fragment for `html` (UTF-8, possibly invalid or hostile;
// any size). Never fails; an input with nothing allowed yields "".
// Guarantees:
//   * only the elements and attributes listed above appear, and no URL attribute holds
//     anything but an http(s)/mailto/relative URL;
//   * well-formed: every element opened is closed, in order;
//   * idempotent: sanitize_html(sanitize_html(x)) == sanitize_html(x). (Should a
//     parse/serialize round trip fail to settle within a few passes, the result falls
//     back to the escaped text content, which is always stable.)
// Thread-safe: no shared mutable state. Cost is linear in the input for realistic
// documents; each call parses its input at least twice (once to sanitize, once to
// confirm the result is stable).
std::string sanitize_html(std::string_view html);

// The visible text of `html` under the same policy (content of dropped elements such as
// <script> excluded), with entities decoded. Block-level elements and <br> end lines;
// runs of whitespace inside a line collapse to one space; lines are trimmed and empty
// lines removed, joined by '\n'. Image alt text is included; cmark-gfm footnote
// reference numbers and back-links are left out. The result is plain text, NOT HTML:
// escape it before putting it into a page. Never fails. Thread-safe.
std::string html_to_plain_text(std::string_view html);

}  // namespace starpunk::render
