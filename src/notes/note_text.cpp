#include "notes/note_text.hpp"

#include "util/strings.hpp"

#include <unicode/brkiter.h>
#include <unicode/locid.h>
#include <unicode/uchar.h>
#include <unicode/utext.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

// Pipeline (each stage only ever removes or replaces whole code points):
//   1. sanitize: the first kTextScanBytes, cut on a sequence boundary; invalid
//      UTF-8 -> U+FFFD, control characters -> ' ', CRLF/CR -> LF.
//   2. BlockParser: line by line, strips block markers and yields blocks
//      (paragraph, heading, code). Paragraph lines stay separated by '\n'.
//   3. InlineStripper: per paragraph/heading, removes inline syntax. Emphasis
//      delimiters are recorded while scanning and removed afterwards only if
//      they pair up. Every scan is amortised linear: bracket and backtick
//      matches are precomputed, forward searches are memoised.
//   4. collapse: split on '\n', collapse whitespace, drop empty lines.

namespace starpunk::notes {

namespace {

constexpr char32_t kReplacementChar = 0xFFFD;
constexpr std::size_t npos = std::string_view::npos;

unsigned char byte_at(std::string_view s, std::size_t i) { return static_cast<unsigned char>(s[i]); }

bool is_lead_byte(unsigned char c) { return (c & 0xC0u) != 0x80u; }

// Decodes the code point at s[i] and advances i past it. An ill-formed
// sequence yields U+FFFD and advances by one byte.
char32_t next_code_point(std::string_view s, std::size_t& i) {
    char32_t cp = 0;
    const std::size_t len = decode_utf8(s, i, cp);
    if (len == 0) {
        ++i;
        return kReplacementChar;
    }
    i += len;
    return cp;
}

// The code point that ends just before byte offset `end` (valid UTF-8).
char32_t previous_code_point(std::string_view s, std::size_t end) {
    std::size_t start = end;
    do {
        --start;
    } while (start > 0 && !is_lead_byte(byte_at(s, start)) && end - start < 4);
    std::size_t i = start;
    return next_code_point(s, i);
}


bool is_space_cp(char32_t cp) {
    if (cp == ' ' || cp == '\t' || cp == '\n') return true;
    if (cp < 0x80) return false;
    // Invisible characters that would otherwise make a "non-empty" line that
    // shows nothing: ZERO WIDTH SPACE and the byte-order mark.
    if (cp == 0x200B || cp == 0xFEFF) return true;
    return u_isUWhiteSpace(static_cast<UChar32>(cp)) != 0;
}

bool is_ascii_punct(char32_t cp) {
    return (cp >= '!' && cp <= '/') || (cp >= ':' && cp <= '@') || (cp >= '[' && cp <= '`') || (cp >= '{' && cp <= '~');
}

bool is_punct_cp(char32_t cp) {
    if (cp < 0x80) return is_ascii_punct(cp);
    return u_ispunct(static_cast<UChar32>(cp)) != 0;
}

bool is_ascii_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }
char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// The first `max_bytes` bytes of s, shortened so that no UTF-8 sequence is cut.
std::string_view cut_bytes(std::string_view s, std::size_t max_bytes) {
    if (s.size() <= max_bytes) return s;
    std::size_t n = max_bytes;
    for (int k = 0; k < 3 && n > 0 && !is_lead_byte(byte_at(s, n)); ++k) --n;
    return s.substr(0, n);
}

// Stage 1. Output: valid UTF-8, LF line ends, no control characters but '\t'/'\n'.
std::string sanitize(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    std::size_t i = 0;
    while (i < in.size()) {
        const char32_t cp = next_code_point(in, i);
        if (cp == '\r') {
            out.push_back('\n');
            if (i < in.size() && in[i] == '\n') ++i;
        } else if (cp == '\n' || cp == '\t') {
            out.push_back(static_cast<char>(cp));
        } else if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) {
            out.push_back(' ');
        } else {
            append_utf8(out, cp);
        }
    }
    return out;
}

std::string_view ltrim_ws(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    return s;
}

std::string_view trim_ws(std::string_view s) {
    s = ltrim_ws(s);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool is_blank(std::string_view s) { return trim_ws(s).empty(); }

// ---------------------------------------------------------------- stage 2

enum class BlockKind { paragraph, heading, code, html };

struct Block {
    BlockKind kind = BlockKind::paragraph;
    std::string text;  // lines separated by '\n'
    // The block's source lines [first_line, end_line), counted from 0 in the
    // sanitised text — whose line breaks are exactly the source's (LF, CRLF
    // or CR each end one line), so they index the source too.
    std::size_t first_line = 0;
    std::size_t end_line = 0;
};

using BlockSink = std::function<bool(Block&&)>;  // false: stop parsing

// "***", "- - -", "___": three or more of one of -*_ and nothing else but blanks.
bool is_thematic_break(std::string_view r) {
    r = trim_ws(r);
    if (r.empty() || (r[0] != '-' && r[0] != '*' && r[0] != '_')) return false;
    const char c = r[0];
    int count = 0;
    for (char ch : r) {
        if (ch == c)
            ++count;
        else if (ch != ' ' && ch != '\t')
            return false;
    }
    return count >= 3;
}

// "===" or "---" (one or more, trailing blanks allowed) under a paragraph line.
bool is_setext_underline(std::string_view r) {
    r = trim_ws(r);
    if (r.empty() || (r[0] != '=' && r[0] != '-')) return false;
    for (char ch : r)
        if (ch != r[0]) return false;
    return true;
}

// Strips blockquote markers ("> > text").
std::string_view strip_quote_markers(std::string_view r) {
    for (;;) {
        std::string_view t = ltrim_ws(r);
        if (t.empty() || t[0] != '>') return r;
        t.remove_prefix(1);
        if (!t.empty() && t[0] == ' ') t.remove_prefix(1);
        r = t;
    }
}

// Strips list markers ("- ", "* ", "+ ", "1. ", "2) "), task boxes and
// blockquote markers in any nesting; sets `had_item` when a list marker was
// removed. As in CommonMark, an ordered item interrupts an open paragraph only
// when it is numbered 1 ("born in\n1984. Then" stays one paragraph).
std::string_view strip_containers(std::string_view r, bool paragraph_open, bool& had_item) {
    for (;;) {
        std::string_view t = ltrim_ws(r);
        if (t.empty()) return t;
        if (t[0] == '>') {
            t.remove_prefix(1);
            if (!t.empty() && t[0] == ' ') t.remove_prefix(1);
            r = t;
            paragraph_open = false;
            continue;
        }
        std::size_t marker = 0;
        if ((t[0] == '-' || t[0] == '*' || t[0] == '+') && !is_thematic_break(t)) {
            marker = 1;
        } else {
            std::size_t digits = 0;
            while (digits < t.size() && digits < 10 && is_ascii_digit(t[digits])) ++digits;
            if (digits >= 1 && digits <= 9 && digits < t.size() && (t[digits] == '.' || t[digits] == ')') &&
                (!paragraph_open || t.substr(0, digits) == "1"))
                marker = digits + 1;
        }
        if (marker == 0 || (marker < t.size() && t[marker] != ' ' && t[marker] != '\t')) return t;
        had_item = true;
        paragraph_open = false;
        t = ltrim_ws(t.substr(marker));
        if (t.size() >= 3 && t[0] == '[' && (t[1] == ' ' || t[1] == 'x' || t[1] == 'X') && t[2] == ']' &&
            (t.size() == 3 || t[3] == ' ' || t[3] == '\t'))
            t = t.substr(3);
        r = t;
    }
}

// ATX heading: 1–6 '#' followed by a blank or the end of the line. `content`
// receives the text without the optional closing sequence of '#'s.
bool parse_atx_heading(std::string_view r, std::string_view& content) {
    std::size_t h = 0;
    while (h < r.size() && r[h] == '#') ++h;
    if (h == 0 || h > 6) return false;
    if (h < r.size() && r[h] != ' ' && r[h] != '\t') return false;
    std::string_view c = trim_ws(r.substr(h));
    std::size_t e = c.size();
    while (e > 0 && c[e - 1] == '#') --e;
    if (e == 0)
        c = {};
    else if (e < c.size() && (c[e - 1] == ' ' || c[e - 1] == '\t'))
        c = trim_ws(c.substr(0, e));
    content = c;
    return true;
}

// Opening code fence: 3+ backticks (info string without backticks) or 3+ tildes.
bool parse_fence_open(std::string_view r, char& fence_char, std::size_t& fence_len) {
    if (r.empty() || (r[0] != '`' && r[0] != '~')) return false;
    std::size_t n = 0;
    while (n < r.size() && r[n] == r[0]) ++n;
    if (n < 3) return false;
    if (r[0] == '`' && r.substr(n).find('`') != npos) return false;
    fence_char = r[0];
    fence_len = n;
    return true;
}

bool is_fence_close(std::string_view r, char fence_char, std::size_t fence_len) {
    r = trim_ws(r);
    std::size_t n = 0;
    while (n < r.size() && r[n] == fence_char) ++n;
    return n >= fence_len && n == r.size();
}

// "[label]: destination" (not a footnote).
bool is_link_reference_definition(std::string_view r) {
    if (r.size() < 4 || r[0] != '[' || r[1] == '^') return false;
    const std::size_t close = r.find(']');
    if (close == npos || close < 2 || close + 1 >= r.size() || r[close + 1] != ':') return false;
    if (r.substr(1, close - 1).find('[') != npos) return false;
    return !is_blank(r.substr(close + 2));
}

// "[^label]: text" -> "text".
bool strip_footnote_definition(std::string_view& r) {
    if (r.size() < 4 || r[0] != '[' || r[1] != '^') return false;
    const std::size_t close = r.find(']');
    if (close == npos || close < 3 || close + 1 >= r.size() || r[close + 1] != ':') return false;
    r = ltrim_ws(r.substr(close + 2));
    return true;
}

// "| --- | :-: |", "---|---".
bool is_table_delimiter_row(std::string_view r) {
    bool pipe = false;
    bool dash = false;
    for (char c : r) {
        if (c == '|')
            pipe = true;
        else if (c == '-')
            dash = true;
        else if (c != ':' && c != ' ' && c != '\t')
            return false;
    }
    return pipe && dash;
}

// CommonMark HTML block, kind 6 (also used for kinds 1 and 7's common cases):
// a line starting with "<tag" or "</tag" for a block-level tag. Markdown is
// not interpreted inside; the block ends at a blank line.
bool starts_html_block(std::string_view r) {
    static constexpr std::array<std::string_view, 64> kBlockTags = {
        "address", "article", "aside",    "base",     "basefont", "blockquote", "body",     "caption",
        "center",  "col",     "colgroup", "dd",       "details",  "dialog",     "dir",      "div",
        "dl",      "dt",      "fieldset", "figcaption", "figure", "footer",     "form",     "frame",
        "frameset", "h1",     "h2",       "h3",       "h4",       "h5",         "h6",       "head",
        "header",  "hr",      "html",     "iframe",   "legend",   "li",         "link",     "main",
        "menu",    "menuitem", "nav",     "noframes", "ol",       "optgroup",   "option",   "p",
        "param",   "section", "summary",  "table",    "tbody",    "td",         "tfoot",    "th",
        "thead",   "title",   "tr",       "track",    "ul",       "pre",        "script",   "style"};
    if (r.size() < 2 || r[0] != '<') return false;
    std::size_t i = r[1] == '/' ? 2 : 1;
    std::string name;
    while (i < r.size() && name.size() <= 10 && (is_ascii_alpha(r[i]) || is_ascii_digit(r[i])))
        name.push_back(ascii_lower(r[i++]));
    if (i < r.size() && r[i] != ' ' && r[i] != '\t' && r[i] != '>' && !(r[i] == '/' && i + 1 < r.size() && r[i + 1] == '>'))
        return false;
    for (std::string_view t : kBlockTags)
        if (t == name) return true;
    return false;
}

// A table row with its unescaped '|' turned into spaces ("\\|" survives for
// the inline pass to unescape).
std::string table_cells(std::string_view r) {
    std::string row;
    row.reserve(r.size());
    for (std::size_t i = 0; i < r.size(); ++i) {
        if (r[i] == '\\' && i + 1 < r.size() && r[i + 1] == '|') {
            row.append("\\|");
            ++i;
        } else {
            row.push_back(r[i] == '|' ? ' ' : r[i]);
        }
    }
    return row;
}

class BlockParser {
public:
    explicit BlockParser(BlockSink sink) : sink_(std::move(sink)) {}

    void run(std::string_view text) {
        std::size_t start = 0;
        while (!stopped_ && start <= text.size()) {
            std::size_t end = text.find('\n', start);
            if (end == npos) end = text.size();
            line(text.substr(start, end - start));
            ++line_no_;
            start = end + 1;
        }
        if (stopped_) return;
        if (in_fence_) {
            emit(BlockKind::code, std::move(code_), block_first_line_, line_no_);
        } else if (in_html_) {
            emit(BlockKind::html, std::move(html_), block_first_line_, line_no_);
        } else {
            flush_paragraph(false);
        }
    }

private:
    void emit(BlockKind kind, std::string text, std::size_t first_line, std::size_t end_line) {
        if (stopped_) return;
        if (!sink_(Block{kind, std::move(text), first_line, end_line})) stopped_ = true;
    }

    // Ends the open paragraph before the current line; as_heading: the current
    // line is a setext underline, which then belongs to the heading.
    void flush_paragraph(bool as_heading) {
        if (para_.empty()) return;
        std::string text = std::move(para_);
        para_.clear();
        const bool heading = as_heading && para_lines_ == 1 && !in_table_;
        para_lines_ = 0;
        in_table_ = false;
        emit(heading ? BlockKind::heading : BlockKind::paragraph, std::move(text), para_first_line_,
             heading ? line_no_ + 1 : line_no_);
    }

    void append_paragraph_line(std::string_view r, bool in_list_item) {
        if (para_.empty()) {
            para_in_list_item_ = in_list_item;
            para_first_line_ = line_no_;
        }
        if (!para_.empty()) para_.push_back('\n');
        para_.append(r);
        ++para_lines_;
    }

    void line(std::string_view raw) {
        if (in_fence_) {
            const std::string_view r = strip_quote_markers(raw);
            if (is_fence_close(r, fence_char_, fence_len_)) {
                in_fence_ = false;
                emit(BlockKind::code, std::move(code_), block_first_line_, line_no_ + 1);
                code_.clear();
            } else {
                if (!code_.empty()) code_.push_back('\n');
                code_.append(r);
            }
            return;
        }
        if (in_html_) {
            if (is_blank(raw)) {
                in_html_ = false;
                emit(BlockKind::html, std::move(html_), block_first_line_, line_no_);
                html_.clear();
            } else {
                html_.push_back('\n');
                html_.append(raw);
            }
            return;
        }

        std::string_view r = strip_quote_markers(raw);
        if (is_blank(r)) return flush_paragraph(false);
        // A list item's text cannot be a setext heading ("- a\n---" is a list and a rule).
        if (!para_.empty() && is_setext_underline(r)) return flush_paragraph(!para_in_list_item_);
        if (is_thematic_break(r)) return flush_paragraph(false);

        bool had_item = false;
        // Only a paragraph outside a list needs "1." to be interrupted: a new
        // item always ends the previous item's text.
        r = strip_containers(r, !para_.empty() && !para_in_list_item_, had_item);
        if (had_item) flush_paragraph(false);  // each list item is its own block
        if (is_blank(r)) return flush_paragraph(false);
        if (is_thematic_break(r)) return flush_paragraph(false);

        std::string_view heading;
        if (parse_atx_heading(r, heading)) {
            flush_paragraph(false);
            return emit(BlockKind::heading, std::string(heading), line_no_, line_no_ + 1);
        }
        if (parse_fence_open(r, fence_char_, fence_len_)) {
            flush_paragraph(false);
            in_fence_ = true;
            block_first_line_ = line_no_;
            code_.clear();
            return;
        }
        if (starts_html_block(r)) {
            flush_paragraph(false);
            in_html_ = true;
            block_first_line_ = line_no_;
            html_.assign(r);
            return;
        }
        if (is_link_reference_definition(r)) return;
        strip_footnote_definition(r);
        if (is_table_delimiter_row(r) && para_lines_ > 0) {
            // GFM table: the paragraph's last line was the header row; rows
            // follow until the paragraph ends. Cells become space-separated.
            const std::size_t last = para_.rfind('\n');
            const std::size_t from = last == npos ? 0 : last + 1;
            para_ = para_.substr(0, from) + table_cells(std::string_view(para_).substr(from));
            in_table_ = true;
            return;
        }
        if (in_table_) return append_paragraph_line(table_cells(r), had_item);
        append_paragraph_line(r, had_item);
    }

    BlockSink sink_;
    bool stopped_ = false;
    std::size_t line_no_ = 0;           // the line being read
    std::size_t block_first_line_ = 0;  // of the open code or HTML block
    std::string para_;
    std::size_t para_first_line_ = 0;
    int para_lines_ = 0;
    bool para_in_list_item_ = false;
    bool in_table_ = false;  // the open paragraph is a GFM table
    bool in_fence_ = false;
    char fence_char_ = '`';
    std::size_t fence_len_ = 0;
    std::string code_;
    bool in_html_ = false;  // inside a raw HTML block (ends at a blank line)
    std::string html_;
};

// ---------------------------------------------------------------- stage 3

// First occurrence of `needle` at or after `from`, memoised for queries with
// non-decreasing `from` (each InlineStripper scans left to right), so repeated
// failed searches cost O(n) in total rather than O(n) each.
class ForwardFinder {
public:
    ForwardFinder(std::string_view hay, std::string needle, bool icase)
        : hay_(hay), needle_(std::move(needle)), icase_(icase) {}

    std::size_t find(std::size_t from) {
        if (searched_ && from >= last_from_ && (last_ == npos || last_ >= from)) return last_;
        searched_ = true;
        last_from_ = from;
        last_ = icase_ ? find_icase(from) : hay_.find(needle_, from);
        return last_;
    }

private:
    std::size_t find_icase(std::size_t from) const {
        if (needle_.empty()) return from;
        for (std::size_t i = from; i + needle_.size() <= hay_.size(); ++i) {
            std::size_t k = 0;
            while (k < needle_.size() && ascii_lower(hay_[i + k]) == needle_[k]) ++k;
            if (k == needle_.size()) return i;
        }
        return npos;
    }

    std::string_view hay_;
    std::string needle_;
    bool icase_;
    bool searched_ = false;
    std::size_t last_from_ = 0;
    std::size_t last_ = npos;
};

bool is_block_level_tag(std::string_view name) {
    static constexpr std::array<std::string_view, 30> kTags = {
        "p",     "br",      "div",    "h1",    "h2",         "h3",     "h4",      "h5",
        "h6",    "li",      "ul",     "ol",    "blockquote", "pre",    "tr",      "table",
        "hr",    "section", "article", "header", "footer",   "figure", "figcaption", "dt",
        "dd",    "dl",      "aside",  "nav",   "main",       "details"};
    for (std::string_view t : kTags)
        if (t == name) return true;
    return false;
}

bool decode_entity(std::string_view name, char32_t& cp) {
    if (name.size() >= 2 && name[0] == '#') {
        char32_t v = 0;
        std::size_t i = 1;
        const bool hex = name[1] == 'x' || name[1] == 'X';
        if (hex) ++i;
        if (i >= name.size() || name.size() - i > 7) return false;
        for (; i < name.size(); ++i) {
            const char c = name[i];
            int d = -1;
            if (is_ascii_digit(c))
                d = c - '0';
            else if (hex && ascii_lower(c) >= 'a' && ascii_lower(c) <= 'f')
                d = ascii_lower(c) - 'a' + 10;
            if (d < 0) return false;
            v = v * (hex ? 16 : 10) + static_cast<char32_t>(d);
        }
        if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) v = kReplacementChar;
        // Decoded control characters would break invariant 1's "no controls".
        if (v < 0x20 || (v >= 0x7F && v <= 0x9F)) v = ' ';
        cp = v;
        return true;
    }
    static constexpr std::array<std::pair<std::string_view, char32_t>, 18> kNamed = {{
        {"amp", '&'},        {"lt", '<'},         {"gt", '>'},         {"quot", '"'},      {"apos", '\''},
        {"nbsp", 0xA0},      {"hellip", 0x2026},  {"mdash", 0x2014},   {"ndash", 0x2013},  {"copy", 0xA9},
        {"reg", 0xAE},       {"trade", 0x2122},   {"lsquo", 0x2018},   {"rsquo", 0x2019},  {"ldquo", 0x201C},
        {"rdquo", 0x201D},   {"laquo", 0xAB},     {"raquo", 0xBB},
    }};
    for (const auto& [n, v] : kNamed) {
        if (n == name) {
            cp = v;
            return true;
        }
    }
    return false;
}

class InlineStripper {
public:
    // markdown = false: raw HTML, only tags, comments and entities are handled.
    InlineStripper(std::string_view s, bool markdown)
        : s_(s),
          markdown_(markdown),
          gt_(s, ">", false),
          comment_end_(s, "-->", false),
          script_end_(s, "</script", true),
          style_end_(s, "</style", true) {}

    std::string run() {
        if (markdown_) {
            find_code_spans();
            match_brackets();
        }
        std::size_t i = 0;
        const std::size_t n = s_.size();
        while (i < n) {
            const char c = s_[i];
            if (!markdown_ && c != '<' && c != '&') {
                out_.push_back(c);
                ++i;
                continue;
            }
            switch (c) {
                case '`': i = on_backticks(i); break;
                case '\\': i = on_backslash(i); break;
                case '!':
                    if (i + 1 < n && s_[i + 1] == '[' && open_link(i + 1)) {
                        i += 2;
                    } else {
                        out_.push_back('!');
                        ++i;
                    }
                    break;
                case '[': i = on_open_bracket(i); break;
                case ']': {
                    auto it = skip_at_.find(i);
                    if (it != skip_at_.end()) {
                        i = it->second;
                    } else {
                        out_.push_back(']');
                        ++i;
                    }
                    break;
                }
                case '<': i = on_angle(i); break;
                case '&': i = on_ampersand(i); break;
                case '*':
                case '_':
                case '~': i = on_delimiter_run(i); break;
                default:
                    out_.push_back(c);
                    ++i;
            }
        }
        return remove_paired_delimiters();
    }

private:
    struct CodeSpan {
        std::size_t open_len;
        std::size_t close_pos;
        std::size_t end;
    };
    struct Delimiter {
        std::size_t out_pos;
        std::size_t len;
        char ch;
        bool can_open;
        bool can_close;
        std::size_t remaining = 0;  // characters not consumed by a pairing
    };

    // Backtick runs pair with the next run of the same length (CommonMark code
    // spans). Backslash-escaped backticks are not runs.
    void find_code_spans() {
        struct Run {
            std::size_t pos;
            std::size_t len;
        };
        std::vector<Run> runs;
        for (std::size_t i = 0; i < s_.size();) {
            if (s_[i] == '\\' && i + 1 < s_.size()) {
                i += 2;
            } else if (s_[i] == '`') {
                std::size_t j = i;
                while (j < s_.size() && s_[j] == '`') ++j;
                runs.push_back({i, j - i});
                i = j;
            } else {
                ++i;
            }
        }
        std::vector<std::size_t> next_same(runs.size(), npos);
        std::unordered_map<std::size_t, std::size_t> last_by_len;
        for (std::size_t k = runs.size(); k-- > 0;) {
            auto it = last_by_len.find(runs[k].len);
            if (it != last_by_len.end()) next_same[k] = it->second;
            last_by_len[runs[k].len] = k;
        }
        for (std::size_t k = 0; k < runs.size();) {
            if (next_same[k] == npos) {
                ++k;
                continue;
            }
            const std::size_t j = next_same[k];
            code_spans_[runs[k].pos] = CodeSpan{runs[k].len, runs[j].pos, runs[j].pos + runs[j].len};
            k = j + 1;
        }
    }

    // Matches [ ] and ( ) outside code spans and escapes, with stacks: O(n).
    void match_brackets() {
        std::vector<std::size_t> brackets;
        std::vector<std::size_t> parens;
        for (std::size_t i = 0; i < s_.size();) {
            const char c = s_[i];
            if (c == '\\' && i + 1 < s_.size()) {
                i += 2;
                continue;
            }
            if (c == '`') {
                auto it = code_spans_.find(i);
                if (it != code_spans_.end()) {
                    i = it->second.end;
                    continue;
                }
            }
            if (c == '[') {
                brackets.push_back(i);
            } else if (c == ']' && !brackets.empty()) {
                bracket_match_[brackets.back()] = i;
                brackets.pop_back();
            } else if (c == '(') {
                parens.push_back(i);
            } else if (c == ')' && !parens.empty()) {
                paren_match_[parens.back()] = i;
                parens.pop_back();
            }
            ++i;
        }
    }

    std::size_t on_backticks(std::size_t i) {
        auto it = code_spans_.find(i);
        if (it == code_spans_.end()) {
            // Unmatched run: literal backticks.
            std::size_t j = i;
            while (j < s_.size() && s_[j] == '`') ++j;
            out_.append(s_.substr(i, j - i));
            return j;
        }
        std::string_view content = s_.substr(i + it->second.open_len, it->second.close_pos - i - it->second.open_len);
        std::string text(content);
        for (char& ch : text)
            if (ch == '\n') ch = ' ';
        out_.append(text);
        return it->second.end;
    }

    std::size_t on_backslash(std::size_t i) {
        if (i + 1 < s_.size()) {
            const auto next = static_cast<unsigned char>(s_[i + 1]);
            if (next < 0x80 && is_ascii_punct(next)) {
                out_.push_back(s_[i + 1]);  // literal: never a delimiter
                return i + 2;
            }
            if (s_[i + 1] == '\n') {  // hard line break
                out_.push_back('\n');
                return i + 2;
            }
        }
        out_.push_back('\\');
        return i + 1;
    }

    // If a link or image starts at the '[' at `open`, arranges for its
    // "](destination)" / "][ref]" tail to be skipped and returns true.
    bool open_link(std::size_t open) {
        auto b = bracket_match_.find(open);
        if (b == bracket_match_.end()) return false;
        const std::size_t close = b->second;
        if (close + 1 >= s_.size()) return false;
        if (s_[close + 1] == '(') {
            auto p = paren_match_.find(close + 1);
            if (p == paren_match_.end()) return false;
            skip_at_[close] = p->second + 1;
            return true;
        }
        if (s_[close + 1] == '[') {
            auto r = bracket_match_.find(close + 1);
            if (r == bracket_match_.end()) return false;
            skip_at_[close] = r->second + 1;
            return true;
        }
        return false;
    }

    std::size_t on_open_bracket(std::size_t i) {
        if (i + 1 < s_.size() && s_[i + 1] == '^') {  // footnote reference "[^1]"
            auto b = bracket_match_.find(i);
            if (b != bracket_match_.end() && b->second > i + 2) return b->second + 1;
        }
        if (open_link(i)) return i + 1;
        out_.push_back('[');
        return i + 1;
    }

    std::size_t on_angle(std::size_t i) {
        const std::size_t n = s_.size();
        if (std::size_t end = autolink_end(i); end != npos) {
            out_.append(s_.substr(i + 1, end - i - 1));
            return end + 1;
        }
        if (s_.substr(i, 4) == "<!--") {
            const std::size_t e = comment_end_.find(i + 4);
            if (e != npos) return e + 3;
        } else if (i + 1 < n && (s_[i + 1] == '!' || s_[i + 1] == '?')) {
            const std::size_t e = gt_.find(i + 2);
            if (e != npos) return e + 1;
        } else {
            std::size_t j = i + 1;
            const bool closing = j < n && s_[j] == '/';
            if (closing) ++j;
            if (j < n && is_ascii_alpha(s_[j])) {
                std::string name;
                while (j < n && (is_ascii_alpha(s_[j]) || is_ascii_digit(s_[j]) || s_[j] == '-') && name.size() < 32)
                    name.push_back(ascii_lower(s_[j++]));
                if (j < n && (s_[j] == '>' || s_[j] == '/' || s_[j] == ' ' || s_[j] == '\t' || s_[j] == '\n')) {
                    const std::size_t e = gt_.find(j);
                    if (e != npos) return after_tag(name, closing, e + 1);
                }
            }
        }
        out_.push_back('<');
        return i + 1;
    }

    // A tag named `name` ended just before `next`.
    std::size_t after_tag(const std::string& name, bool closing, std::size_t next) {
        if (!closing && (name == "script" || name == "style")) {
            ForwardFinder& finder = name == "script" ? script_end_ : style_end_;
            const std::size_t close = finder.find(next);
            if (close != npos) {
                const std::size_t e = gt_.find(close);
                if (e != npos) return e + 1;
            }
            return next;  // unclosed: drop only the tag itself
        }
        if (is_block_level_tag(name))
            out_.push_back('\n');
        else if (name == "td" || name == "th")
            out_.push_back(' ');
        return next;
    }

    // "<scheme:…>" or "<user@host>": index of the closing '>', or npos.
    std::size_t autolink_end(std::size_t i) const {
        const std::size_t n = s_.size();
        std::size_t j = i + 1;
        // URI autolink: scheme of 2–32 characters, ':', no blanks or '<'.
        if (j < n && is_ascii_alpha(s_[j])) {
            std::size_t k = j;
            while (k < n && k - j < 33 &&
                   (is_ascii_alpha(s_[k]) || is_ascii_digit(s_[k]) || s_[k] == '+' || s_[k] == '.' || s_[k] == '-'))
                ++k;
            if (k < n && s_[k] == ':' && k - j >= 2 && k - j <= 32) {
                for (std::size_t m = k + 1; m < n; ++m) {
                    const auto c = static_cast<unsigned char>(s_[m]);
                    if (c == '>') return m;
                    if (c <= ' ' || c == '<') break;
                }
            }
        }
        // Email autolink.
        bool at = false;
        for (std::size_t m = j; m < n; ++m) {
            const char c = s_[m];
            if (c == '>') return (at && m > j + 2 && s_[m - 1] != '@') ? m : npos;
            if (c == '@') {
                if (at || m == j) return npos;
                at = true;
                continue;
            }
            if (!(is_ascii_alpha(c) || is_ascii_digit(c) || c == '.' || c == '-' || c == '_' || c == '+'))
                return npos;
        }
        return npos;
    }

    std::size_t on_ampersand(std::size_t i) {
        std::size_t j = i + 1;
        while (j < s_.size() && j - i <= 32 && (is_ascii_alpha(s_[j]) || is_ascii_digit(s_[j]) || s_[j] == '#')) ++j;
        char32_t cp = 0;
        if (j < s_.size() && s_[j] == ';' && j > i + 1 && decode_entity(s_.substr(i + 1, j - i - 1), cp)) {
            append_utf8(out_, cp);
            return j + 1;
        }
        out_.push_back('&');
        return i + 1;
    }

    // Records a run of * _ ~ with CommonMark's flanking rules; whether it is
    // removed is decided once the whole paragraph has been seen.
    std::size_t on_delimiter_run(std::size_t i) {
        const char ch = s_[i];
        std::size_t j = i;
        while (j < s_.size() && s_[j] == ch) ++j;
        const std::size_t len = j - i;
        const std::size_t out_pos = out_.size();
        out_.append(s_.substr(i, len));
        if (ch == '~' && len > 2) return j;  // GFM strikethrough: ~ or ~~ only

        const char32_t before = i == 0 ? U' ' : previous_code_point(s_, i);
        std::size_t k = j;
        const char32_t after = j >= s_.size() ? U' ' : next_code_point(s_, k);
        const bool before_space = is_space_cp(before);
        const bool after_space = is_space_cp(after);
        const bool before_punct = is_punct_cp(before);
        const bool after_punct = is_punct_cp(after);
        const bool left = !after_space && (!after_punct || before_space || before_punct);
        const bool right = !before_space && (!before_punct || after_space || after_punct);
        bool can_open = left;
        bool can_close = right;
        if (ch == '_') {  // no intraword emphasis with '_' (snake_case stays)
            can_open = left && (!right || before_punct);
            can_close = right && (!left || after_punct);
        }
        if (can_open || can_close) delimiters_.push_back(Delimiter{out_pos, len, ch, can_open, can_close});
        return j;
    }

    // CommonMark's emphasis pairing (process_emphasis), per character: each
    // closer takes the nearest compatible opener below it on that character's
    // stack, consuming 2 characters from each run when both have 2 left, else 1
    // (all of a "~"/"~~" run, which must match in length); openers above the
    // one used are discarded. Compatibility includes the "rule of 3" ("x*y**"
    // leaves both runs alone). The downward search is capped at kLookback
    // entries, which keeps pathological input linear.
    std::string remove_paired_delimiters() {
        constexpr std::size_t kLookback = 32;
        std::array<std::vector<std::size_t>, 3> openers;
        auto slot = [](char ch) -> std::size_t { return ch == '*' ? 0 : ch == '_' ? 1 : 2; };
        auto compatible = [](const Delimiter& o, const Delimiter& c) {
            if (c.ch == '~') return o.len == c.len;
            if ((o.can_close || c.can_open) && (o.len + c.len) % 3 == 0 && (o.len % 3 != 0 || c.len % 3 != 0))
                return false;
            return true;
        };
        for (Delimiter& d : delimiters_) d.remaining = d.len;
        for (std::size_t k = 0; k < delimiters_.size(); ++k) {
            Delimiter& d = delimiters_[k];
            auto& stack = openers[slot(d.ch)];
            while (d.can_close && d.remaining > 0 && !stack.empty()) {
                std::size_t found = npos;
                for (std::size_t depth = 0; depth < stack.size() && depth < kLookback; ++depth) {
                    const std::size_t at = stack.size() - 1 - depth;
                    if (compatible(delimiters_[stack[at]], d)) {
                        found = at;
                        break;
                    }
                }
                if (found == npos) break;
                stack.resize(found + 1);
                Delimiter& o = delimiters_[stack.back()];
                const std::size_t use = d.ch == '~' ? d.len : (o.remaining >= 2 && d.remaining >= 2 ? 2 : 1);
                o.remaining -= std::min(use, o.remaining);
                d.remaining -= std::min(use, d.remaining);
                if (o.remaining == 0) stack.pop_back();
            }
            if (d.can_open && d.remaining > 0) stack.push_back(k);
        }
        std::string result;
        result.reserve(out_.size());
        std::size_t pos = 0;
        for (const Delimiter& d : delimiters_) {
            result.append(out_, pos, d.out_pos - pos);
            result.append(d.remaining, d.ch);
            pos = d.out_pos + d.len;
        }
        result.append(out_, pos, npos);
        return result;
    }

    std::string_view s_;
    bool markdown_;
    std::string out_;
    std::unordered_map<std::size_t, CodeSpan> code_spans_;
    std::unordered_map<std::size_t, std::size_t> bracket_match_;
    std::unordered_map<std::size_t, std::size_t> paren_match_;
    std::unordered_map<std::size_t, std::size_t> skip_at_;  // ']' of a link -> resume index
    std::vector<Delimiter> delimiters_;
    ForwardFinder gt_;
    ForwardFinder comment_end_;
    ForwardFinder script_end_;
    ForwardFinder style_end_;
};

// ---------------------------------------------------------------- stage 4

// Appends the non-empty, whitespace-collapsed lines of `text` to `lines` and
// returns how many code points they hold.
std::size_t collapse_into(std::string_view text, std::vector<std::string>& lines) {
    std::size_t chars = 0;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == npos) end = text.size();
        const std::string_view piece = text.substr(start, end - start);
        std::string line;
        bool pending_space = false;
        std::size_t i = 0;
        while (i < piece.size()) {
            const std::size_t at = i;
            const char32_t cp = next_code_point(piece, i);
            if (is_space_cp(cp)) {
                pending_space = true;
                continue;
            }
            if (pending_space && !line.empty()) {
                line.push_back(' ');
                ++chars;
            }
            pending_space = false;
            line.append(piece.substr(at, i - at));
            ++chars;
        }
        if (!line.empty()) lines.push_back(std::move(line));
        start = end + 1;
    }
    return chars;
}

std::size_t block_lines(Block&& block, std::vector<std::string>& lines) {
    if (block.kind == BlockKind::code) return collapse_into(block.text, lines);
    return collapse_into(InlineStripper(block.text, block.kind != BlockKind::html).run(), lines);
}

// What a block yields to the caller: its kind, its source lines and its text.
struct BlockLines {
    BlockKind kind;
    std::size_t first_line;  // see Block
    std::size_t end_line;
    std::vector<std::string> lines;  // visible text, possibly none
};

// Runs stages 1–3; `on_block` gets each block and returns false to stop.
void for_each_block_lines(std::string_view content, const std::function<bool(BlockLines&&)>& on_block) {
    const std::string text = sanitize(cut_bytes(content, kTextScanBytes));
    BlockParser parser([&](Block&& block) {
        BlockLines out{block.kind, block.first_line, block.end_line, {}};
        block_lines(std::move(block), out.lines);
        return on_block(std::move(out));
    });
    parser.run(text);
}

// Byte offset in `content` where line `n` (from 0) starts; a line ends at LF,
// CRLF or a lone CR, exactly as sanitize() reads it. content.size() when the
// content has fewer lines.
std::size_t line_start(std::string_view content, std::size_t n) {
    std::size_t pos = 0;
    for (std::size_t line = 0; line < n; ++line) {
        const std::size_t eol = content.find_first_of("\r\n", pos);
        if (eol == npos) return content.size();
        pos = eol + 1;
        if (content[eol] == '\r' && pos < content.size() && content[pos] == '\n') ++pos;
    }
    return pos;
}

std::string finish_title(std::string_view line) {
    std::string_view t = truncate_chars(line, kTitleMaxChars);
    while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
    return std::string(t);
}

// ---------------------------------------------------------------- ICU

// ICU break iterators are not thread-safe; a prototype is created once and
// each thread clones its own (cloning takes a few microseconds, creating one
// from rules far longer). Null when ICU data is unavailable.
icu::BreakIterator* thread_character_iterator() {
    static std::mutex clone_mutex;
    static const std::unique_ptr<icu::BreakIterator> prototype = [] {
        UErrorCode status = U_ZERO_ERROR;
        std::unique_ptr<icu::BreakIterator> bi(icu::BreakIterator::createCharacterInstance(icu::Locale::getRoot(), status));
        if (U_FAILURE(status)) bi.reset();
        return bi;
    }();
    thread_local const std::unique_ptr<icu::BreakIterator> mine = []() -> std::unique_ptr<icu::BreakIterator> {
        if (!prototype) return nullptr;
        std::lock_guard<std::mutex> lock(clone_mutex);
        return std::unique_ptr<icu::BreakIterator>(prototype->clone());
    }();
    return mine.get();
}

// The last grapheme-cluster boundary at or before `limit` (a code-point
// boundary in valid UTF-8 `s`, 0 < limit < s.size()); 0 if there is none but
// the start, `limit` itself if ICU is unavailable.
std::size_t grapheme_boundary_at_or_before(std::string_view s, std::size_t limit) {
    // Whether `limit` is a boundary depends on the text before it and on the
    // code point after it, so a little look-ahead is enough.
    const std::string_view window = s.substr(0, std::min(s.size(), limit + 64));
    if (window.size() > static_cast<std::size_t>(std::numeric_limits<int32_t>::max())) return limit;
    icu::BreakIterator* bi = thread_character_iterator();
    if (bi == nullptr) return limit;
    UErrorCode status = U_ZERO_ERROR;
    UText text = UTEXT_INITIALIZER;
    utext_openUTF8(&text, window.data(), static_cast<int64_t>(window.size()), &status);
    if (U_FAILURE(status)) return limit;
    bi->setText(&text, status);
    std::size_t result = limit;
    if (U_SUCCESS(status)) {
        const auto pos = static_cast<int32_t>(limit);
        if (!bi->isBoundary(pos)) {
            const int32_t before = bi->preceding(pos);
            result = before == icu::BreakIterator::DONE || before < 0 ? 0 : static_cast<std::size_t>(before);
        }
    }
    utext_close(&text);
    return result;
}

}  // namespace

std::size_t count_chars(std::string_view utf8) {
    std::size_t n = 0;
    for (char c : utf8)
        if (is_lead_byte(static_cast<unsigned char>(c))) ++n;
    return n;
}

std::string_view truncate_chars(std::string_view utf8, std::size_t max_chars) {
    std::size_t count = 0;
    std::size_t i = 0;
    for (; i < utf8.size(); ++i) {
        if (is_lead_byte(byte_at(utf8, i))) {
            if (count == max_chars) break;
            ++count;
        }
    }
    if (i >= utf8.size()) return utf8;
    if (i == 0) return utf8.substr(0, 0);
    const std::size_t boundary = grapheme_boundary_at_or_before(utf8, i);
    return utf8.substr(0, boundary > 0 ? boundary : i);
}

std::vector<std::string> plain_text_lines(std::string_view content, std::size_t stop_after_chars) {
    std::vector<std::string> lines;
    std::size_t chars = 0;
    for_each_block_lines(content, [&](BlockLines&& block) {
        for (std::string& line : block.lines) {
            chars += count_chars(line) + (lines.empty() ? 0 : 1);
            lines.push_back(std::move(line));
        }
        return chars < stop_after_chars;
    });
    return lines;
}

std::string plain_text(std::string_view content, std::size_t stop_after_chars) {
    std::string out;
    for (const std::string& line : plain_text_lines(content, stop_after_chars)) {
        if (!out.empty()) out.push_back(' ');
        out.append(line);
    }
    return out;
}

std::string note_title(std::string_view content) {
    const std::vector<std::string> lines = plain_text_lines(content, 1);
    return lines.empty() ? std::string() : finish_title(lines.front());
}

std::optional<LeadingHeading> leading_heading(std::string_view content) {
    std::optional<LeadingHeading> heading;
    for_each_block_lines(content, [&](BlockLines&& block) {
        if (block.lines.empty()) return true;  // no visible text yet: keep looking
        if (block.kind == BlockKind::heading) {
            heading = LeadingHeading{finish_title(block.lines.front()), line_start(content, block.first_line),
                                     line_start(content, block.end_line)};
        }
        return false;
    });
    return heading;
}

std::optional<std::string> explicit_title(std::string_view content) {
    auto heading = leading_heading(content);
    if (!heading) return std::nullopt;
    return std::move(heading->title);
}

std::string without_leading_heading(std::string_view content, const LeadingHeading& heading) {
    std::string out(content.substr(0, heading.begin));
    out.append(content.substr(heading.end));
    return out;
}

std::string without_leading_heading(std::string_view content) {
    const auto heading = leading_heading(content);
    return heading ? without_leading_heading(content, *heading) : std::string(content);
}

std::string note_excerpt(std::string_view content, std::size_t max_chars) {
    if (max_chars == 0) return {};
    const std::string text = plain_text(content, max_chars + 1);
    if (count_chars(text) <= max_chars) return text;
    std::string_view cut = truncate_chars(text, max_chars);
    if (cut.size() < text.size() && text[cut.size()] != ' ') {
        // Mid-word: prefer the last word boundary if little text is lost.
        const std::size_t space = cut.rfind(' ');
        if (space != npos && count_chars(cut.substr(0, space)) * 10 >= max_chars * 6) cut = cut.substr(0, space);
    }
    while (!cut.empty() && cut.back() == ' ') cut.remove_suffix(1);
    std::string out(cut);
    out.append(kEllipsis);
    return out;
}

}  // namespace starpunk::notes
