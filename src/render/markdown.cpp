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

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "render/sanitizer.hpp"

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

}  // namespace starpunk::render
