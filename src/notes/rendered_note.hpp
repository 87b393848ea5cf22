// What a note looks like once rendered: sanitised HTML, title, heading name and
// excerpt — all derived from its Markdown content alone, so one content hash
// names one RenderedNote.
#pragma once

#include <optional>
#include <string>

namespace starpunk::notes {

struct RenderedNote {
    std::string html;                  // sanitised e-content (without the heading when `name` is set)
    std::string title;                 // first line, for lists and feeds (SPEC §2.4)
    std::optional<std::string> name;   // only when the note starts with a heading (p-name)
    std::string excerpt;               // plain text, ~200 characters
    bool degraded = false;             // over budget: `html` is the escaped source text
};

// The version of everything that turns content into a RenderedNote (cmark
// options, the sanitizer's policy, title and excerpt rules). Stored beside each
// rendered note (notes/rendered_store.hpp); a stored copy of another format is
// ignored and rendered again. Bump it whenever the same Markdown would render
// differently.
inline constexpr int kRenderedFormat = 1;

}  // namespace starpunk::notes
