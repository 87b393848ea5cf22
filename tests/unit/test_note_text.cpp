// Title, excerpt and plain text (SPEC §2.4): examples and RapidCheck properties.
#include "notes/note_renderer.hpp"
#include "notes/note_text.hpp"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "util/strings.hpp"

namespace starpunk::notes {
namespace {

std::string utf8(char32_t cp) {
    std::string out;
    append_utf8(out, cp);
    return out;
}

std::string repeat(std::string_view s, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out.append(s);
    return out;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Code points a note might plausibly hold, weighted towards what the parser
// and the character-boundary logic care about.
rc::Gen<std::uint32_t> interesting_code_point() {
    return rc::gen::weightedOneOf<std::uint32_t>({
        {6, rc::gen::inRange<std::uint32_t>(0x20, 0x7F)},  // printable ASCII
        {4, rc::gen::element<std::uint32_t>('\n', ' ', '\t', '#', '*', '_', '~', '`', '[', ']', '(', ')', '!', '<',
                                            '>', '&', ';', '-', '|', '\\', '=', '^', '\r')},
        {2, rc::gen::inRange<std::uint32_t>(0xA0, 0x250)},      // Latin-1, Latin Extended
        {2, rc::gen::inRange<std::uint32_t>(0x300, 0x370)},     // combining marks
        {1, rc::gen::inRange<std::uint32_t>(0x370, 0x400)},     // Greek
        {2, rc::gen::inRange<std::uint32_t>(0x400, 0x500)},     // Cyrillic
        {2, rc::gen::inRange<std::uint32_t>(0x4E00, 0x4F00)},   // CJK
        {2, rc::gen::inRange<std::uint32_t>(0x1F300, 0x1F700)}, // emoji
        {2, rc::gen::element<std::uint32_t>(0x200D, 0xFE0F, 0x1F1E6, 0x1F1EA, 0x1F3FD, 0x2026, 0xA0, 0x3000,
                                            0x200B, 0xFEFF, 0x0085, 0x2028)},
        {1, rc::gen::suchThat(rc::gen::inRange<std::uint32_t>(1, 0x110000),
                              [](std::uint32_t cp) { return cp < 0xD800 || cp > 0xDFFF; })},
    });
}

std::string encode(const std::vector<std::uint32_t>& cps) {
    std::string out;
    for (std::uint32_t cp : cps) out += utf8(static_cast<char32_t>(cp));
    return out;
}

// Valid UTF-8 of 0–600 code points.
rc::Gen<std::string> utf8_text() {
    return rc::gen::mapcat(rc::gen::inRange<std::size_t>(0, 600), [](std::size_t n) {
        return rc::gen::map(rc::gen::container<std::vector<std::uint32_t>>(n, interesting_code_point()), encode);
    });
}

// Markdown-shaped text: syntax fragments and words in any order.
rc::Gen<std::string> markdownish_text() {
    const auto fragment = rc::gen::weightedOneOf<std::string>({
        {4, rc::gen::element<std::string>("# ", "## ", "###### ", " ##", "**", "*", "_", "__", "~~", "~", "`", "```",
                                          "```\n", "~~~\n", "[", "]", "](", ")", "![", "[^1]", "[^1]: ", "<b>",
                                          "</b>", "<p>", "</p>", "<br>", "<script>", "</script>", "<!--", "-->",
                                          "<https://example.com>", "&amp;", "&#", "&#x1F600;", "&nbsp;", ";", "\n",
                                          "\n\n", "> ", "- ", "- [ ] ", "1. ", "|", "| --- |", "===", "---", "\\",
                                          "\\*", " ", "\t", "\r\n")},
        {3, rc::gen::element<std::string>("hello", "world", "Crème", "brûlée", "Привет", "мир", "Γειά", "你好世界",
                                          "こんにちは", "🎉", "👍🏽", "🇩🇪", "e\u0301", "👨\u200d👩\u200d👧", "snake_case",
                                          "2*3", "a", "ß")},
        {1, utf8_text()},
    });
    return rc::gen::map(rc::gen::container<std::vector<std::string>>(fragment), [](const std::vector<std::string>& v) {
        std::string out;
        for (const auto& f : v) out += f;
        return out;
    });
}

rc::Gen<std::string> any_note_text() {
    return rc::gen::oneOf(utf8_text(), markdownish_text(),
                          rc::gen::map(rc::gen::container<std::vector<std::string>>(4, markdownish_text()),
                                       [](const std::vector<std::string>& v) {
                                           std::string out;
                                           for (const auto& s : v) out += s;
                                           return out;
                                       }));
}

// ------------------------------------------------------------------ titles

TEST(NoteTitle, FirstNonEmptyLine) {
    EXPECT_EQ(note_title("Hello world\nsecond line"), "Hello world");
    EXPECT_EQ(note_title("\n\n   \n\t\n  First line  \nsecond"), "First line");
    EXPECT_EQ(note_title("\r\n\r\nHello\r\nWorld"), "Hello");
    EXPECT_EQ(note_title(""), "");
    EXPECT_EQ(note_title("   \n\n  "), "");
}

TEST(NoteTitle, HeadingMarkersStripped) {
    EXPECT_EQ(note_title("# Hello"), "Hello");
    EXPECT_EQ(note_title("## Hello"), "Hello");
    EXPECT_EQ(note_title("###### Six"), "Six");
    EXPECT_EQ(note_title("## Hello ##"), "Hello");
    EXPECT_EQ(note_title("### Foo ###   "), "Foo");
    EXPECT_EQ(note_title("# Title #\nbody"), "Title");
    EXPECT_EQ(note_title("# C# is fine"), "C# is fine");
    EXPECT_EQ(note_title("# Hello #world"), "Hello #world");
    EXPECT_EQ(note_title("   # Indented"), "Indented");
    EXPECT_EQ(note_title("\n\n## After blanks\ntext"), "After blanks");
}

TEST(NoteTitle, NotHeadings) {
    // CommonMark: '#' must be followed by a blank; seven '#' are text.
    EXPECT_EQ(note_title("#hashtag at start"), "#hashtag at start");
    EXPECT_EQ(note_title("####### seven"), "####### seven");
    EXPECT_EQ(note_title("#\n\nreal text"), "real text");  // empty heading has no text
}

TEST(NoteTitle, SetextHeading) {
    EXPECT_EQ(note_title("Title\n=====\n\nbody"), "Title");
    EXPECT_EQ(note_title("Title\n---\nbody"), "Title");
}

TEST(NoteTitle, InlineMarkdownRemoved) {
    EXPECT_EQ(note_title("## My **bold** [link](http://x.com/a) post ##"), "My bold link post");
    EXPECT_EQ(note_title("*emphasis* and `code`"), "emphasis and code");
    EXPECT_EQ(note_title("<p>Hello <b>world</b></p><p>Second</p>"), "Hello world");
    EXPECT_EQ(note_title("- [ ] task one\n- [x] task two"), "task one");
    EXPECT_EQ(note_title("> quoted *text*\n> more"), "quoted text");
}

TEST(NoteTitle, LimitedToHundredCharacters) {
    EXPECT_EQ(note_title(std::string(150, 'a')), std::string(100, 'a'));
    const std::string e_acute = "\u00e9";  // 2 bytes
    const std::string t = note_title(repeat(e_acute, 150));
    EXPECT_EQ(t, repeat(e_acute, 100));
    EXPECT_EQ(t.size(), 200u);
    const std::string han = "\u6f22";  // 3 bytes
    EXPECT_EQ(note_title(repeat(han, 150)), repeat(han, 100));
    const std::string emoji = "\U0001F600";  // 4 bytes
    EXPECT_EQ(note_title(repeat(emoji, 150)), repeat(emoji, 100));
}

TEST(NoteTitle, NeverSplitsAGraphemeCluster) {
    const std::string a99(99, 'a');
    // Thumbs up + skin tone (2 code points): the 100th code point would split it.
    EXPECT_EQ(note_title(a99 + "\U0001F44D\U0001F3FD tail"), a99);
    // e + COMBINING ACUTE ACCENT.
    EXPECT_EQ(note_title(a99 + "e\u0301 tail"), a99);
    // Regional-indicator pair (a flag).
    EXPECT_EQ(note_title(a99 + "\U0001F1E9\U0001F1EA tail"), a99);
    // A whole cluster that fits is kept.
    EXPECT_EQ(note_title(std::string(98, 'a') + "e\u0301 tail"), std::string(98, 'a') + "e\u0301");
}

TEST(NoteTitle, TrailingSpaceAfterCutRemoved) {
    EXPECT_EQ(note_title(std::string(99, 'a') + " bcd"), std::string(99, 'a'));
}

// ---------------------------------------------------------- explicit title

TEST(ExplicitTitle, OnlyForHeadings) {
    EXPECT_EQ(explicit_title("# Hello\n\ntext"), std::optional<std::string>("Hello"));
    EXPECT_EQ(explicit_title("\n\n### Deep ###\ntext"), std::optional<std::string>("Deep"));
    EXPECT_EQ(explicit_title("Hello\n===\n\ntext"), std::optional<std::string>("Hello"));
    EXPECT_EQ(explicit_title("Just a sentence."), std::nullopt);
    EXPECT_EQ(explicit_title("text\n\n# Heading later"), std::nullopt);
    EXPECT_EQ(explicit_title("#hashtag"), std::nullopt);
    EXPECT_EQ(explicit_title(""), std::nullopt);
    EXPECT_EQ(explicit_title("#\n\ntext"), std::nullopt);
    // A first block without visible text does not count.
    EXPECT_EQ(explicit_title("![](photo.jpg)\n\n# Title"), std::optional<std::string>("Title"));
    EXPECT_EQ(explicit_title("![A photo](photo.jpg)\n\n# Title"), std::nullopt);
    // A list item followed by a rule is not a heading.
    EXPECT_EQ(explicit_title("- item\n---\ntext"), std::nullopt);
    // Two-line paragraph above '===': not treated as a heading title.
    EXPECT_EQ(explicit_title("one\ntwo\n==="), std::nullopt);
}

TEST(ExplicitTitle, CutLikeNoteTitle) {
    const std::string content = "# " + std::string(150, 'x') + "\n\nbody";
    EXPECT_EQ(explicit_title(content), std::optional<std::string>(std::string(100, 'x')));
}

// ------------------------------------------------------- leading heading

TEST(LeadingHeading, RemovesOnlyTheHeadingLines) {
    EXPECT_EQ(without_leading_heading("# Hello\n\ntext"), "\ntext");
    EXPECT_EQ(without_leading_heading("\n\n### Deep ###\ntext"), "\n\ntext");
    EXPECT_EQ(without_leading_heading("Hello\n===\n\ntext"), "\ntext");
    EXPECT_EQ(without_leading_heading("> # Quoted\n\ntext"), "\ntext");
    // No leading heading: unchanged, byte for byte.
    for (const char* c : {"Just a sentence.", "text\n\n# Later", "one\ntwo\n===", "- item\n---\ntext", ""}) {
        EXPECT_EQ(without_leading_heading(c), c);
    }
}

TEST(LeadingHeading, BlocksBeforeTheHeadingStay) {
    // The case that once showed the title twice: an invisible first block.
    EXPECT_EQ(without_leading_heading("<!-- c -->\n\n# Title\n\nbody"), "<!-- c -->\n\n\nbody");
    EXPECT_EQ(without_leading_heading("![](photo.jpg)\n\n# Title\nbody"), "![](photo.jpg)\n\nbody");
    // A link reference definition before the heading is still there for the link.
    EXPECT_EQ(without_leading_heading("[r]: https://e.example/\n# T\n[link][r]"), "[r]: https://e.example/\n[link][r]");
}

TEST(LeadingHeading, OffsetsAreSourceBytes) {
    // CRLF and lone CR end lines as LF does; invalid UTF-8 (read as U+FFFD,
    // three bytes) before the heading does not shift the cut.
    EXPECT_EQ(without_leading_heading("# T\r\nbody"), "body");
    EXPECT_EQ(without_leading_heading("Title\r===\rbody"), "body");
    const std::string invalid = "<!-- \xff\xfe\x01 -->\r\n# T\r\nb";
    auto h = leading_heading(invalid);
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->title, "T");
    EXPECT_EQ(invalid.substr(h->begin, h->end - h->begin), "# T\r\n");
    EXPECT_EQ(without_leading_heading(invalid), "<!-- \xff\xfe\x01 -->\r\nb");
}

TEST(LeadingHeading, AgreesWithExplicitTitle) {
    for (const char* c : {"# Hello\n\ntext", "<!-- c -->\n\n# Title", "![](p.jpg)\n\n# T", "Just text", "#hashtag",
                          "Hello\n===", "- item\n---", "> ## Q"}) {
        auto h = leading_heading(c);
        ASSERT_EQ(h.has_value(), explicit_title(c).has_value()) << c;
        if (h) {
            EXPECT_EQ(h->title, *explicit_title(c)) << c;
        }
    }
}

TEST(LeadingHeading, RenderedNoteShowsTheTitleOnce) {
    auto r = NoteRenderer::render_content("<!-- c -->\n\n# Title\n\nThe body.");
    ASSERT_TRUE(r.name.has_value());
    EXPECT_EQ(*r.name, "Title");
    EXPECT_EQ(r.html.find("Title"), std::string::npos) << r.html;
    EXPECT_NE(r.html.find("The body."), std::string::npos) << r.html;
    auto img = NoteRenderer::render_content("![](photo.jpg)\n\n# Title\n\nText");
    EXPECT_EQ(img.html.find("<h1"), std::string::npos) << img.html;
    EXPECT_NE(img.html.find("photo.jpg"), std::string::npos) << img.html;
}

// ------------------------------------------------------------------ excerpt

TEST(NoteExcerpt, ShortTextUnchanged) {
    EXPECT_EQ(note_excerpt("Hello world"), "Hello world");
    EXPECT_EQ(note_excerpt(""), "");
    EXPECT_EQ(note_excerpt("Hello", 0), "");
    EXPECT_EQ(note_excerpt(std::string(200, 'a')), std::string(200, 'a'));
}

TEST(NoteExcerpt, CutAtWordBoundaryWithEllipsis) {
    std::string text;
    for (int i = 0; i < 60; ++i) text += "word" + std::to_string(i) + " ";
    const std::string e = note_excerpt(text);
    ASSERT_TRUE(ends_with(e, "\u2026"));
    const std::string body = e.substr(0, e.size() - 3);
    EXPECT_LE(count_chars(body), 200u);
    EXPECT_TRUE(starts_with(text, body));
    EXPECT_TRUE(ends_with(body, "word29"));  // a whole word, no trailing space
}

TEST(NoteExcerpt, NoSpacesCutAtCharacter) {
    EXPECT_EQ(note_excerpt(std::string(201, 'x')), std::string(200, 'x') + "\u2026");
    const std::string han = "\u6f22";
    EXPECT_EQ(note_excerpt(repeat(han, 250)), repeat(han, 200) + "\u2026");
    const std::string emoji = "\U0001F600";
    EXPECT_EQ(note_excerpt(repeat(emoji, 250)), repeat(emoji, 200) + "\u2026");
}

TEST(NoteExcerpt, FarWordBoundaryNotUsed) {
    // The only space is early: cutting there would lose most of the text.
    const std::string text = "short " + std::string(300, 'y');
    EXPECT_EQ(note_excerpt(text), "short " + std::string(194, 'y') + "\u2026");
}

TEST(NoteExcerpt, MarkdownRemoved) {
    EXPECT_EQ(note_excerpt("# Heading\n\nSome **bold** and _em_ and ~~gone~~ and `code`."),
              "Heading Some bold and em and gone and code.");
    EXPECT_EQ(note_excerpt("See [the docs](https://example.com/docs) and ![a cat](cat.png)."),
              "See the docs and a cat.");
    EXPECT_EQ(note_excerpt("<p>Hello <em>there</em></p>\n<div>world</div>"), "Hello there world");
    EXPECT_EQ(note_excerpt("lots   of\n\n\n  whitespace\t\there"), "lots of whitespace here");
}

TEST(NoteExcerpt, MultiByteTextAtTheLimit) {
    // 199 ASCII characters then a 2-code-point cluster: it must not be split.
    const std::string text = std::string(199, 'a') + "e\u0301" + "bc";
    EXPECT_EQ(note_excerpt(text), std::string(199, 'a') + "\u2026");
}

// ---------------------------------------------------------------- plain text

TEST(PlainText, InlineSyntax) {
    EXPECT_EQ(plain_text("snake_case_word stays"), "snake_case_word stays");
    EXPECT_EQ(plain_text("5 * 3 = 15"), "5 * 3 = 15");
    EXPECT_EQ(plain_text("2*3*4"), "234");  // CommonMark: 2<em>3</em>4
    EXPECT_EQ(plain_text("\\*not emphasis\\*"), "*not emphasis*");
    EXPECT_EQ(plain_text("***both***"), "both");
    EXPECT_EQ(plain_text("__strong__ and *em*"), "strong and em");
    EXPECT_EQ(plain_text("~~strike~~ ~one~ ~~~three~~~"), "strike one ~~~three~~~");
    EXPECT_EQ(plain_text("unclosed *star"), "unclosed *star");
    EXPECT_EQ(plain_text("`a*b*c` and ``x ` y``"), "a*b*c and x ` y");
    EXPECT_EQ(plain_text("[text][ref] and [text2][]"), "text and text2");
    EXPECT_EQ(plain_text("[sic] stays"), "[sic] stays");
    EXPECT_EQ(plain_text("Footnote[^1] here"), "Footnote here");
    EXPECT_EQ(plain_text("<https://example.com/x> and <me@example.com>"), "https://example.com/x and me@example.com");
    EXPECT_EQ(plain_text("a < b and c > d"), "a < b and c > d");
}

TEST(PlainText, HtmlAndEntities) {
    EXPECT_EQ(plain_text("Hello<script>alert(1)</script> world"), "Hello world");
    EXPECT_EQ(plain_text("a<style>p{}</style>b"), "ab");
    EXPECT_EQ(plain_text("x <!-- hidden --> y"), "x y");
    EXPECT_EQ(plain_text("a &amp; b &lt;tag&gt; &#x1F600; &#233; &bogus;"), "a & b <tag> \U0001F600 \u00e9 &bogus;");
    EXPECT_EQ(plain_text("&#0; &#xD800;"), "\uFFFD \uFFFD");
    EXPECT_EQ(plain_text("line<br>break"), "line break");
    EXPECT_EQ(plain_text("<td>a</td><td>b</td>"), "a b");
    // A line starting with a block-level tag opens a raw HTML block: no Markdown
    // inside it until a blank line (Micropub HTML content is such a block).
    EXPECT_EQ(plain_text("<p>I love *stars* and 2*3</p>"), "I love *stars* and 2*3");
    EXPECT_EQ(plain_text_lines("<div>\n*not md*\n</div>\n\n*md*"), (std::vector<std::string>{"*not md*", "md"}));
    EXPECT_EQ(plain_text("<span>*inline* html</span>"), "inline html");
}

TEST(PlainText, Blocks) {
    EXPECT_EQ(plain_text("```python\nprint('*hi*')\n```\nafter"), "print('*hi*') after");
    EXPECT_EQ(plain_text("~~~\ncode\n~~~"), "code");
    EXPECT_EQ(plain_text("| a | b |\n|---|:-:|\n| 1 | 2 |"), "a b 1 2");
    EXPECT_EQ(plain_text("a | b\n--|--\n1 | 2\n\n|after|"), "a b 1 2 |after|");
    EXPECT_EQ(plain_text("| not a table |"), "| not a table |");
    EXPECT_EQ(plain_text("> quote\n> > nested"), "quote nested");
    EXPECT_EQ(plain_text("- one\n* two\n+ three"), "one two three");
    // Ordered-list numbers are list markup, as in render::markdown_to_plain_text.
    EXPECT_EQ(plain_text("1. first\n2) second"), "first second");
    EXPECT_EQ(plain_text("2024. What a year"), "What a year");
    EXPECT_EQ(plain_text("born in\n1984. Then"), "born in 1984. Then");  // only "1." interrupts a paragraph
    EXPECT_EQ(plain_text("text\n1. item"), "text item");
    EXPECT_EQ(plain_text("1.5 litres"), "1.5 litres");
    EXPECT_EQ(plain_text("above\n\n***\n\nbelow"), "above below");
    EXPECT_EQ(plain_text("[ref]: https://example.com\ntext"), "text");
    EXPECT_EQ(plain_text("text\n\n[^1]: The note."), "text The note.");
}

TEST(PlainText, LinesHaveNoEmptiesAndNoNewlines) {
    const auto lines = plain_text_lines("a\n\n\n  \nb  c\n<div></div>\n\n---\nd");
    EXPECT_EQ(lines, (std::vector<std::string>{"a", "b c", "d"}));
}

TEST(PlainText, InvalidUtf8AndControlsReplaced) {
    EXPECT_EQ(plain_text("\xff\xfe ok"), "\uFFFD\uFFFD ok");
    EXPECT_EQ(plain_text("a\x01" "b\x7f" "c"), "a b c");
    EXPECT_EQ(plain_text(std::string("nul\0byte", 8)), "nul byte");
}

TEST(PlainText, OnlyTheFirst64KiBAreRead) {
    const std::string content = std::string(kTextScanBytes, 'a') + " tail";
    EXPECT_EQ(plain_text(content).find("tail"), std::string::npos);
    // A cut inside a multi-byte character backs off to its start.
    const std::string multi = std::string(kTextScanBytes - 1, 'a') + "\u00e9";
    EXPECT_TRUE(is_valid_utf8(plain_text(multi)));
}

TEST(PlainText, PathologicalInputsStayFast) {
    // Each would be quadratic with naive matching; 1 MB of it must finish quickly.
    for (const std::string_view unit : {"[", "](", "`a", "``a", "*a", "_a ", "<a", "<!--", "<a:", "&#", "\\", "~a",
                                        "<script>", "![", "[^", "<p>*a", "|-|\n", "- a\n", "1. ", "> ", "a\n===\n"}) {
        std::string content;
        while (content.size() < (1u << 20)) content.append(unit);
        const std::string e = note_excerpt(content);
        EXPECT_TRUE(is_valid_utf8(e)) << unit;
        EXPECT_LE(count_chars(e), 201u) << unit;
    }
}

// ---------------------------------------------------------- truncate_chars

TEST(TruncateChars, Basics) {
    EXPECT_EQ(truncate_chars("hello", 10), "hello");
    EXPECT_EQ(truncate_chars("hello", 5), "hello");
    EXPECT_EQ(truncate_chars("hello", 3), "hel");
    EXPECT_EQ(truncate_chars("hello", 0), "");
    EXPECT_EQ(truncate_chars("", 3), "");
    EXPECT_EQ(truncate_chars("\u00e9\u00e9\u00e9", 2), "\u00e9\u00e9");
    EXPECT_EQ(count_chars("a\u00e9\u6f22\U0001F600"), 4u);
}

TEST(TruncateChars, GraphemeClusters) {
    const std::string family = "\U0001F468\u200d\U0001F469\u200d\U0001F467";  // 5 code points
    EXPECT_EQ(truncate_chars("ab" + family, 6), "ab");
    EXPECT_EQ(truncate_chars("ab" + family, 7), "ab" + family);
    // A single cluster longer than the limit is cut between code points.
    EXPECT_EQ(truncate_chars(family, 3), "\U0001F468\u200d\U0001F469");
    EXPECT_EQ(truncate_chars("e\u0301\u0302\u0303", 2), "e\u0301");
}

TEST(TruncateChars, ConcurrentUseIsSafe) {
    const std::string text = std::string(99, 'a') + "e\u0301 tail";
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 500; ++i)
                if (note_title(text) != std::string(99, 'a')) ++failures;
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
}

// ---------------------------------------------------------------- properties

RC_GTEST_PROP(NoteTextProperties, TitleIsValidBoundedPrefix, ()) {
    const std::string content = *any_note_text();
    const std::string title = note_title(content);
    RC_ASSERT(is_valid_utf8(title));
    RC_ASSERT(count_chars(title) <= kTitleMaxChars);
    RC_ASSERT(title.find('\n') == std::string::npos);
    RC_ASSERT(starts_with(plain_text(content), title));
    if (!title.empty()) {
        RC_ASSERT(title.front() != ' ');
        RC_ASSERT(title.back() != ' ');
    }
}

RC_GTEST_PROP(NoteTextProperties, ExcerptIsValidBoundedPrefix, ()) {
    const std::string content = *any_note_text();
    const std::size_t limit = *rc::gen::weightedOneOf<std::size_t>(
        {{3, rc::gen::just(kExcerptMaxChars)}, {1, rc::gen::inRange<std::size_t>(1, 300)}});
    const std::string excerpt = note_excerpt(content, limit);
    const std::string text = plain_text(content);
    RC_ASSERT(is_valid_utf8(excerpt));
    if (count_chars(text) <= limit) {
        RC_ASSERT(excerpt == text);
    } else {
        RC_ASSERT(ends_with(excerpt, kEllipsis));
        const std::string body = excerpt.substr(0, excerpt.size() - kEllipsis.size());
        RC_ASSERT(!body.empty());
        RC_ASSERT(count_chars(body) <= limit);
        RC_ASSERT(starts_with(text, body));
    }
}

RC_GTEST_PROP(NoteTextProperties, ExplicitTitleAgreesWithTitle, ()) {
    const std::string content = *any_note_text();
    const auto t = explicit_title(content);
    if (t) {
        RC_ASSERT(!t->empty());
        RC_ASSERT(*t == note_title(content));
    }
}

RC_GTEST_PROP(NoteTextProperties, PlainTextIsCleanUtf8, ()) {
    const std::string content = *any_note_text();
    for (const std::string& line : plain_text_lines(content)) {
        RC_ASSERT(!line.empty());
        RC_ASSERT(is_valid_utf8(line));
        RC_ASSERT(line.find('\n') == std::string::npos);
        RC_ASSERT(line.find("  ") == std::string::npos);
        RC_ASSERT(line.front() != ' ');
        RC_ASSERT(line.back() != ' ');
    }
}

RC_GTEST_PROP(NoteTextProperties, ArbitraryBytesGiveValidUtf8, (const std::string& bytes)) {
    RC_ASSERT(is_valid_utf8(note_title(bytes)));
    RC_ASSERT(is_valid_utf8(note_excerpt(bytes)));
    RC_ASSERT(is_valid_utf8(plain_text(bytes)));
    const auto t = explicit_title(bytes);
    // Evaluated before RC_ASSERT: its expression capture does not short-circuit ||.
    const bool title_ok = !t.has_value() || is_valid_utf8(*t);
    RC_ASSERT(title_ok);
}

RC_GTEST_PROP(NoteTextProperties, TruncateNeverCutsACharacter, ()) {
    const std::string s = *utf8_text();
    const std::size_t n = *rc::gen::inRange<std::size_t>(0, 300);
    const std::string_view r = truncate_chars(s, n);
    RC_ASSERT(starts_with(s, r));
    RC_ASSERT(count_chars(r) <= n);
    RC_ASSERT(is_valid_utf8(r));
    if (count_chars(s) <= n) RC_ASSERT(r.size() == s.size());
    if (r.size() < s.size()) RC_ASSERT((static_cast<unsigned char>(s[r.size()]) & 0xC0u) != 0x80u);
    // Short of the single-oversized-cluster fallback, little is lost.
    if (n > 0 && count_chars(s) > n) RC_ASSERT(!r.empty());
}

}  // namespace
}  // namespace starpunk::notes
