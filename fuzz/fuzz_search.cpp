// Fuzzes the search query parser (search/query.hpp), the FTS5 expression it
// builds, and the excerpt highlighter fed with its terms.
// Input: the bytes are a query typed into the search box.
// Oracle (any failure aborts):
//   1. parse_query() fails only with invalid_input, and only for a blank
//      (util trim() empty), over-long (> kMaxQueryBytes) or invalid-UTF-8 query.
//   2. The tree keeps its invariants: every term has tokens, each made of
//      token characters only; every clause has a term; at most kMaxTerms
//      terms; a prefix's last token has >= kMinPrefixChars code points;
//      usable() <=> the FTS5 expression is non-empty <=> there is no hint.
//   3. FTS5 itself (an in-memory table with the notes_fts tokenizer) accepts
//      the expression: `MATCH ?` prepares and steps without an error.
//   4. Highlighting the query's own text with the query's terms gives valid
//      UTF-8 whose only tags are <mark>/</mark>, paired and never nested.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "search/query.hpp"
#include "search/text_match.hpp"
#include "storage/migrations.hpp"
#include "storage/sqlite.hpp"
#include "util/strings.hpp"

#define FUZZ_CHECK(cond)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            std::fprintf(stderr, "fuzz_search: check failed: %s\n", #cond);   \
            std::abort();                                                      \
        }                                                                      \
    } while (0)

namespace {

using namespace starpunk;
using namespace starpunk::search;

std::size_t code_points(std::string_view s) {
    std::size_t n = 0;
    for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0u) != 0x80u;
    return n;
}

bool only_token_chars(std::string_view s) {
    const std::u32string cps = fold(s);  // fold keeps letters letters: classification is unchanged
    for (char32_t cp : cps) {
        if (!is_token_char(cp)) return false;
    }
    return !cps.empty();
}

// An in-memory FTS5 table like notes_fts, with a few rows; null without FTS5.
storage::Connection* index_db() {
    static std::unique_ptr<storage::Connection> db = []() -> std::unique_ptr<storage::Connection> {
        if (!storage::fts5_available()) return nullptr;
        auto c = storage::Connection::open(":memory:", {});
        if (!c) return nullptr;
        auto st = (*c)->exec(
            "CREATE VIRTUAL TABLE f USING fts5(slug UNINDEXED, title, content, "
            "tokenize='porter unicode61 remove_diacritics 2');"
            "INSERT INTO f (rowid, slug, title, content) VALUES "
            "(1, 'a', 'Went running', 'I went running in the city park.'),"
            "(2, 'b', 'Caramel', 'Caramel apples, kiwis and an e-mail: title:x NEAR(y).')");
        if (!st) return nullptr;
        return std::move(*c);
    }();
    return db.get();
}

void check_marks(const std::string& html) {
    FUZZ_CHECK(is_valid_utf8(html));
    bool open = false;
    std::size_t i = 0;
    while ((i = html.find('<', i)) != std::string::npos) {
        if (html.compare(i, 6, "<mark>") == 0) {
            FUZZ_CHECK(!open);
            open = true;
            i += 6;
        } else {
            FUZZ_CHECK(html.compare(i, 7, "</mark>") == 0);
            FUZZ_CHECK(open);
            open = false;
            i += 7;
        }
    }
    FUZZ_CHECK(!open);
    // Outside the marks, nothing that could start markup or end an attribute.
    std::string rest;
    for (std::size_t j = 0; j < html.size();) {
        if (html.compare(j, 6, "<mark>") == 0) j += 6;
        else if (html.compare(j, 7, "</mark>") == 0) j += 7;
        else rest += html[j++];
    }
    FUZZ_CHECK(rest.find_first_of("<>\"'") == std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view query(reinterpret_cast<const char*>(data), size);
    auto parsed = parse_query(query);
    if (!parsed) {
        FUZZ_CHECK(parsed.error().code == ErrorCode::invalid_input);
        FUZZ_CHECK(trim(query).empty() || query.size() > kMaxQueryBytes || !is_valid_utf8(query));
        return 0;
    }
    FUZZ_CHECK(is_valid_utf8(query) && query.size() <= kMaxQueryBytes);

    std::size_t terms = 0;
    std::vector<std::vector<std::string>> marked;
    auto check_term = [&](const Term& t) {
        ++terms;
        FUZZ_CHECK(!t.tokens.empty());
        for (const auto& token : t.tokens) FUZZ_CHECK(only_token_chars(token));
        FUZZ_CHECK(t.text.find('"') == std::string::npos);
        if (t.prefix) FUZZ_CHECK(code_points(t.tokens.back()) >= kMinPrefixChars);
    };
    for (const auto& clause : parsed->all) {
        FUZZ_CHECK(!clause.any.empty());
        for (const auto& t : clause.any) {
            check_term(t);
            marked.push_back(t.tokens);
        }
    }
    for (const auto& t : parsed->none) check_term(t);
    FUZZ_CHECK(terms <= kMaxTerms);
    FUZZ_CHECK(parsed->usable() == !parsed->fts_expression.empty());
    FUZZ_CHECK(parsed->usable() == parsed->hint.empty());

    if (parsed->usable()) {
        if (auto* db = index_db()) {
            auto stmt = db->prepare("SELECT rowid FROM f WHERE f MATCH ?1");
            FUZZ_CHECK(stmt.ok());
            (*stmt)->bind(1, parsed->fts_expression);
            while (true) {
                auto row = (*stmt)->step();
                if (!row) {
                    std::fprintf(stderr, "fuzz_search: FTS5 rejected %s: %s\n", parsed->fts_expression.c_str(),
                                 row.error().message.c_str());
                    std::abort();
                }
                if (!*row) break;
            }
        }
    }

    check_marks(highlight_matches(query, marked));
    ExcerptOptions words;
    words.word_start_only = true;
    check_marks(highlight_matches(excerpt_source(query), marked, words));
    return 0;
}
