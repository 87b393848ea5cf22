#include "render/markdown.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <thread>
#include <vector>

#include "render/sanitizer.hpp"

namespace starpunk::render {
namespace {

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

TEST(RenderMarkdown, EmptyInput) {
    EXPECT_EQ(render_markdown(""), "");
    EXPECT_EQ(render_markdown("   \n\n  "), "");
}

TEST(RenderMarkdown, ParagraphsAndEmphasis) {
    EXPECT_EQ(render_markdown("Hello *world* and **bold** and `code`"),
              "<p>Hello <em>world</em> and <strong>bold</strong> and <code>code</code></p>\n");
}

TEST(RenderMarkdown, HeadingsListsQuotes) {
    const std::string html = render_markdown("# Title\n\n- a\n- b\n\n1. one\n2. two\n\n> quoted\n");
    EXPECT_TRUE(contains(html, "<h1>Title</h1>")) << html;
    EXPECT_TRUE(contains(html, "<ul>\n<li>a</li>\n<li>b</li>\n</ul>")) << html;
    EXPECT_TRUE(contains(html, "<ol>\n<li>one</li>\n<li>two</li>\n</ol>")) << html;
    EXPECT_TRUE(contains(html, "<blockquote>\n<p>quoted</p>\n</blockquote>")) << html;
}

TEST(RenderMarkdown, OrderedListStartSurvives) {
    EXPECT_TRUE(contains(render_markdown("3. three\n4. four\n"), "<ol start=\"3\">"));
}

TEST(RenderMarkdown, Tables) {
    const std::string html = render_markdown("| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n");
    EXPECT_TRUE(contains(html, "<table>")) << html;
    EXPECT_TRUE(contains(html, "<th class=\"align-left\">a</th>")) << html;
    EXPECT_TRUE(contains(html, "<th class=\"align-center\">b</th>")) << html;
    EXPECT_TRUE(contains(html, "<td class=\"align-right\">3</td>")) << html;
    EXPECT_FALSE(contains(html, "style=")) << html;
}

TEST(RenderMarkdown, Strikethrough) {
    EXPECT_EQ(render_markdown("~~gone~~ and ~also~"), "<p><del>gone</del> and <del>also</del></p>\n");
}

TEST(RenderMarkdown, Autolinks) {
    const std::string html =
        render_markdown("See www.example.com, https://example.org/a?b=1 and me@example.net or <https://x.io>.");
    EXPECT_TRUE(contains(html, "<a href=\"http://www.example.com\">www.example.com</a>")) << html;
    EXPECT_TRUE(contains(html, "<a href=\"https://example.org/a?b=1\">https://example.org/a?b=1</a>")) << html;
    EXPECT_TRUE(contains(html, "<a href=\"mailto:me@example.net\">me@example.net</a>")) << html;
    EXPECT_TRUE(contains(html, "<a href=\"https://x.io\">https://x.io</a>")) << html;
}

TEST(RenderMarkdown, TaskLists) {
    const std::string html = render_markdown("- [ ] todo\n- [x] done\n");
    EXPECT_TRUE(contains(html, "<li><input type=\"checkbox\" disabled=\"\"> todo</li>")) << html;
    EXPECT_TRUE(contains(html, "<li><input type=\"checkbox\" checked=\"\" disabled=\"\"> done</li>")) << html;
}

TEST(RenderMarkdown, Footnotes) {
    const std::string html = render_markdown("Claim[^1].\n\n[^1]: Source *here*.\n");
    EXPECT_TRUE(contains(html, "<sup class=\"footnote-ref\"><a href=\"#fn-1\" id=\"fnref-1\">1</a></sup>")) << html;
    EXPECT_TRUE(contains(html, "<section class=\"footnotes\">")) << html;
    EXPECT_TRUE(contains(html, "<li id=\"fn-1\">")) << html;
    EXPECT_TRUE(contains(html, "Source <em>here</em>.")) << html;
    EXPECT_TRUE(contains(html, "href=\"#fnref-1\" class=\"footnote-backref\"")) << html;
}

TEST(RenderMarkdown, CodeBlocksAreEscaped) {
    const std::string html = render_markdown("```html\n<script>alert(1)</script>\n```\n\n`<b>inline</b>`");
    EXPECT_TRUE(contains(html, "<pre><code class=\"language-html\">&lt;script&gt;alert(1)&lt;/script&gt;\n</code></pre>"))
        << html;
    EXPECT_TRUE(contains(html, "<code>&lt;b&gt;inline&lt;/b&gt;</code>")) << html;
    EXPECT_FALSE(contains(lower(html), "<script")) << html;
}

TEST(RenderMarkdown, IndentedCodeKeepsLeadingBlankLine) {
    const std::string html = render_markdown("```\n\nx\n```");
    EXPECT_TRUE(contains(html, "<pre><code>\nx\n</code></pre>")) << html;
}

TEST(RenderMarkdown, TextIsLiteralNoSmartPunctuation) {
    EXPECT_EQ(render_markdown("\"quotes\" -- dashes... 'single'"),
              "<p>&quot;quotes&quot; -- dashes... &#39;single&#39;</p>\n");
}

TEST(RenderMarkdown, EntitiesAndSpecialCharacters) {
    EXPECT_EQ(render_markdown("a & b < c &copy; &amp;"), "<p>a &amp; b &lt; c \xC2\xA9 &amp;</p>\n");
}

TEST(RenderMarkdown, LinksAndImages) {
    const std::string html = render_markdown("[t](https://example.com \"Title\") ![alt](/media/a.png)");
    EXPECT_TRUE(contains(html, "<a href=\"https://example.com\" title=\"Title\">t</a>")) << html;
    EXPECT_TRUE(contains(html, "<img src=\"/media/a.png\" alt=\"alt\">")) << html;
}

TEST(RenderMarkdown, UnsafeLinkSchemesLoseTheirUrl) {
    const std::string html =
        render_markdown("[a](javascript:alert(1)) [b](JAVASCRIPT:x) ![c](data:image/png;base64,AAAA) [d](vbscript:x)");
    EXPECT_FALSE(contains(lower(html), "javascript")) << html;
    EXPECT_FALSE(contains(lower(html), "data:")) << html;
    EXPECT_FALSE(contains(lower(html), "vbscript")) << html;
    EXPECT_TRUE(contains(html, "<a>a</a>")) << html;
}

TEST(RenderMarkdown, RawHtmlIsAllowedButSanitized) {
    const std::string html = render_markdown(
        "<div onclick=\"alert(1)\" style=\"x\">raw <b>bold</b><script>alert(1)</script></div>\n\n"
        "Inline <span onmouseover=x>span</span> <img src=x onerror=alert(1)> "
        "<a href=\"javascript:alert(1)\">link</a>\n\n"
        "<iframe src=\"https://evil\"></iframe>\n\n<svg onload=alert(1)></svg>\n");
    EXPECT_TRUE(contains(html, "<div>raw <b>bold</b></div>")) << html;
    EXPECT_TRUE(contains(html, "<span>span</span>")) << html;
    EXPECT_TRUE(contains(html, "<img src=\"x\" alt=\"\">")) << html;
    EXPECT_TRUE(contains(html, "<a>link</a>")) << html;
    const std::string l = lower(html);
    for (const char* bad : {"<script", "onclick", "onmouseover", "onerror", "onload", "style=",
                            "javascript", "<iframe", "<svg"})
        EXPECT_FALSE(contains(l, bad)) << bad << " in " << html;
}

TEST(RenderMarkdown, RawHtmlBlockWithMarkdownInside) {
    const std::string html = render_markdown("<details><summary>More</summary>\n\n*hidden*\n\n</details>\n");
    EXPECT_TRUE(contains(html, "<details><summary>More</summary>")) << html;
    EXPECT_TRUE(contains(html, "<em>hidden</em>")) << html;
}

TEST(RenderMarkdown, OutputIsSanitizerFixedPoint) {
    for (const char* md : {"# T\n\n| a |\n|---|\n| <b>x |\n", "- [x] a\n  - [ ] b\n", "x[^n]\n\n[^n]: y\n",
                           "<p><div>x</div></p>", "> <table><tr><td>x\n\ny"}) {
        const std::string html = render_markdown(md);
        EXPECT_EQ(sanitize_html(html), html) << md;
    }
}

TEST(RenderMarkdown, InvalidUtf8AndNulAreReplaced) {
    const std::string html = render_markdown(std::string("a\xff\0b", 4));
    EXPECT_EQ(html, "<p>a\xEF\xBF\xBD\xEF\xBF\xBD" "b</p>\n");
}

TEST(RenderMarkdown, DeeplyNestedQuotesAndListsDoNotCrash) {
    const std::string quotes(100000, '>');
    EXPECT_TRUE(contains(render_markdown(quotes + " deep"), "deep"));
    std::string list;
    for (int i = 0; i < 2000; ++i) list += std::string(static_cast<size_t>(i) * 2, ' ') + "- item\n";
    EXPECT_TRUE(contains(render_markdown(list), "item"));
    EXPECT_FALSE(render_markdown(std::string(50000, '[') + "x" + std::string(50000, ']')).empty());
    EXPECT_FALSE(render_markdown(std::string(50000, '*') + "x").empty());
}

// cmark-gfm rewrites a process-wide table of inline trigger characters on every parse;
// concurrent renders must still all see the extensions (regression: unsynchronized
// parses dropped strikethrough/autolinks at random).
TEST(RenderMarkdown, ConcurrentRendersAgree) {
    const std::string md = "~~x~~ www.example.com *y* [^1]\n\n| a |\n|---|\n| b |\n\n[^1]: n\n";
    const std::string expected = render_markdown(md);
    std::vector<std::thread> threads;
    std::vector<int> mismatches(4, 0);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 300; ++i)
                if (render_markdown(md) != expected) ++mismatches[static_cast<size_t>(t)];
        });
    }
    for (auto& th : threads) th.join();
    for (int m : mismatches) EXPECT_EQ(m, 0);
}

TEST(MarkdownToPlainText, StripsMarkupAndDecodesEntities) {
    EXPECT_EQ(markdown_to_plain_text("# Title\n\nSome *emph* & **bold** &amp; `code` [link](https://x).\n"),
              "Title\nSome emph & bold & code link.");
}

TEST(MarkdownToPlainText, ListsTablesTasksFootnotes) {
    EXPECT_EQ(markdown_to_plain_text("- [ ] todo\n- [x] done\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
                                     "Claim[^1].\n\n[^1]: Source.\n"),
              "todo\ndone\na b\n1 2\nClaim.\nSource.");
}

TEST(MarkdownToPlainText, RawHtmlScriptContentIsNotText) {
    EXPECT_EQ(markdown_to_plain_text("Hi <span>there<script>steal()</script></span>\n\n<style>p{}</style>\n"),
              "Hi there");
}

TEST(MarkdownToPlainText, CodeBlockLinesKept) {
    EXPECT_EQ(markdown_to_plain_text("```\na < b\nc\n```\n"), "a < b\nc");
}

TEST(MarkdownToPlainText, Empty) {
    EXPECT_EQ(markdown_to_plain_text(""), "");
    EXPECT_EQ(markdown_to_plain_text("<!-- only a comment -->"), "");
}

}  // namespace
}  // namespace starpunk::render
