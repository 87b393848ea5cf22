// Markdown rendering for notes (SPEC §12.3, §2.4) with cmark-gfm.
//
// Dialect: CommonMark + the GFM extensions table, strikethrough, autolink and tasklist,
// plus footnotes. No "smart" punctuation: text stays literal. Raw HTML inside Markdown is
// allowed (CMARK_OPT_UNSAFE) because the whole rendered document then goes through
// sanitize_html (render/sanitizer.hpp), which is the only HTML safety boundary.
//
// Rendering details worth knowing:
//   * fenced code blocks carry class="language-<info>" on <code>;
//   * table alignment is the align attribute on <th>/<td> (no style attributes);
//   * task-list items start with <input type="checkbox" disabled=""> (checked="" when
//     ticked), the only input element the sanitizer keeps;
//   * footnotes use ids "fn-<label>" / "fnref-<label>": two notes with the same label on
//     one page share ids (links then jump to the first);
//   * invalid UTF-8 is replaced with U+FFFD.
#pragma once

#include <string>
#include <string_view>

namespace starpunk::render {

// Renders `markdown` (any bytes) to a sanitized HTML fragment. Never fails; empty or
// blank input yields "". Cost is roughly linear in the input for ordinary text; callers
// bound the size (notes are at most 1 MB, SPEC §2.4).
// Thread-safe: cmark-gfm keeps a process-wide table of inline trigger characters that
// every parse with extensions rewrites, so parses are serialized by an internal mutex
// (held for parsing only; HTML rendering and sanitizing run concurrently).
std::string render_markdown(std::string_view markdown);

// The visible text of the rendered note, for excerpts and search: cmark-gfm's HTML
// through html_to_plain_text, i.e. under the sanitizer's element policy (no tags, no
// <script> content, entities decoded, one line per block, whitespace collapsed,
// footnote markers left out). Plain text, NOT
// HTML: escape it before output. Never fails. Thread-safe (as above).
std::string markdown_to_plain_text(std::string_view markdown);

}  // namespace starpunk::render
