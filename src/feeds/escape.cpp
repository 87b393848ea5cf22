#include "feeds/escape.hpp"

#include "util/strings.hpp"

namespace starpunk::feeds {

namespace {

constexpr char32_t kReplacement = 0xFFFD;

bool forbidden_in_xml(char32_t cp) {
    return (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0xFFFE || cp == 0xFFFF;
}

// Appends `text` to `out` under the policy in escape.hpp. `ascii(c)` returns
// the escape for an ASCII character (empty: copy it as is); `other(cp)` the
// escape for a kept non-ASCII code point (empty: copy its UTF-8). Runs of
// characters that need nothing are copied in one piece.
template <typename Ascii, typename Other>
void escape_into(std::string& out, std::string_view text, Ascii ascii, Other other) {
    static const std::string replacement = [] {
        std::string r;
        append_utf8(r, kReplacement);
        return r;
    }();
    out.reserve(out.size() + text.size() + text.size() / 16 + 2);
    size_t run = 0;  // start of the pending verbatim run
    size_t i = 0;
    auto flush = [&] { out.append(text.substr(run, i - run)); };
    while (i < text.size()) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x80) {
            if (c >= 0x20) {
                std::string_view esc = ascii(static_cast<char>(c));
                if (esc.empty()) {
                    ++i;
                    continue;
                }
                flush();
                out.append(esc);
            } else {
                flush();
                if (!forbidden_in_xml(c)) {
                    std::string_view esc = ascii(static_cast<char>(c));
                    if (esc.empty()) {
                        out.push_back(static_cast<char>(c));
                    } else {
                        out.append(esc);
                    }
                }
            }
            run = ++i;
            continue;
        }
        char32_t cp = 0;
        size_t len = decode_utf8(text, i, cp);
        if (len == 0) {
            flush();
            out.append(replacement);
            run = ++i;
            continue;
        }
        if (forbidden_in_xml(cp)) {  // U+FFFE, U+FFFF
            flush();
            run = i += len;
            continue;
        }
        std::string_view esc = other(cp);
        if (esc.empty()) {
            i += len;
            continue;
        }
        flush();
        out.append(esc);
        run = i += len;
    }
    flush();
}

}  // namespace

void append_xml_escaped(std::string& out, std::string_view text) {
    escape_into(
        out, text,
        [](char c) -> std::string_view {
            switch (c) {
                case '&': return "&amp;";
                case '<': return "&lt;";
                case '>': return "&gt;";
                case '"': return "&quot;";
                case '\'': return "&#39;";
                case '\r': return "&#13;";
                default: return {};
            }
        },
        [](char32_t) -> std::string_view { return {}; });
}

std::string xml_escape(std::string_view text) {
    std::string out;
    append_xml_escaped(out, text);
    return out;
}

void append_json_string(std::string& out, std::string_view text) {
    out.push_back('"');
    escape_into(
        out, text,
        [](char c) -> std::string_view {
            switch (c) {
                case '"': return "\\\"";
                case '\\': return "\\\\";
                case '\n': return "\\n";
                case '\r': return "\\r";
                case '\t': return "\\t";
                default: return {};  // other control characters are dropped before this is asked
            }
        },
        [](char32_t cp) -> std::string_view {
            if (cp == 0x2028) return "\\u2028";
            if (cp == 0x2029) return "\\u2029";
            return {};
        });
    out.push_back('"');
}

}  // namespace starpunk::feeds
