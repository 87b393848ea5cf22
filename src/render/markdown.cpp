// Markdown -> unsanitized HTML with cmark-gfm, then through the sanitizer.
//
// Invariants:
//   1. Nothing this file produces leaves it without passing sanitize_html (or, for plain
//      text, html_to_plain_text, which applies the same element policy).
//   2. The core extensions are registered exactly once per process (std::call_once);
//      afterwards the registry is only read.
//   3. cmark_parser_finish, which parses inlines, adds and then removes the attached
//      extensions' trigger characters ('~', ':', 'w', '@', ...) in a global table; it
//      runs under g_parse_mutex so concurrent parses never see each other's edits.
#include "render/markdown.hpp"

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm-extension_api.h>
#include <cmark-gfm.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "render/engine.hpp"
#include "render/sanitizer.hpp"
#include "util/strings.hpp"

namespace starpunk::render {
namespace {

// Footnotes are a parser option; UNSAFE keeps raw HTML (sanitized afterwards);
// VALIDATE_UTF8 replaces invalid sequences with U+FFFD.
constexpr int kOptions = CMARK_OPT_UNSAFE | CMARK_OPT_FOOTNOTES | CMARK_OPT_VALIDATE_UTF8;
constexpr const char* kExtensions[] = {"table", "strikethrough", "autolink", "tasklist"};

std::once_flag g_register_once;
std::mutex g_parse_mutex;

struct ParserDeleter {
    void operator()(cmark_parser* parser) const { cmark_parser_free(parser); }
};
struct NodeDeleter {
    void operator()(cmark_node* node) const { cmark_node_free(node); }
};
struct BufferDeleter {
    void operator()(char* buffer) const { cmark_get_default_mem_allocator()->free(buffer); }
};

// Markdown -> HTML exactly as cmark-gfm renders it (raw HTML included, NOT safe).
std::string render_unsanitized(std::string_view markdown) {
    std::call_once(g_register_once, [] { cmark_gfm_core_extensions_ensure_registered(); });

    // cmark's default allocator aborts on exhaustion, so these never return null.
    std::unique_ptr<cmark_parser, ParserDeleter> parser(cmark_parser_new(kOptions));
    for (const char* name : kExtensions) {
        if (cmark_syntax_extension* ext = cmark_find_syntax_extension(name))
            cmark_parser_attach_syntax_extension(parser.get(), ext);
    }
    std::unique_ptr<cmark_node, NodeDeleter> document;
    {
        const std::lock_guard<std::mutex> lock(g_parse_mutex);
        cmark_parser_feed(parser.get(), markdown.data(), markdown.size());
        document.reset(cmark_parser_finish(parser.get()));
    }
    const std::unique_ptr<char, BufferDeleter> html(
        cmark_render_html(document.get(), kOptions, cmark_parser_get_syntax_extensions(parser.get())));
    return html ? std::string(html.get()) : std::string();
}

}  // namespace

std::string render_markdown(std::string_view markdown) {
    return sanitize_html(render_unsanitized(markdown));
}

std::string markdown_to_plain_text(std::string_view markdown) {
    return html_to_plain_text(render_unsanitized(markdown));
}

RenderBudget budget_for(std::size_t markdown_bytes, int cpu_scale) {
    RenderBudget b;
    b.cpu = std::chrono::milliseconds(100LL * std::max(1, cpu_scale));
    b.memory_bytes = 32u << 20;
    b.max_html_bytes = std::max<std::size_t>(8u << 20, 8 * markdown_bytes);
    return b;
}

Error over_budget_error(std::string_view why) {
    std::string message(kOverBudget);
    message.append(": ").append(why).append(
        " (a note gets 100 ms of CPU and 32 MB of memory, whatever its size). Simplify its structure — "
        "e.g. a table thousands of columns wide, tens of thousands of nested or unmatched brackets — or split "
        "a very long note into several.");
    return make_error(ErrorCode::invalid_input, std::move(message));
}

std::string escaped_text_html(std::string_view source) {
    std::string out;
    out.reserve(source.size() + source.size() / 4 + 16);
    bool open = false;       // inside a <p>
    size_t newlines = 0;     // pending line breaks since the last text
    for (size_t i = 0; i < source.size();) {
        char c = source[i];
        if (c == '\r' || c == '\n') {
            if (c == '\r' && i + 1 < source.size() && source[i + 1] == '\n') ++i;
            ++newlines;
            ++i;
            continue;
        }
        if (newlines > 0 && open) {
            bool blank_line = newlines > 1;
            if (!blank_line) {
                // a line of only spaces/tabs also separates paragraphs
                size_t j = i;
                while (j < source.size() && (source[j] == ' ' || source[j] == '\t')) ++j;
                blank_line = j < source.size() && (source[j] == '\n' || source[j] == '\r');
            }
            out.append(blank_line ? "</p>\n" : "<br>\n");
            if (blank_line) open = false;
        }
        newlines = 0;
        if (!open) {
            if (c == ' ' || c == '\t') {  // leading blanks of a paragraph
                ++i;
                continue;
            }
            out.append("<p>");
            open = true;
        }
        char32_t cp;
        size_t len = decode_utf8(source, i, cp);
        if (len == 0) {
            out.append("\xEF\xBF\xBD");
            ++i;
            continue;
        }
        switch (c) {
            case '&': out.append("&amp;"); break;
            case '<': out.append("&lt;"); break;
            case '>': out.append("&gt;"); break;
            case '"': out.append("&quot;"); break;
            case '\'': out.append("&#39;"); break;
            default:
                if (cp == 0) out.append("\xEF\xBF\xBD");
                else out.append(source.substr(i, len));
        }
        i += len;
    }
    if (open) out.append("</p>\n");
    return out;
}

Result<std::string> InProcessMarkdown::to_html(std::string_view markdown, const RenderBudget& budget) {
    std::string html = render_markdown(markdown);
    if (html.size() > budget.max_html_bytes) {
        return over_budget_error("its HTML would be too large");
    }
    return html;
}

}  // namespace starpunk::render
