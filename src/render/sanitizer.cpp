// Allowlist sanitizer: pre-scan (nesting guard) -> gumbo fragment parse -> iterative
// tree walk that re-serializes allowed nodes only -> repeat until the output is stable.
//
// Invariants:
//   1. Nothing is copied from the input's markup: tags are written from gumbo's
//      normalized tag names, attributes from the allowlist below, and every text or
//      attribute value goes through append_escaped. Hence no input spelling (case,
//      quotes, entities, comments) can reach the output.
//   2. The serializer opens an element only when it will close it; frames on its
//      explicit stack record the end tag to write (nullptr for unwrapped elements).
//   3. sanitize_html returns a fixed point of one pass (serialize in Mode::html), which
//      is what makes it idempotent. The serializer avoids placements the parser would
//      undo (fits_context, the <pre> newline, characters the parser replaces) so that one
//      pass is almost always already a fixed point; the escaped-text fallback is one by
//      construction (a fragment without '<' parses to one text node that re-escapes to
//      itself).
//   4. The nesting guard only ever removes start tags from the input; it affects the
//      shape of pathological documents, never which elements or attributes survive.
#include "render/sanitizer.hpp"

#include <gumbo.h>

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/strings.hpp"

namespace starpunk::render {
namespace {

constexpr std::size_t kMaxOutputDepth = 100;  // allowed elements nested deeper are unwrapped
constexpr std::size_t kMaxParseDepth = 256;   // start tags nesting deeper are removed pre-parse
constexpr int kMaxPasses = 4;                 // sanitize_once runs before the text fallback

// ---------------------------------------------------------------------------------------
// Character helpers (ASCII only; the HTML tokenizer is ASCII-case-insensitive).

bool is_html_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}
bool is_ascii_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }
char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

template <typename Range>
bool iequals_in(std::string_view s, const Range& names) {
    for (std::string_view name : names)
        if (iequals(s, name)) return true;
    return false;
}

bool iequals_any(std::string_view s, std::initializer_list<std::string_view> names) {
    return iequals_in(s, names);
}

// Code points the HTML parser replaces or drops when they appear literally (they reach
// the tree only through character references such as "&#1;"). Writing them as-is would
// make the output re-parse differently. (CR, which it turns into LF, is handled apart.)
bool needs_replacement(char32_t cp) {
    return cp <= 0x08 || cp == 0x0B || (cp >= 0x0E && cp <= 0x1F) ||
           (cp >= 0x7F && cp <= 0x9F) || (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE;
}

// Appends `s` as well-formed UTF-8: malformed bytes (gumbo lets a few through, e.g. from
// overflowing character references) and the code points needs_replacement() lists become
// U+FFFD, CR becomes LF. With `escape`, & < > " ' are written as references, for text
// or a double-quoted attribute value.
void append_clean(std::string& out, std::string_view s, bool escape) {
    for (std::size_t i = 0; i < s.size();) {
        char32_t cp = 0;
        const std::size_t len = starpunk::decode_utf8(s, i, cp);
        if (len == 0 || needs_replacement(cp)) {
            out += "\xEF\xBF\xBD";
            i += len == 0 ? 1 : len;
            continue;
        }
        if (len == 1) {
            const char c = s[i];
            if (c == '\r') {
                out += '\n';
            } else if (!escape) {
                out.push_back(c);
            } else {
                switch (c) {
                    case '&': out += "&amp;"; break;
                    case '<': out += "&lt;"; break;
                    case '>': out += "&gt;"; break;
                    case '"': out += "&quot;"; break;
                    case '\'': out += "&#39;"; break;
                    default: out.push_back(c);
                }
            }
        } else {
            out.append(s.substr(i, len));
        }
        i += len;
    }
}

void append_escaped(std::string& out, std::string_view s) { append_clean(out, s, /*escape=*/true); }

// ---------------------------------------------------------------------------------------
// Nesting guard: a linear approximation of the HTML tokenizer and of the stack of open
// elements. gumbo checks element scopes by walking its stack, so deeply nested input
// costs O(tokens x depth); 100000 nested <div>s take ~40 s. The guard removes start
// tags that would open more than kMaxParseDepth elements, which bounds that cost for
// realistic inputs. It models comments, quoted attributes, raw-text elements, SVG/MathML,
// the common implied end tags, and the parser's re-opening of formatting elements that an
// end tag closed implicitly (<a><b>x</a>y reopens <b>); where it is wrong it only
// mis-estimates depth.

class NestingGuard {
public:
    explicit NestingGuard(std::string_view in) : in_(in) {}

    // The input with excess start tags removed, or nullopt when nothing was removed.
    std::optional<std::string> run();

private:
    static constexpr std::size_t npos = std::string_view::npos;

    struct OpenElement {
        std::string_view name;
        bool foreign;            // SVG or MathML element
        bool integration_point;  // foreign element whose children are parsed as HTML
        std::string_view source; // the whole start tag, attributes included
    };
    struct TagScan {
        std::size_t name_end;
        std::size_t end;  // one past '>', or npos when the input ends inside the tag
        bool self_closing;
    };

    TagScan scan_tag(std::size_t name_begin) const;
    std::size_t skip_past(std::string_view needle, std::size_t from) const;
    std::size_t comment_end(std::size_t from) const;
    std::size_t raw_text_end(std::string_view name, std::size_t from) const;
    std::size_t start_tag(std::size_t lt, const TagScan& tag, std::string_view name);
    bool push(std::size_t lt, const TagScan& tag, OpenElement element);
    void close_implied(std::string_view name);
    void end_tag(std::string_view name);
    bool top_is(std::initializer_list<std::string_view> names) const {
        return !stack_.empty() && !stack_.back().foreign && iequals_any(stack_.back().name, names);
    }
    bool in_foreign() const {
        return !stack_.empty() && stack_.back().foreign && !stack_.back().integration_point;
    }
    static bool is_p(const OpenElement& e) { return !e.foreign && iequals(e.name, "p"); }
    static bool is_formatting(const OpenElement& e) {
        return !e.foreign && iequals_any(e.name, {"a", "b", "big", "code", "em", "font", "i", "nobr", "s",
                                                  "small", "strike", "strong", "tt", "u"});
    }
    void pop() { truncate(stack_.size() - 1, false); }
    // Pops down to `size` entries; with `remember`, popped formatting elements are kept
    // for reopen(), as the parser keeps them in its list of active formatting elements.
    void truncate(std::size_t size, bool remember) {
        for (std::size_t k = size; k < stack_.size(); ++k) {
            if (is_p(stack_[k])) --open_p_;
            if (remember && is_formatting(stack_[k])) remember_formatting(stack_[k]);
        }
        stack_.resize(size);
    }
    // Like the parser's "Noah's Ark" clause, keeps at most three identical elements.
    void remember_formatting(const OpenElement& e) {
        std::size_t same = 0;
        std::size_t earliest = 0;
        for (std::size_t r = reopen_.size(); r-- > 0;) {
            if (iequals(reopen_[r].source, e.source)) {
                ++same;
                earliest = r;
            }
        }
        if (same >= 3) reopen_.erase(reopen_.begin() + static_cast<std::ptrdiff_t>(earliest));
        if (reopen_.size() < kMaxParseDepth) reopen_.push_back(e);
    }
    // Text and most start tags make the parser reopen implicitly closed formatting elements.
    void reopen() {
        for (const OpenElement& e : reopen_)
            if (stack_.size() < kMaxParseDepth) stack_.push_back(e);
        reopen_.clear();
    }

    std::string_view in_;
    std::vector<OpenElement> stack_;                         // size() <= kMaxParseDepth
    std::size_t open_p_ = 0;                                 // HTML <p> entries in stack_
    std::vector<OpenElement> reopen_;                        // closed implicitly, may reopen
    std::vector<std::pair<std::size_t, std::size_t>> cuts_;  // [begin, end) to remove, ascending
};

NestingGuard::TagScan NestingGuard::scan_tag(std::size_t name_begin) const {
    const std::size_t n = in_.size();
    std::size_t j = name_begin;
    while (j < n && !is_html_space(in_[j]) && in_[j] != '/' && in_[j] != '>') ++j;
    TagScan scan{j, npos, false};
    for (;;) {
        while (j < n && (is_html_space(in_[j]) || in_[j] == '/')) {
            if (in_[j] == '/' && j + 1 < n && in_[j + 1] == '>') scan.self_closing = true;
            ++j;
        }
        if (j >= n) return TagScan{scan.name_end, npos, false};
        if (in_[j] == '>') {
            scan.end = j + 1;
            return scan;
        }
        ++j;  // the first character of an attribute name may be anything, even '='
        while (j < n && !is_html_space(in_[j]) && in_[j] != '/' && in_[j] != '>' && in_[j] != '=') ++j;
        while (j < n && is_html_space(in_[j])) ++j;
        if (j < n && in_[j] == '=') {
            ++j;
            while (j < n && is_html_space(in_[j])) ++j;
            if (j >= n) return TagScan{scan.name_end, npos, false};
            if (in_[j] == '"' || in_[j] == '\'') {
                const std::size_t close = in_.find(in_[j], j + 1);
                if (close == npos) return TagScan{scan.name_end, npos, false};
                j = close + 1;
            } else {
                while (j < n && !is_html_space(in_[j]) && in_[j] != '>') ++j;
            }
        }
    }
}

std::size_t NestingGuard::skip_past(std::string_view needle, std::size_t from) const {
    const std::size_t at = in_.find(needle, from);
    return at == npos ? npos : at + needle.size();
}

// `from` is just after "<!--". Handles "<!-->", "<!--->", "-->", "--->" and "--!>".
std::size_t NestingGuard::comment_end(std::size_t from) const {
    const std::size_t n = in_.size();
    if (from < n && in_[from] == '>') return from + 1;
    if (from + 1 < n && in_[from] == '-' && in_[from + 1] == '>') return from + 2;
    std::size_t k = from;
    for (;;) {
        k = in_.find("--", k);
        if (k == npos) return npos;
        std::size_t e = k + 2;
        while (e < n && in_[e] == '-') ++e;
        if (e < n && in_[e] == '>') return e + 1;
        if (e + 1 < n && in_[e] == '!' && in_[e + 1] == '>') return e + 2;
        k = e;
    }
}

// Position of the '<' of the end tag that closes raw-text element `name`, or npos.
std::size_t NestingGuard::raw_text_end(std::string_view name, std::size_t from) const {
    const std::size_t n = in_.size();
    for (std::size_t k = in_.find("</", from); k != npos; k = in_.find("</", k + 2)) {
        const std::size_t e = k + 2 + name.size();
        if (e > n || !iequals(in_.substr(k + 2, name.size()), name)) continue;
        if (e == n || is_html_space(in_[e]) || in_[e] == '/' || in_[e] == '>') return k;
    }
    return npos;
}

bool NestingGuard::push(std::size_t lt, const TagScan& tag, OpenElement element) {
    if (stack_.size() >= kMaxParseDepth) {
        cuts_.emplace_back(lt, tag.end);
        return false;
    }
    stack_.push_back(element);
    if (is_p(element)) ++open_p_;
    return true;
}

void NestingGuard::close_implied(std::string_view name) {
    static constexpr std::string_view kClosesP[] = {
        "address", "article", "aside",   "blockquote", "center",  "details", "dialog", "dir",
        "div",     "dl",      "fieldset", "figcaption", "figure", "footer",  "header", "hgroup",
        "main",    "menu",    "nav",     "ol",         "p",       "section", "summary", "ul",
        "h1",      "h2",      "h3",      "h4",         "h5",      "h6",      "pre",     "listing",
        "form",    "table",   "xmp",     "li",         "dd",      "dt"};
    if (open_p_ > 0 && iequals_in(name, kClosesP)) {
        // "close a p element" when a <p> is in button scope.
        for (std::size_t k = stack_.size(); k-- > 0;) {
            const OpenElement& e = stack_[k];
            if (e.foreign || iequals_any(e.name, {"applet", "caption", "html", "table", "td", "th",
                                                  "marquee", "object", "template", "button"}))
                break;
            if (is_p(e)) {
                truncate(k, true);
                break;
            }
        }
    }
    if (iequals(name, "li")) {
        if (top_is({"li"})) pop();
    } else if (iequals_any(name, {"dt", "dd"})) {
        if (top_is({"dt", "dd"})) pop();
    } else if (iequals_any(name, {"td", "th"})) {
        if (top_is({"td", "th"})) pop();
    } else if (iequals(name, "tr")) {
        if (top_is({"td", "th"})) pop();
        if (top_is({"tr"})) pop();
    } else if (iequals_any(name, {"tbody", "thead", "tfoot"})) {
        if (top_is({"td", "th"})) pop();
        if (top_is({"tr"})) pop();
        if (top_is({"tbody", "thead", "tfoot"})) pop();
    } else if (iequals(name, "option")) {
        if (top_is({"option"})) pop();
    }
}

// Returns where scanning resumes (npos: the rest of the input cannot contain tags).
std::size_t NestingGuard::start_tag(std::size_t lt, const TagScan& tag, std::string_view name) {
    const std::string_view source = in_.substr(lt, tag.end - lt);
    if (in_foreign()) {
        static constexpr std::string_view kBreakout[] = {
            "b",  "big", "blockquote", "body", "br",   "center", "code", "dd",    "div",   "dl",
            "dt", "em",  "embed",      "h1",   "h2",   "h3",     "h4",   "h5",    "h6",    "head",
            "hr", "i",   "img",        "li",   "listing", "menu", "meta", "nobr", "ol",    "p",
            "pre", "ruby", "s",        "small", "span", "strong", "strike", "sub", "sup", "table",
            "tt", "u",   "ul",         "var",  "font"};
        if (!iequals_in(name, kBreakout)) {
            if (tag.self_closing) return tag.end;
            const bool integration = iequals_any(
                name, {"foreignobject", "desc", "title", "mi", "mo", "mn", "ms", "mtext", "annotation-xml"});
            push(lt, tag, OpenElement{name, true, integration, source});
            return tag.end;
        }
        while (in_foreign()) pop();
    }
    if (iequals_any(name, {"svg", "math"})) {
        if (!tag.self_closing) push(lt, tag, OpenElement{name, true, false, source});
        return tag.end;
    }
    close_implied(name);
    if (iequals_any(name, {"area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr",
                           "image", "img", "input", "keygen", "link", "meta", "param", "source",
                           "track", "wbr"}))
        return tag.end;
    if (!push(lt, tag, OpenElement{name, false, false, source})) return tag.end;  // removed: markup stays
    if (iequals(name, "plaintext")) return npos;
    if (iequals_any(name, {"script", "style", "xmp", "iframe", "noembed", "noframes", "noscript",
                           "textarea", "title"}))
        return raw_text_end(name, tag.end);
    return tag.end;
}

void NestingGuard::end_tag(std::string_view name) {
    std::size_t k = stack_.size();
    while (k > 0 && !iequals(stack_[k - 1].name, name)) --k;
    if (k == 0) {  // not open: an end tag for a formatting element also forgets it
        for (std::size_t r = 0; r < reopen_.size(); ++r) {
            if (iequals(reopen_[r].name, name)) {
                reopen_.erase(reopen_.begin() + static_cast<std::ptrdiff_t>(r));
                break;
            }
        }
        return;
    }
    const std::size_t at = k - 1;
    if (is_formatting(stack_[at])) {
        // Adoption agency: with a non-formatting element (the "furthest block") above it,
        // only the formatting element itself leaves the stack.
        for (std::size_t j = at + 1; j < stack_.size(); ++j) {
            if (!is_formatting(stack_[j])) {
                stack_.erase(stack_.begin() + static_cast<std::ptrdiff_t>(at));
                return;
            }
        }
    }
    truncate(at + 1, true);  // what the end tag closes implicitly
    pop();                   // what it closes explicitly
}

std::optional<std::string> NestingGuard::run() {
    const std::size_t n = in_.size();
    std::size_t i = 0;
    while (i < n) {
        const std::size_t lt = in_.find('<', i);
        if (lt == npos || lt + 1 >= n) break;
        if (lt > i) reopen();  // text
        const char c = in_[lt + 1];
        if (is_ascii_alpha(c)) {
            const TagScan tag = scan_tag(lt + 1);
            if (tag.end == npos) break;
            reopen();
            i = start_tag(lt, tag, in_.substr(lt + 1, tag.name_end - (lt + 1)));
        } else if (c == '/') {
            if (lt + 2 < n && is_ascii_alpha(in_[lt + 2])) {
                const TagScan tag = scan_tag(lt + 2);
                if (tag.end == npos) break;
                end_tag(in_.substr(lt + 2, tag.name_end - (lt + 2)));
                i = tag.end;
            } else if (lt + 2 < n && in_[lt + 2] == '>') {
                i = lt + 3;
            } else {
                i = skip_past(">", lt + 2);  // bogus comment
            }
        } else if (c == '!') {
            if (in_.compare(lt, 4, "<!--") == 0)
                i = comment_end(lt + 4);
            else if (in_foreign() && in_.compare(lt, 9, "<![CDATA[") == 0)
                i = skip_past("]]>", lt + 9);
            else
                i = skip_past(">", lt + 2);  // doctype or bogus comment
        } else if (c == '?') {
            i = skip_past(">", lt + 2);  // bogus comment
        } else {
            reopen();
            i = lt + 1;  // a lone '<' is text
        }
    }
    if (cuts_.empty()) return std::nullopt;

    std::string out;
    out.reserve(n);
    std::size_t pos = 0;
    for (const auto& [begin, end] : cuts_) {
        out.append(in_.substr(pos, begin - pos));
        // A text '<' right before the removed tag must not start a new token with what
        // follows the tag.
        if (!out.empty() && out.back() == '<') {
            out.pop_back();
            out += "&lt;";
        }
        pos = end;
    }
    out.append(in_.substr(pos));
    return out;
}

// ---------------------------------------------------------------------------------------
// Element and attribute policy.

enum class Disposition : unsigned char { unwrap, allow, drop };

Disposition disposition_of(GumboTag tag) {
    switch (tag) {
        case GUMBO_TAG_P: case GUMBO_TAG_BR: case GUMBO_TAG_HR: case GUMBO_TAG_WBR:
        case GUMBO_TAG_H1: case GUMBO_TAG_H2: case GUMBO_TAG_H3: case GUMBO_TAG_H4:
        case GUMBO_TAG_H5: case GUMBO_TAG_H6: case GUMBO_TAG_BLOCKQUOTE: case GUMBO_TAG_PRE:
        case GUMBO_TAG_CODE: case GUMBO_TAG_EM: case GUMBO_TAG_STRONG: case GUMBO_TAG_B:
        case GUMBO_TAG_I: case GUMBO_TAG_U: case GUMBO_TAG_S: case GUMBO_TAG_DEL:
        case GUMBO_TAG_INS: case GUMBO_TAG_SUB: case GUMBO_TAG_SUP: case GUMBO_TAG_SMALL:
        case GUMBO_TAG_MARK: case GUMBO_TAG_ABBR: case GUMBO_TAG_CITE: case GUMBO_TAG_Q:
        case GUMBO_TAG_KBD: case GUMBO_TAG_SAMP: case GUMBO_TAG_VAR: case GUMBO_TAG_DFN:
        case GUMBO_TAG_TIME: case GUMBO_TAG_SPAN: case GUMBO_TAG_DIV: case GUMBO_TAG_UL:
        case GUMBO_TAG_OL: case GUMBO_TAG_LI: case GUMBO_TAG_DL: case GUMBO_TAG_DT:
        case GUMBO_TAG_DD: case GUMBO_TAG_A: case GUMBO_TAG_IMG: case GUMBO_TAG_FIGURE:
        case GUMBO_TAG_FIGCAPTION: case GUMBO_TAG_TABLE: case GUMBO_TAG_CAPTION:
        case GUMBO_TAG_THEAD: case GUMBO_TAG_TBODY: case GUMBO_TAG_TFOOT: case GUMBO_TAG_TR:
        case GUMBO_TAG_TH: case GUMBO_TAG_TD: case GUMBO_TAG_DETAILS: case GUMBO_TAG_SUMMARY:
        case GUMBO_TAG_SECTION: case GUMBO_TAG_ARTICLE: case GUMBO_TAG_ASIDE:
        case GUMBO_TAG_HEADER: case GUMBO_TAG_FOOTER:
        case GUMBO_TAG_INPUT:  // task-list checkboxes only, see is_checkbox
            return Disposition::allow;
        case GUMBO_TAG_SCRIPT: case GUMBO_TAG_STYLE: case GUMBO_TAG_IFRAME: case GUMBO_TAG_OBJECT:
        case GUMBO_TAG_EMBED: case GUMBO_TAG_APPLET: case GUMBO_TAG_TEMPLATE:
        case GUMBO_TAG_NOSCRIPT: case GUMBO_TAG_NOEMBED: case GUMBO_TAG_NOFRAMES:
        case GUMBO_TAG_TEXTAREA: case GUMBO_TAG_SELECT: case GUMBO_TAG_OPTION:
        case GUMBO_TAG_OPTGROUP: case GUMBO_TAG_DATALIST: case GUMBO_TAG_BUTTON:
        case GUMBO_TAG_FRAME: case GUMBO_TAG_FRAMESET: case GUMBO_TAG_HEAD: case GUMBO_TAG_TITLE:
        case GUMBO_TAG_META: case GUMBO_TAG_LINK: case GUMBO_TAG_BASE: case GUMBO_TAG_BASEFONT:
        case GUMBO_TAG_BGSOUND: case GUMBO_TAG_PARAM: case GUMBO_TAG_SOURCE: case GUMBO_TAG_TRACK:
        case GUMBO_TAG_AUDIO: case GUMBO_TAG_VIDEO: case GUMBO_TAG_CANVAS: case GUMBO_TAG_AREA:
        case GUMBO_TAG_KEYGEN: case GUMBO_TAG_COL: case GUMBO_TAG_COLGROUP: case GUMBO_TAG_SVG:
        case GUMBO_TAG_MATH:
            return Disposition::drop;
        default:
            return Disposition::unwrap;
    }
}

bool is_void(GumboTag tag) {
    return tag == GUMBO_TAG_BR || tag == GUMBO_TAG_HR || tag == GUMBO_TAG_WBR ||
           tag == GUMBO_TAG_IMG || tag == GUMBO_TAG_INPUT;
}

const GumboAttribute* find_attribute(const GumboElement& el, const char* name) {
    return gumbo_get_attribute(&el.attributes, name);
}

bool is_checkbox(const GumboElement& el) {
    const GumboAttribute* type = find_attribute(el, "type");
    return type != nullptr && iequals(type->value, "checkbox");
}

bool has_class(const GumboElement& el, std::string_view token) {
    const GumboAttribute* cls = find_attribute(el, "class");
    if (cls == nullptr) return false;
    std::string_view v = cls->value;
    std::size_t i = 0;
    while (i < v.size()) {
        while (i < v.size() && is_html_space(v[i])) ++i;
        std::size_t j = i;
        while (j < v.size() && !is_html_space(v[j])) ++j;
        if (v.substr(i, j - i) == token) return true;
        i = j;
    }
    return false;
}

// URL rule, see the header. Returns the value to emit, or nullopt to drop the attribute.
std::optional<std::string> clean_url(std::string_view value, bool allow_mailto) {
    std::string url;
    url.reserve(value.size());
    for (char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F) continue;
        url.push_back(c);
    }
    const std::size_t first = url.find_first_not_of(' ');
    if (first == std::string::npos) return std::string();
    url = url.substr(first, url.find_last_not_of(' ') - first + 1);

    std::string scheme;
    for (char c : url) {
        if (c == ' ') continue;
        if (c == '/' || c == '?' || c == '#') return url;  // relative
        if (c == ':') {
            if (scheme == "http" || scheme == "https" || (allow_mailto && scheme == "mailto")) return url;
            return std::nullopt;
        }
        scheme.push_back(ascii_lower(c));
    }
    return url;  // no ':' at all: relative
}

template <typename Pred>
bool all_of(std::string_view s, Pred pred) {
    for (char c : s)
        if (!pred(c)) return false;
    return true;
}

// Whitespace-separated tokens made only of characters accepted by `pred`, joined by one
// space; nullopt when no token survives.
template <typename Pred>
std::optional<std::string> clean_tokens(std::string_view v, Pred pred) {
    std::string out;
    std::size_t i = 0;
    while (i < v.size()) {
        while (i < v.size() && is_html_space(v[i])) ++i;
        std::size_t j = i;
        while (j < v.size() && !is_html_space(v[j])) ++j;
        const std::string_view token = v.substr(i, j - i);
        if (!token.empty() && all_of(token, pred)) {
            if (!out.empty()) out.push_back(' ');
            out.append(token);
        }
        i = j;
    }
    if (out.empty()) return std::nullopt;
    return out;
}

bool is_digits(std::string_view v, std::size_t max_len) {
    return !v.empty() && v.size() <= max_len && all_of(v, is_ascii_digit);
}

bool is_integer(std::string_view v) {
    if (!v.empty() && v.front() == '-') v.remove_prefix(1);
    return is_digits(v, 9);
}

// Case-insensitive match against `choices`; returns the canonical (listed) spelling.
std::optional<std::string> one_of(std::string_view v, std::initializer_list<std::string_view> choices) {
    for (std::string_view choice : choices)
        if (iequals(v, choice)) return std::string(choice);
    return std::nullopt;
}

bool is_class_char(char c) { return is_ascii_alpha(c) || is_ascii_digit(c) || c == '_' || c == '-'; }
bool is_rel_char(char c) { return is_class_char(c) || c == '.' || c == ':'; }
bool is_lang_char(char c) { return is_ascii_alpha(c) || is_ascii_digit(c) || c == '-'; }

// Only the classes our own Markdown renderer emits survive: content must not
// add microformats (h-*, p-*, u-*, dt-*, e-*) to the page's h-entry, nor borrow
// the site's CSS classes.
bool is_allowed_class(std::string_view token) {
    static constexpr std::string_view kAllowed[] = {"footnotes",  "footnote-ref", "footnote-backref",
                                                    "align-left", "align-center", "align-right",
                                                    "align-justify"};
    if (token.rfind("language-", 0) == 0 && token.size() > 9 && all_of(token, is_class_char)) return true;
    for (std::string_view allowed : kAllowed)
        if (token == allowed) return true;
    return false;
}

std::optional<std::string> clean_class(std::string_view v) {
    std::string out;
    std::size_t i = 0;
    while (i < v.size()) {
        while (i < v.size() && is_html_space(v[i])) ++i;
        std::size_t j = i;
        while (j < v.size() && !is_html_space(v[j])) ++j;
        const std::string_view token = v.substr(i, j - i);
        if (!token.empty() && is_allowed_class(token) && out.find(token) == std::string::npos) {
            if (!out.empty()) out.push_back(' ');
            out.append(token);
        }
        i = j;
    }
    if (out.empty()) return std::nullopt;
    return out;
}

// The value to emit for attribute `name` of an allowed element `tag` (not input), or
// nullopt to drop it. Boolean attributes yield "".
std::optional<std::string> clean_attribute(GumboTag tag, std::string_view name, std::string_view v) {
    if (name == "title") return std::string(v);
    if (name == "lang") {
        if (!v.empty() && v.size() <= 35 && all_of(v, is_lang_char)) return std::string(v);
        return std::nullopt;
    }
    if (name == "dir") return one_of(v, {"ltr", "rtl", "auto"});
    if (name == "class") return clean_class(v);
    if (name == "id") {
        const bool footnote = v.rfind("fn-", 0) == 0 || v.rfind("fnref-", 0) == 0;
        if (footnote && v.size() <= 128 && all_of(v, [](char c) { return !is_html_space(c); }))
            return std::string(v);
        return std::nullopt;
    }
    switch (tag) {
        case GUMBO_TAG_A:
            if (name == "href") return clean_url(v, /*allow_mailto=*/true);
            if (name == "rel") return clean_tokens(v, is_rel_char);
            if (name == "aria-label") return std::string(v);
            break;
        case GUMBO_TAG_IMG:
            if (name == "src") return clean_url(v, /*allow_mailto=*/false);
            if (name == "alt") return std::string(v);
            if (name == "width" || name == "height") {
                if (is_digits(v, 5)) return std::string(v);
                return std::nullopt;
            }
            break;
        case GUMBO_TAG_OL:
            if (name == "start") {
                if (is_integer(v)) return std::string(v);
                return std::nullopt;
            }
            if (name == "reversed") return std::string();
            if (name == "type") {
                if (v == "1" || v == "a" || v == "A" || v == "i" || v == "I") return std::string(v);
                return std::nullopt;
            }
            break;
        case GUMBO_TAG_LI:
            if (name == "value" && is_integer(v)) return std::string(v);
            break;
        case GUMBO_TAG_TD:
        case GUMBO_TAG_TH:
            if (name == "colspan" || name == "rowspan") {
                if (is_digits(v, 4)) return std::string(v);
                return std::nullopt;
            }
            // `align` is obsolete in HTML5: write_start_tag turns it into a class.
            if (tag == GUMBO_TAG_TH && name == "scope")
                return one_of(v, {"row", "col", "rowgroup", "colgroup"});
            break;
        case GUMBO_TAG_BLOCKQUOTE:
        case GUMBO_TAG_Q:
            if (name == "cite") return clean_url(v, /*allow_mailto=*/false);
            break;
        case GUMBO_TAG_DEL:
        case GUMBO_TAG_INS:
            if (name == "cite") return clean_url(v, /*allow_mailto=*/false);
            if (name == "datetime") return std::string(v);
            break;
        case GUMBO_TAG_TIME:
            if (name == "datetime") return std::string(v);
            break;
        case GUMBO_TAG_DETAILS:
            if (name == "open") return std::string();
            break;
        default:
            break;
    }
    return std::nullopt;
}

bool is_block_for_text(GumboTag tag) {
    switch (tag) {
        case GUMBO_TAG_P: case GUMBO_TAG_DIV: case GUMBO_TAG_H1: case GUMBO_TAG_H2:
        case GUMBO_TAG_H3: case GUMBO_TAG_H4: case GUMBO_TAG_H5: case GUMBO_TAG_H6:
        case GUMBO_TAG_BLOCKQUOTE: case GUMBO_TAG_PRE: case GUMBO_TAG_UL: case GUMBO_TAG_OL:
        case GUMBO_TAG_LI: case GUMBO_TAG_DL: case GUMBO_TAG_DT: case GUMBO_TAG_DD:
        case GUMBO_TAG_FIGURE: case GUMBO_TAG_FIGCAPTION: case GUMBO_TAG_TABLE:
        case GUMBO_TAG_CAPTION: case GUMBO_TAG_THEAD: case GUMBO_TAG_TBODY: case GUMBO_TAG_TFOOT:
        case GUMBO_TAG_TR: case GUMBO_TAG_DETAILS: case GUMBO_TAG_SUMMARY: case GUMBO_TAG_SECTION:
        case GUMBO_TAG_ARTICLE: case GUMBO_TAG_ASIDE: case GUMBO_TAG_HEADER: case GUMBO_TAG_FOOTER:
        case GUMBO_TAG_HR: case GUMBO_TAG_BR: case GUMBO_TAG_ADDRESS: case GUMBO_TAG_MAIN:
        case GUMBO_TAG_NAV: case GUMBO_TAG_CENTER: case GUMBO_TAG_FORM: case GUMBO_TAG_FIELDSET:
        case GUMBO_TAG_LEGEND: case GUMBO_TAG_LISTING: case GUMBO_TAG_XMP:
        case GUMBO_TAG_PLAINTEXT: case GUMBO_TAG_MENU: case GUMBO_TAG_DIR: case GUMBO_TAG_HGROUP:
            return true;
        default:
            return false;
    }
}

// ---------------------------------------------------------------------------------------
// Parsing and serialization.

struct GumboOutputDeleter {
    void operator()(GumboOutput* output) const { gumbo_destroy_output(&kGumboDefaultOptions, output); }
};
using ParsedFragment = std::unique_ptr<GumboOutput, GumboOutputDeleter>;

// Parses `html` as the children of a <div>, after the nesting guard. The returned tree
// points into `storage` or `html`; both must outlive it.
ParsedFragment parse_fragment(std::string_view html, std::optional<std::string>& storage) {
    storage = NestingGuard(html).run();
    const std::string_view input = storage ? std::string_view(*storage) : html;
    GumboOptions options = kGumboDefaultOptions;  // default (malloc/free) allocator
    options.fragment_context = GUMBO_TAG_DIV;
    options.fragment_namespace = GUMBO_NAMESPACE_HTML;
    options.max_errors = 0;  // we never look at parse errors; do not record them
    return ParsedFragment(gumbo_parse_with_options(&options, input.data(), input.size()));
}

enum class Mode {
    html,          // sanitized markup
    escaped_text,  // escaped text of the kept nodes, no tags (the stable fallback)
    plain_text,    // unescaped text with '\n' at block boundaries (html_to_plain_text)
};

class Serializer {
public:
    Serializer(Mode mode, std::string& out) : mode_(mode), out_(out) {}

    void run(const GumboNode& root);

private:
    struct Frame {
        const GumboVector* children;
        unsigned int next;
        const char* end_tag;  // tag to close when the frame ends; nullptr if unwrapped
        bool block;           // plain_text: end the line when the frame ends
        bool pre;             // plain_text: a <pre>, whose line breaks are kept
    };

    void open_element(const GumboNode& node);
    bool fits_context(GumboTag tag) const;
    bool p_in_button_scope() const;
    bool item_open(GumboTag a, GumboTag b) const;
    void write_start_tag(const GumboElement& el, const char* name);
    void write_text(std::string_view text);

    Mode mode_;
    std::string& out_;
    std::vector<Frame> stack_;
    std::vector<GumboTag> open_;  // emitted, still open (non-void) elements; <= kMaxOutputDepth
    std::size_t pre_depth_ = 0;   // plain_text: open <pre> elements
    bool at_pre_start_ = false;   // just wrote <pre>: a leading LF must be doubled
};

void Serializer::run(const GumboNode& root) {
    if (root.type != GUMBO_NODE_ELEMENT) return;
    stack_.push_back(Frame{&root.v.element.children, 0, nullptr, false, false});
    while (!stack_.empty()) {
        Frame& frame = stack_.back();
        if (frame.next >= frame.children->length) {
            if (frame.end_tag != nullptr) {
                out_ += "</";
                out_ += frame.end_tag;
                out_ += '>';
                at_pre_start_ = false;
                open_.pop_back();
            }
            if (mode_ == Mode::plain_text && frame.block) out_ += '\n';
            if (frame.pre) --pre_depth_;
            stack_.pop_back();
            continue;
        }
        const auto* node = static_cast<const GumboNode*>(frame.children->data[frame.next++]);
        switch (node->type) {
            case GUMBO_NODE_TEXT:
            case GUMBO_NODE_WHITESPACE:
                write_text(node->v.text.text);
                break;
            case GUMBO_NODE_ELEMENT:
            case GUMBO_NODE_TEMPLATE:
                open_element(*node);  // may push: `frame` is dangling from here on
                break;
            case GUMBO_NODE_CDATA:     // only inside SVG/MathML, which is dropped anyway
            case GUMBO_NODE_COMMENT:
            case GUMBO_NODE_DOCUMENT:
                break;
        }
    }
}

void Serializer::open_element(const GumboNode& node) {
    const GumboElement& el = node.v.element;
    if (node.type == GUMBO_NODE_TEMPLATE || el.tag_namespace != GUMBO_NAMESPACE_HTML) return;
    const Disposition disposition = disposition_of(el.tag);
    if (disposition == Disposition::drop) return;
    if (el.tag == GUMBO_TAG_INPUT && !is_checkbox(el)) return;
    if (el.tag == GUMBO_TAG_IMG && mode_ == Mode::html) {
        const GumboAttribute* src = find_attribute(el, "src");
        if (src == nullptr || !clean_url(src->value, /*allow_mailto=*/false)) return;  // an image needs a source
    }
    if (mode_ == Mode::plain_text) {
        if ((el.tag == GUMBO_TAG_SUP && has_class(el, "footnote-ref")) ||
            (el.tag == GUMBO_TAG_A && has_class(el, "footnote-backref")))
            return;
    }

    const bool void_element = is_void(el.tag);
    const bool emit = mode_ == Mode::html && disposition == Disposition::allow &&
                      (void_element || open_.size() < kMaxOutputDepth) && fits_context(el.tag);
    const char* name = gumbo_normalized_tagname(el.tag);
    if (emit) write_start_tag(el, name);

    const bool block = mode_ == Mode::plain_text && is_block_for_text(el.tag);
    if (block) out_ += '\n';
    if (mode_ == Mode::plain_text) {
        if (el.tag == GUMBO_TAG_TD || el.tag == GUMBO_TAG_TH) out_ += ' ';
        if (el.tag == GUMBO_TAG_IMG) {
            if (const GumboAttribute* alt = find_attribute(el, "alt")) {
                out_ += ' ';
                append_clean(out_, alt->value, /*escape=*/false);
                out_ += ' ';
            }
        }
    }
    if (void_element) return;  // the parser never gives void elements children

    const bool pre = mode_ == Mode::plain_text && el.tag == GUMBO_TAG_PRE;
    if (pre) ++pre_depth_;
    stack_.push_back(Frame{&el.children, 0, emit ? name : nullptr, block, pre});
    if (emit) {
        open_.push_back(el.tag);
        at_pre_start_ = el.tag == GUMBO_TAG_PRE;
    }
}

bool is_heading(GumboTag tag) {
    return tag == GUMBO_TAG_H1 || tag == GUMBO_TAG_H2 || tag == GUMBO_TAG_H3 || tag == GUMBO_TAG_H4 ||
           tag == GUMBO_TAG_H5 || tag == GUMBO_TAG_H6;
}

// Allowed elements whose start tag closes an open <p> ("close a p element").
bool closes_p(GumboTag tag) {
    switch (tag) {
        case GUMBO_TAG_ARTICLE: case GUMBO_TAG_ASIDE: case GUMBO_TAG_BLOCKQUOTE:
        case GUMBO_TAG_DETAILS: case GUMBO_TAG_DIV: case GUMBO_TAG_DL: case GUMBO_TAG_FIGCAPTION:
        case GUMBO_TAG_FIGURE: case GUMBO_TAG_FOOTER: case GUMBO_TAG_HEADER: case GUMBO_TAG_OL:
        case GUMBO_TAG_P: case GUMBO_TAG_SECTION: case GUMBO_TAG_SUMMARY: case GUMBO_TAG_UL:
        case GUMBO_TAG_PRE: case GUMBO_TAG_TABLE: case GUMBO_TAG_LI: case GUMBO_TAG_DD:
        case GUMBO_TAG_DT: case GUMBO_TAG_HR:
            return true;
        default:
            return is_heading(tag);
    }
}

// Allowed non-void elements in the HTML parser's "special" category.
bool is_special(GumboTag tag) {
    switch (tag) {
        case GUMBO_TAG_ARTICLE: case GUMBO_TAG_ASIDE: case GUMBO_TAG_BLOCKQUOTE:
        case GUMBO_TAG_CAPTION: case GUMBO_TAG_DD: case GUMBO_TAG_DETAILS: case GUMBO_TAG_DIV:
        case GUMBO_TAG_DL: case GUMBO_TAG_DT: case GUMBO_TAG_FIGCAPTION: case GUMBO_TAG_FIGURE:
        case GUMBO_TAG_FOOTER: case GUMBO_TAG_HEADER: case GUMBO_TAG_LI: case GUMBO_TAG_OL:
        case GUMBO_TAG_P: case GUMBO_TAG_PRE: case GUMBO_TAG_SECTION: case GUMBO_TAG_SUMMARY:
        case GUMBO_TAG_TABLE: case GUMBO_TAG_TBODY: case GUMBO_TAG_TD: case GUMBO_TAG_TFOOT:
        case GUMBO_TAG_TH: case GUMBO_TAG_THEAD: case GUMBO_TAG_TR: case GUMBO_TAG_UL:
            return true;
        default:
            return is_heading(tag);
    }
}

bool is_table_section(GumboTag tag) {
    return tag == GUMBO_TAG_TBODY || tag == GUMBO_TAG_THEAD || tag == GUMBO_TAG_TFOOT;
}

bool Serializer::p_in_button_scope() const {
    for (std::size_t k = open_.size(); k-- > 0;) {
        const GumboTag t = open_[k];
        if (t == GUMBO_TAG_P) return true;
        if (t == GUMBO_TAG_TABLE || t == GUMBO_TAG_TD || t == GUMBO_TAG_TH || t == GUMBO_TAG_CAPTION)
            return false;
    }
    return false;
}

// Whether a new <li> (a = b = LI) or <dt>/<dd> would implicitly close an open one.
bool Serializer::item_open(GumboTag a, GumboTag b) const {
    for (std::size_t k = open_.size(); k-- > 0;) {
        const GumboTag t = open_[k];
        if (t == a || t == b) return true;
        if (is_special(t) && t != GUMBO_TAG_DIV && t != GUMBO_TAG_P) return false;
    }
    return false;
}

// False when the HTML parser would not leave `tag` where the serializer is about to put
// it (inside the open elements `open_`), so that writing it would re-parse into another
// tree; the element is then unwrapped instead. Such placements arise when unwrapping or
// foster parenting moved things around, never from well-formed input.
bool Serializer::fits_context(GumboTag tag) const {
    const GumboTag parent = open_.empty() ? GUMBO_TAG_DIV : open_.back();
    const bool parent_is_table_part = parent == GUMBO_TAG_TABLE || is_table_section(parent) ||
                                      parent == GUMBO_TAG_TR;
    switch (tag) {
        case GUMBO_TAG_TABLE:  // needs room for table > tbody > tr > td below the depth cap
            if (open_.size() + 4 > kMaxOutputDepth) return false;
            break;
        case GUMBO_TAG_CAPTION:
            return parent == GUMBO_TAG_TABLE;
        case GUMBO_TAG_TBODY: case GUMBO_TAG_THEAD: case GUMBO_TAG_TFOOT:
            return parent == GUMBO_TAG_TABLE;
        case GUMBO_TAG_TR:
            return is_table_section(parent);
        case GUMBO_TAG_TD: case GUMBO_TAG_TH:
            return parent == GUMBO_TAG_TR;
        default:
            break;
    }
    if (parent_is_table_part) return false;  // would be foster-parented out of the table
    if (closes_p(tag) && p_in_button_scope()) return false;
    if (tag == GUMBO_TAG_LI && item_open(GUMBO_TAG_LI, GUMBO_TAG_LI)) return false;
    if ((tag == GUMBO_TAG_DT || tag == GUMBO_TAG_DD) && item_open(GUMBO_TAG_DT, GUMBO_TAG_DD))
        return false;
    if (is_heading(tag) && is_heading(parent)) return false;
    if (tag == GUMBO_TAG_A) {  // a second <a> closes the first unless a cell/caption intervenes
        for (std::size_t k = open_.size(); k-- > 0;) {
            const GumboTag t = open_[k];
            if (t == GUMBO_TAG_A) return false;
            if (t == GUMBO_TAG_TD || t == GUMBO_TAG_TH || t == GUMBO_TAG_CAPTION) break;
        }
    }
    return true;
}

void Serializer::write_start_tag(const GumboElement& el, const char* name) {
    at_pre_start_ = false;
    out_ += '<';
    out_ += name;
    if (el.tag == GUMBO_TAG_INPUT) {
        out_ += " type=\"checkbox\"";
        if (find_attribute(el, "checked") != nullptr) out_ += " checked=\"\"";
        out_ += " disabled=\"\"";
    } else {
        // Table cells: an `align` attribute (cmark-gfm's column alignment)
        // becomes an align-* class, merged with any class already there.
        std::string extra_class;
        if (el.tag == GUMBO_TAG_TD || el.tag == GUMBO_TAG_TH) {
            if (const GumboAttribute* align = find_attribute(el, "align")) {
                if (auto a = one_of(align->value, {"left", "center", "right", "justify"})) extra_class = "align-" + *a;
            }
        }
        bool wrote_class = false;
        bool wrote_alt = false;
        for (unsigned int i = 0; i < el.attributes.length; ++i) {
            const auto* attr = static_cast<const GumboAttribute*>(el.attributes.data[i]);
            if (attr->attr_namespace != GUMBO_ATTR_NAMESPACE_NONE) continue;
            std::optional<std::string> value = clean_attribute(el.tag, attr->name, attr->value);
            const bool is_class = std::string_view(attr->name) == "class";
            if (is_class && !extra_class.empty()) {
                value = clean_class((value ? *value + " " : std::string()) + extra_class);
                extra_class.clear();
            }
            if (!value) continue;
            wrote_class = wrote_class || is_class;
            wrote_alt = wrote_alt || std::string_view(attr->name) == "alt";
            out_ += ' ';
            out_ += attr->name;  // from the allowlist: lower-case ASCII
            out_ += "=\"";
            append_escaped(out_, *value);
            out_ += '"';
        }
        if (!extra_class.empty() && !wrote_class) {
            out_ += " class=\"";
            out_ += extra_class;
            out_ += '"';
        }
        // Every image has a text alternative (empty: decorative).
        if (el.tag == GUMBO_TAG_IMG && !wrote_alt) out_ += " alt=\"\"";
    }
    out_ += '>';
}

void Serializer::write_text(std::string_view text) {
    if (text.empty()) return;
    if (mode_ == Mode::plain_text) {
        // Outside <pre>, a line break in the source is just whitespace.
        const std::size_t from = out_.size();
        append_clean(out_, text, /*escape=*/false);
        if (pre_depth_ == 0) std::replace(out_.begin() + static_cast<std::ptrdiff_t>(from), out_.end(), '\n', ' ');
        return;
    }
    // The parser drops one LF right after <pre>; keep a leading LF by writing two.
    if (at_pre_start_ && text.front() == '\n') out_ += '\n';
    at_pre_start_ = false;
    append_escaped(out_, text);
}

std::string serialize(std::string_view html, Mode mode) {
    std::optional<std::string> storage;
    const ParsedFragment parsed = parse_fragment(html, storage);
    std::string out;
    if (!parsed || parsed->root == nullptr) return out;
    out.reserve(html.size());
    Serializer(mode, out).run(*parsed->root);
    return out;
}

// Collapses whitespace inside lines, trims lines, drops empty ones.
std::string tidy_lines(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    std::size_t i = 0;
    while (i < raw.size()) {
        std::size_t eol = raw.find('\n', i);
        if (eol == std::string_view::npos) eol = raw.size();
        bool pending_space = false;
        bool line_started = false;
        for (std::size_t k = i; k < eol; ++k) {
            const char c = raw[k];
            if (is_html_space(c) || c == '\v') {
                pending_space = line_started;
                continue;
            }
            if (!line_started) {
                if (!out.empty()) out.push_back('\n');
                line_started = true;
            } else if (pending_space) {
                out.push_back(' ');
            }
            pending_space = false;
            out.push_back(c);
        }
        i = eol + 1;
    }
    return out;
}

}  // namespace

std::string sanitize_html(std::string_view html) {
    std::string current = serialize(html, Mode::html);
    for (int pass = 1; pass < kMaxPasses; ++pass) {
        std::string next = serialize(current, Mode::html);
        if (next == current) return current;
        current = std::move(next);
    }
    // No fixed point: fall back to the text content, which is one (see invariant 3).
    std::string text = serialize(current, Mode::escaped_text);
    if (serialize(text, Mode::html) == text) return text;
    return std::string();
}

std::string html_to_plain_text(std::string_view html) {
    return tidy_lines(serialize(html, Mode::plain_text));
}

}  // namespace starpunk::render
