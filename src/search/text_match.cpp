#include "search/text_match.hpp"

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <algorithm>

#include "notes/note_text.hpp"
#include "search/query.hpp"
#include "util/strings.hpp"

namespace starpunk::search {

namespace {

constexpr std::string_view kEllipsis = "\u2026";

// Code points of `utf8` (invalid sequences -> U+FFFD) and, when wanted, the
// byte offset where each starts (offsets.size() == code points + 1).
std::u32string decode(std::string_view utf8, std::vector<std::size_t>* offsets) {
    std::u32string out;
    out.reserve(utf8.size());
    if (offsets) offsets->reserve(utf8.size() + 1);
    const auto* bytes = reinterpret_cast<const uint8_t*>(utf8.data());
    const auto length = static_cast<int32_t>(utf8.size());
    int32_t i = 0;
    while (i < length) {
        if (offsets) offsets->push_back(static_cast<std::size_t>(i));
        UChar32 c = 0;
        U8_NEXT(bytes, i, length, c);
        out.push_back(c < 0 ? U'\uFFFD' : static_cast<char32_t>(c));
    }
    if (offsets) offsets->push_back(utf8.size());
    return out;
}

char32_t fold_one(char32_t cp) {
    if (cp < 0x80) return cp >= U'A' && cp <= U'Z' ? cp + (U'a' - U'A') : cp;
    return static_cast<char32_t>(u_foldCase(static_cast<UChar32>(cp), U_FOLD_CASE_DEFAULT));
}

// Marks and joiners that belong to the character before them: an excerpt never
// starts with one.
bool continues_character(char32_t cp) {
    switch (u_charType(static_cast<UChar32>(cp))) {
        case U_NON_SPACING_MARK:
        case U_ENCLOSING_MARK:
        case U_COMBINING_SPACING_MARK:
            return true;
        default:
            return cp == 0x200D || (cp >= 0x1F3FB && cp <= 0x1F3FF);  // ZWJ, skin-tone modifiers
    }
}

std::string valid_utf8(std::string_view s) {
    if (is_valid_utf8(s)) return std::string(s);
    std::string out;
    for (char32_t cp : decode(s, nullptr)) append_utf8(out, cp);
    return out;
}

}  // namespace

std::string excerpt_source(std::string_view content) {
    if (content.size() > kExcerptSourceBytes) {
        std::size_t cut = kExcerptSourceBytes;
        while (cut > 0 && (static_cast<unsigned char>(content[cut]) & 0xC0u) == 0x80u) --cut;
        content = content.substr(0, cut);
    }
    std::string out;
    out.reserve(content.size());
    bool pending_space = false;
    for (char ch : content) {
        const auto c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c == 0x7F) {
            pending_space = !out.empty();
            continue;
        }
        if (pending_space) out.push_back(' ');
        pending_space = false;
        out.push_back(ch);
    }
    return out;
}

std::u32string fold(std::string_view utf8) {
    std::u32string out = decode(utf8, nullptr);
    for (auto& cp : out) cp = fold_one(cp);
    return out;
}

std::u32string fold_words(std::string_view utf8) {
    std::u32string out;
    out.reserve(utf8.size());
    const auto* bytes = reinterpret_cast<const uint8_t*>(utf8.data());
    const auto length = static_cast<int32_t>(utf8.size());
    int32_t i = 0;
    bool gap = false;  // a run of non-token characters is pending
    while (i < length) {
        char32_t cp = 0;
        bool token = false;
        if (bytes[i] < 0x80) {  // ASCII fast path: letters and digits are the token characters
            const char c = static_cast<char>(bytes[i++]);
            token = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
            cp = static_cast<char32_t>(c);
        } else {
            UChar32 c = 0;
            U8_NEXT(bytes, i, length, c);
            cp = c < 0 ? U'\uFFFD' : static_cast<char32_t>(c);
            token = is_token_char(cp);
        }
        if (!token) {
            gap = true;
            continue;
        }
        if (gap && !out.empty()) out.push_back(U' ');
        gap = false;
        out.push_back(fold_one(cp));
    }
    return out;
}

std::u32string fold_tokens(const std::vector<std::string>& tokens) {
    std::u32string out;
    for (const auto& t : tokens) {
        if (!out.empty()) out.push_back(U' ');
        out += fold(t);
    }
    return out;
}

std::string highlight_excerpt(std::string_view input, const std::vector<std::string>& terms,
                              const ExcerptOptions& options) {
    std::vector<std::vector<std::string>> literal;
    literal.reserve(terms.size());
    for (const auto& t : terms) literal.push_back({t});
    return highlight_matches(input, literal, options);
}

std::string highlight_matches(std::string_view input, const std::vector<std::vector<std::string>>& terms,
                              const ExcerptOptions& options) {
    if (input.empty() || options.max_chars == 0) return {};
    const std::string text = valid_utf8(input);
    std::vector<std::size_t> offsets;
    const std::u32string original = decode(text, &offsets);
    std::u32string folded = original;
    for (auto& cp : folded) cp = fold_one(cp);
    const std::size_t n = folded.size();

    // Each term as its folded tokens; terms with an empty token are left out.
    std::vector<std::vector<std::u32string>> needles;
    for (const auto& term : terms) {
        std::vector<std::u32string> folded_tokens;
        for (const auto& token : term) {
            if (auto f = fold(token); !f.empty()) folded_tokens.push_back(std::move(f));
            else break;
        }
        if (!term.empty() && folded_tokens.size() == term.size()) needles.push_back(std::move(folded_tokens));
    }
    // Length of the longest match starting at code point i, 0 when none.
    // Between two tokens of a term: at least one non-token code point.
    auto match_at = [&](std::size_t i) -> std::size_t {
        if (options.word_start_only && i > 0 && is_token_char(original[i - 1]) && is_token_char(original[i])) return 0;
        std::size_t best = 0;
        for (const auto& needle : needles) {
            std::size_t pos = i;
            bool ok = true;
            for (std::size_t k = 0; k < needle.size() && ok; ++k) {
                if (k > 0) {
                    if (pos >= n || is_token_char(original[pos])) {
                        ok = false;
                        break;
                    }
                    while (pos < n && !is_token_char(original[pos])) ++pos;
                }
                const auto& token = needle[k];
                ok = pos + token.size() <= n && folded.compare(pos, token.size(), token) == 0;
                pos += token.size();
            }
            if (ok) best = std::max(best, pos - i);
        }
        return best;
    };

    // Window start: some context before the first match, preferably just
    // after a space, never on a code point that continues the one before.
    std::size_t first = n, first_end = n;
    for (std::size_t i = 0; i < n; ++i) {
        if (std::size_t len = match_at(i)) {
            first = i;
            first_end = i + len;
            break;
        }
    }
    std::size_t start = 0;
    if (first < n && first > options.context_chars) {
        start = first - options.context_chars;
        for (std::size_t i = start; i < first && i < start + 20; ++i) {
            if (original[i] == U' ') {
                start = i + 1;
                break;
            }
        }
        while (start < first && continues_character(original[start])) ++start;
    }

    // Window end: max_chars code points on a grapheme boundary, at a space in
    // the last 40% when there is one after the first match.
    std::string_view rest = std::string_view(text).substr(offsets[start]);
    std::string_view cut = notes::truncate_chars(rest, options.max_chars);
    const bool cut_end = cut.size() < rest.size();
    if (cut_end) {
        std::size_t space = cut.rfind(' ');
        const std::size_t match_end_byte = first < n ? offsets[first_end] - offsets[start] : 0;
        if (space != std::string_view::npos && space >= match_end_byte &&
            notes::count_chars(cut.substr(0, space)) * 10 >= options.max_chars * 6) {
            cut = cut.substr(0, space);
        }
        while (!cut.empty() && cut.back() == ' ') cut.remove_suffix(1);
    }
    const std::size_t end_byte = offsets[start] + cut.size();
    const auto end =
        static_cast<std::size_t>(std::lower_bound(offsets.begin(), offsets.end(), end_byte) - offsets.begin());

    std::string out;
    out.reserve(cut.size() + cut.size() / 4 + 32);
    if (start > 0) out += kEllipsis;
    std::size_t plain_from = start;
    auto slice = [&](std::size_t from, std::size_t to) {
        return std::string_view(text).substr(offsets[from], offsets[to] - offsets[from]);
    };
    auto flush_plain = [&](std::size_t upto) {
        if (upto > plain_from) out += html_escape(slice(plain_from, upto));
    };
    for (std::size_t i = start; i < end;) {
        std::size_t len = i < first ? 0 : match_at(i);
        if (len == 0) {
            ++i;
            continue;
        }
        std::size_t stop = std::min(i + len, end);
        flush_plain(i);
        out += "<mark>";
        out += html_escape(slice(i, stop));
        out += "</mark>";
        i = plain_from = stop;
    }
    flush_plain(end);
    if (cut_end) out += kEllipsis;
    return out;
}

}  // namespace starpunk::search
