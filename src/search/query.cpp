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

bool is_quote(char32_t cp) { return cp == U'"' || cp == 0x201C || cp == 0x201D || cp == 0x201E; }

// The runs of token characters in `text`.
std::vector<std::string> tokens_of(std::string_view text) {
    std::vector<std::string> out;
    auto cps = decode(text);
    std::size_t i = 0;
    while (i < cps.size()) {
        while (i < cps.size() && !is_token_char(cps[i].cp)) ++i;
        if (i == cps.size()) break;
        const std::size_t start = i;
        while (i < cps.size() && is_token_char(cps[i].cp)) ++i;
        out.emplace_back(text.substr(cps[start].begin, cps[i - 1].end - cps[start].begin));
    }
    return out;
}

std::size_t code_points(std::string_view s) {
    std::size_t n = 0;
    for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0u) != 0x80u;
    return n;
}

// One lexical item of the query, in order.
struct Item {
    enum class Kind { term, op_or, op_not } kind;
    Term term;             // kind == term
    bool negated = false;  // kind == term: written -term
};

// A word as typed (no whitespace, no quote) -> an item, or nothing for a
// word that is only an operator character ('-' alone) or punctuation.
std::vector<Item> word_items(std::string_view word, bool quote_follows) {
    if (word == "OR") return {Item{Item::Kind::op_or, {}, false}};
    if (word == "NOT") return {Item{Item::Kind::op_not, {}, false}};
    if (word == "AND") return {};
    bool negated = false;
    if (word.front() == '-') {
        if (word.size() == 1) {
            // `-"a phrase"`: the minus applies to the phrase that follows.
            if (quote_follows) return {Item{Item::Kind::op_not, {}, false}};
            return {};
        }
        negated = true;
        word.remove_prefix(1);
    }
    Term t;
    std::string_view text = word;
    while (!text.empty() && text.back() == '*') text.remove_suffix(1);
    t.tokens = tokens_of(text);
    if (t.tokens.empty()) return {};
    // A prefix only when the stars directly follow a long enough last token.
    // (Tokens are maximal runs: text ends with the last one iff its last
    // code point is a token character.)
    if (text.size() < word.size() && text.ends_with(t.tokens.back()) &&
        code_points(t.tokens.back()) >= kMinPrefixChars) {
        t.prefix = true;
    }
    t.text = std::string(text);
    return {Item{Item::Kind::term, std::move(t), negated}};
}

std::vector<Item> lex(std::string_view query, const std::vector<CodePoint>& cps) {
    std::vector<Item> items;
    std::size_t i = 0;
    while (i < cps.size()) {
        while (i < cps.size() && is_space(cps[i].cp)) ++i;
        if (i == cps.size()) break;
        if (is_quote(cps[i].cp)) {
            const std::size_t start = ++i;
            while (i < cps.size() && !is_quote(cps[i].cp)) ++i;
            // [start, i): the phrase's code points (to the end when unbalanced).
            // Whitespace and control characters (NUL included) become one
            // space: FTS5 reads its expression as a C string, up to a NUL.
            Term t;
            for (std::size_t k = start; k < i; ++k) {
                if (is_space(cps[k].cp)) {
                    if (!t.text.empty() && t.text.back() != ' ') t.text += ' ';
                } else {
                    t.text.append(query.substr(cps[k].begin, cps[k].end - cps[k].begin));
                }
            }
            if (i < cps.size()) ++i;  // the closing quote
            t.tokens = tokens_of(t.text);
            t.phrase = true;
            if (!t.tokens.empty()) items.push_back(Item{Item::Kind::term, std::move(t), false});
            continue;
        }
        const std::size_t start = i;
        while (i < cps.size() && !is_space(cps[i].cp) && !is_quote(cps[i].cp)) ++i;
        const bool quote_follows = i < cps.size() && is_quote(cps[i].cp);
        for (auto& item : word_items(query.substr(cps[start].begin, cps[i - 1].end - cps[start].begin), quote_follows)) {
            items.push_back(std::move(item));
        }
    }
    return items;
}

void append_fts_term(std::string& out, const Term& t) {
    out += '"';
    for (char c : t.text) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
    if (t.prefix) out += " *";
}

std::string build_fts_expression(const ParsedQuery& q) {
    std::string out;
    if (q.all.empty()) return out;
    out += '(';
    for (std::size_t c = 0; c < q.all.size(); ++c) {
        if (c > 0) out += " AND ";
        out += '(';
        for (std::size_t t = 0; t < q.all[c].any.size(); ++t) {
            if (t > 0) out += " OR ";
            append_fts_term(out, q.all[c].any[t]);
        }
        out += ')';
    }
    out += ')';
    if (!q.none.empty()) {
        out += " NOT (";
        for (std::size_t t = 0; t < q.none.size(); ++t) {
            if (t > 0) out += " OR ";
            append_fts_term(out, q.none[t]);
        }
        out += ')';
    }
    return out;
}

}  // namespace

Result<ParsedQuery> parse_query(std::string_view query) {
    if (query.size() > kMaxQueryBytes) {
        return make_error(ErrorCode::invalid_input,
                          "the search query is too long (at most " + std::to_string(kMaxQueryBytes) + " bytes)");
    }
    if (!is_valid_utf8(query)) return make_error(ErrorCode::invalid_input, "the search query is not valid UTF-8");
    // Blank as the handlers see it (ASCII whitespace only: util trim()); a
    // query of other spaces or control characters parses to nothing usable.
    if (trim(query).empty()) return make_error(ErrorCode::invalid_input, "the search query is empty");
    const auto cps = decode(query);
    std::size_t first = 0, last = cps.size();
    while (first < last && is_space(cps[first].cp)) ++first;
    while (last > first && is_space(cps[last - 1].cp)) --last;
    ParsedQuery parsed;
    if (first < last) parsed.text = std::string(query.substr(cps[first].begin, cps[last - 1].end - cps[first].begin));

    // Items -> tree. OR joins the positive term before it to the one after
    // it; NOT (or a lone '-' before a quote) excludes the next term; an
    // operator with nothing to apply to is dropped.
    std::size_t terms = 0;
    bool negate_next = false;
    bool or_pending = false;
    bool last_positive = false;  // the previous item was a positive term
    for (auto& item : lex(query, cps)) {
        if (terms == kMaxTerms) break;
        switch (item.kind) {
            case Item::Kind::op_or:
                or_pending = last_positive;
                break;
            case Item::Kind::op_not:
                negate_next = true;
                or_pending = false;
                last_positive = false;
                break;
            case Item::Kind::term:
                ++terms;
                if (item.negated || negate_next) {
                    parsed.none.push_back(std::move(item.term));
                    last_positive = false;
                } else {
                    if (or_pending && !parsed.all.empty()) {
                        parsed.all.back().any.push_back(std::move(item.term));
                    } else {
                        parsed.all.push_back(Clause{{std::move(item.term)}});
                    }
                    last_positive = true;
                }
                negate_next = false;
                or_pending = false;
                break;
        }
    }
    parsed.fts_expression = build_fts_expression(parsed);
    if (!parsed.usable()) {
        parsed.hint = parsed.none.empty()
                          ? "There is nothing to search for: type a word (letters or digits), or a \"phrase in "
                            "quotes\"."
                          : "A search needs a word to look for, not only words to leave out (-word, NOT word): add "
                            "one.";
    }
    return parsed;
}

}  // namespace starpunk::search
