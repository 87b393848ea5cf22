// Fuzzes the HTML sanitizer and the Markdown renderer that feeds it.
// Input: the bytes are sanitized as HTML; inputs up to 8 KB are also rendered as
// Markdown (cmark-gfm + sanitizer).
// Oracle (any failure aborts):
//   1. The output is in the sanitizer's own strict shape, checked by a tokenizer written
//      for exactly that shape: text never holds a raw '<', '>', '"' or '\'' and '&' only
//      starts one of &amp; &lt; &gt; &quot; &#39;; tags are lower-case names from the
//      allowlist with ` name="value"` attributes; end tags match start tags; void
//      elements are never closed; everything opened is closed.
//   2. No "<script" appears (case-insensitive), whatever the context.
//   3. Re-parsed by gumbo (an HTML5 parser, as a browser would), the output holds only
//      allowlisted HTML elements and attributes; no attribute name starts with "on" or
//      is "style"; every href/src/cite, entity-decoded with controls and spaces removed,
//      has no scheme or one of http, https, mailto (so no javascript:, data:, vbscript:).
//   4. Idempotency: sanitize_html(output) == output.
//   5. The plain-text renderings are valid UTF-8 without NUL bytes.
#include <gumbo.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "render/markdown.hpp"
#include "render/sanitizer.hpp"
#include "util/strings.hpp"

#define FUZZ_CHECK(cond)                                                          \
    do {                                                                          \
        if (!(cond)) {                                                            \
            std::fprintf(stderr, "fuzz_sanitizer: check failed: %s\n", #cond);   \
            std::abort();                                                         \
        }                                                                         \
    } while (0)

namespace {

using starpunk::render::render_markdown;
using starpunk::render::sanitize_html;

constexpr std::string_view kAllowedElements[] = {
    "p", "br", "hr", "wbr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "code", "em",
    "strong", "b", "i", "u", "s", "del", "ins", "sub", "sup", "small", "mark", "abbr", "cite", "q",
    "kbd", "samp", "var", "dfn", "time", "span", "div", "ul", "ol", "li", "dl", "dt", "dd", "a",
    "img", "figure", "figcaption", "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
    "details", "summary", "section", "article", "aside", "header", "footer", "input"};
constexpr std::string_view kVoidElements[] = {"br", "hr", "wbr", "img", "input"};
constexpr std::string_view kAllowedAttributes[] = {
    "title", "lang", "dir", "class", "id", "href", "rel", "aria-label", "src", "alt", "width",
    "height", "start", "reversed", "type", "value", "colspan", "rowspan", "align", "scope", "cite",
    "datetime", "open", "checked", "disabled"};

template <typename Range>
bool contains(const Range& range, std::string_view s) {
    for (std::string_view item : range)
        if (item == s) return true;
    return false;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

bool is_name_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }

// Check 1: the strict output shape.
void check_shape(std::string_view html) {
    std::vector<std::string_view> open;
    std::size_t i = 0;
    const std::size_t n = html.size();
    while (i < n) {
        const char c = html[i];
        FUZZ_CHECK(c != '>' && c != '"' && c != '\'');
        if (c == '&') {
            const std::string_view rest = html.substr(i);
            bool ok = false;
            for (std::string_view e : {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"}) {
                if (rest.substr(0, e.size()) == e) {
                    i += e.size();
                    ok = true;
                    break;
                }
            }
            FUZZ_CHECK(ok);
            continue;
        }
        if (c != '<') {
            ++i;
            continue;
        }
        ++i;
        const bool closing = i < n && html[i] == '/';
        if (closing) ++i;
        const std::size_t name_begin = i;
        while (i < n && is_name_char(html[i])) ++i;
        const std::string_view name = html.substr(name_begin, i - name_begin);
        FUZZ_CHECK(contains(kAllowedElements, name));
        if (closing) {
            FUZZ_CHECK(i < n && html[i] == '>');
            ++i;
            FUZZ_CHECK(!open.empty() && open.back() == name);
            open.pop_back();
            continue;
        }
        while (i < n && html[i] == ' ') {
            ++i;
            const std::size_t attr_begin = i;
            while (i < n && is_name_char(html[i])) ++i;
            const std::string_view attr = html.substr(attr_begin, i - attr_begin);
            FUZZ_CHECK(contains(kAllowedAttributes, attr));
            FUZZ_CHECK(i + 1 < n && html[i] == '=' && html[i + 1] == '"');
            i += 2;
            const std::size_t close = html.find('"', i);
            FUZZ_CHECK(close != std::string_view::npos);
            const std::string_view value = html.substr(i, close - i);
            FUZZ_CHECK(value.find_first_of("<>'") == std::string_view::npos);
            i = close + 1;
        }
        FUZZ_CHECK(i < n && html[i] == '>');
        ++i;
        if (!contains(kVoidElements, name)) open.push_back(name);
    }
    FUZZ_CHECK(open.empty());
}

// True when `url` (already entity-decoded) has no scheme or an allowed one.
bool url_ok(std::string_view url) {
    std::string compact;
    for (char c : url) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7F) continue;
        compact.push_back(c);
    }
    const std::string l = lower(compact);
    // Stricter than a browser, which would also need the scheme to be [a-z0-9+.-]*.
    const std::size_t stop = l.find_first_of(":/?#");
    if (stop == std::string::npos || l[stop] != ':') return true;
    const std::string scheme = l.substr(0, stop);
    return scheme == "http" || scheme == "https" || scheme == "mailto";
}

// Check 3: what a browser's parser makes of the output.
void check_reparsed(std::string_view html) {
    GumboOptions options = kGumboDefaultOptions;
    options.fragment_context = GUMBO_TAG_DIV;
    options.max_errors = 0;
    GumboOutput* output = gumbo_parse_with_options(&options, html.data(), html.size());
    FUZZ_CHECK(output != nullptr);
    std::vector<const GumboNode*> todo{output->root};
    bool is_root = true;
    while (!todo.empty()) {
        const GumboNode* node = todo.back();
        todo.pop_back();
        FUZZ_CHECK(node->type != GUMBO_NODE_TEMPLATE && node->type != GUMBO_NODE_CDATA &&
                   node->type != GUMBO_NODE_COMMENT);
        if (node->type != GUMBO_NODE_ELEMENT) continue;
        const GumboElement& el = node->v.element;
        FUZZ_CHECK(el.tag_namespace == GUMBO_NAMESPACE_HTML);
        if (!is_root) FUZZ_CHECK(contains(kAllowedElements, gumbo_normalized_tagname(el.tag)));
        is_root = false;
        for (unsigned int i = 0; i < el.attributes.length; ++i) {
            const auto* attr = static_cast<const GumboAttribute*>(el.attributes.data[i]);
            const std::string name = lower(attr->name);
            FUZZ_CHECK(name.rfind("on", 0) != 0);
            FUZZ_CHECK(name != "style");
            FUZZ_CHECK(contains(kAllowedAttributes, name));
            if (name == "href" || name == "src" || name == "cite") FUZZ_CHECK(url_ok(attr->value));
        }
        for (unsigned int i = 0; i < el.children.length; ++i)
            todo.push_back(static_cast<const GumboNode*>(el.children.data[i]));
    }
    gumbo_destroy_output(&kGumboDefaultOptions, output);
}

void check_output(const std::string& html) {
    check_shape(html);
    FUZZ_CHECK(lower(html).find("<script") == std::string::npos);
    check_reparsed(html);
    FUZZ_CHECK(sanitize_html(html) == html);
}

void check_plain(const std::string& text) {
    FUZZ_CHECK(starpunk::is_valid_utf8(text));
    FUZZ_CHECK(text.find('\0') == std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    check_output(sanitize_html(input));
    check_plain(starpunk::render::html_to_plain_text(input));
    if (size <= 8192) {
        check_output(render_markdown(input));
        check_plain(starpunk::render::markdown_to_plain_text(input));
    }
    return 0;
}
