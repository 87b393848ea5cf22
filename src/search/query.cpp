#include "search/query.hpp"

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include "util/strings.hpp"

namespace starpunk::search {

bool is_token_char(char32_t cp) {
    const auto type = u_charType(static_cast<UChar32>(cp));
    switch (type) {
        case U_UPPERCASE_LETTER:
        case U_LOWERCASE_LETTER:
        case U_TITLECASE_LETTER:
        case U_MODIFIER_LETTER:
        case U_OTHER_LETTER:
        case U_DECIMAL_DIGIT_NUMBER:
        case U_LETTER_NUMBER:
        case U_OTHER_NUMBER:
        case U_PRIVATE_USE_CHAR:
            return true;
        default:
            return false;
    }
}

namespace {

struct CodePoint {
    char32_t cp;
    std::size_t begin;  // byte offsets in the query
    std::size_t end;
};

// Precondition: valid UTF-8.
std::vector<CodePoint> decode(std::string_view s) {
    std::vector<CodePoint> out;
    out.reserve(s.size());
    const auto* bytes = reinterpret_cast<const uint8_t*>(s.data());
    const auto length = static_cast<int32_t>(s.size());
    int32_t i = 0;
    while (i < length) {
        const int32_t begin = i;
        UChar32 c = 0;
        U8_NEXT(bytes, i, length, c);
        if (c < 0) c = 0xFFFD;
        out.push_back({static_cast<char32_t>(c), static_cast<std::size_t>(begin), static_cast<std::size_t>(i)});
    }
    return out;
}

// Whitespace and control characters separate terms.
bool is_space(char32_t cp) {
    return u_isUWhiteSpace(static_cast<UChar32>(cp)) != 0 || u_charType(static_cast<UChar32>(cp)) == U_CONTROL_CHAR;
}

// The term with non-token characters trimmed from both ends ("" when none is left).
std::string token_core(std::string_view term) {
    auto cps = decode(term);
    std::size_t first = 0;
    while (first < cps.size() && !is_token_char(cps[first].cp)) ++first;
    if (first == cps.size()) return {};
    std::size_t last = cps.size();
    while (!is_token_char(cps[last - 1].cp)) --last;
    return std::string(term.substr(cps[first].begin, cps[last - 1].end - cps[first].begin));
}

}  // namespace

Result<ParsedQuery> parse_query(std::string_view query) {
    if (query.size() > kMaxQueryBytes) {
        return make_error(ErrorCode::invalid_input,
                          "the search query is too long (at most " + std::to_string(kMaxQueryBytes) + " bytes)");
    }
    if (!is_valid_utf8(query)) return make_error(ErrorCode::invalid_input, "the search query is not valid UTF-8");
    ParsedQuery parsed;
    auto cps = decode(query);
    std::size_t i = 0;
    while (i < cps.size() && parsed.terms.size() < kMaxTerms) {
        while (i < cps.size() && is_space(cps[i].cp)) ++i;
        if (i == cps.size()) break;
        std::size_t start = i;
        while (i < cps.size() && !is_space(cps[i].cp)) ++i;
        parsed.terms.emplace_back(query.substr(cps[start].begin, cps[i - 1].end - cps[start].begin));
    }
    if (parsed.terms.empty()) return make_error(ErrorCode::invalid_input, "the search query is empty");
    // The trimmed text: from the first term to the end of the last non-space.
    std::size_t first = 0, last = cps.size();
    while (first < last && is_space(cps[first].cp)) ++first;
    while (last > first && is_space(cps[last - 1].cp)) --last;
    parsed.text = std::string(query.substr(cps[first].begin, cps[last - 1].end - cps[first].begin));

    for (const auto& term : parsed.terms) {
        std::string core = token_core(term);
        if (core.empty()) continue;
        parsed.fts_words.push_back(core);
        if (!parsed.fts_expression.empty()) parsed.fts_expression += ' ';
        parsed.fts_expression += '"';
        for (char c : term) {
            if (c == '"') parsed.fts_expression += '"';
            parsed.fts_expression += c;
        }
        parsed.fts_expression += '"';
    }
    return parsed;
}

}  // namespace starpunk::search
