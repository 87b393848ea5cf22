// The layout of public pages — no admin navigation, scripts, htmx or search
// query — rendered once (make_layout_frame, web/site.hpp): the literal text
// around the two things that vary, the page's <title> and its content. Such a
// page is assembled by concatenation instead of rendering the layout, and the
// page cache keeps a permalink as its title and content alone (CachedPage).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace starpunk::web {

struct LayoutFrame {
    enum class Slot { title, content };
    std::vector<std::string> literals;  // literals.size() == slots.size() + 1
    std::vector<Slot> slots;
    // Typical content (a sample permalink's article, web/note_entry.hpp), which
    // the page cache compresses contents against (CachedPage): the markup
    // every permalink repeats costs a few bytes. May be empty. Fixed for the
    // frame's lifetime: blocks compressed against it need exactly these bytes.
    std::string dictionary;
};

// The page: the frame's literals with `escaped_title` (already HTML-escaped,
// the whole <title>) and `content` (HTML) in their slots.
std::string assemble(const LayoutFrame& frame, std::string_view escaped_title, std::string_view content);

}  // namespace starpunk::web
