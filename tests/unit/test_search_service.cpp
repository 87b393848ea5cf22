// Search (SPEC §7): query parsing (search/query.hpp), excerpts
// (search/text_match.hpp), the service in both modes (search/search_service.hpp)
// and the two handlers' contract where the e2e tests cannot reach it yet (an
// admin request).
#include "search/search_service.hpp"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "notes/note_text.hpp"
#include "search/query.hpp"
#include "search/text_match.hpp"
#include "storage/migrations.hpp"
#include "support/notes_harness.hpp"
#include "support/site_harness.hpp"
#include "util/strings.hpp"
#include "web/handlers/handlers.hpp"
#include "web/visitor.hpp"

namespace starpunk::search {
namespace {

using namespace std::chrono_literals;
using starpunk::testing::NotesHarness;
using starpunk::testing::test_epoch;

// Every tag in an HTML fragment, e.g. {"<mark>", "</mark>"}.
std::vector<std::string> tags(const std::string& html) {
    std::vector<std::string> out;
    static const std::regex tag("<[^>]*>");
    for (auto it = std::sregex_iterator(html.begin(), html.end(), tag); it != std::sregex_iterator(); ++it) {
        out.push_back(it->str());
    }
    return out;
}

bool only_mark_tags(const std::string& html) {
    return std::ranges::all_of(tags(html), [](const std::string& t) { return t == "<mark>" || t == "</mark>"; });
}

// ------------------------------------------------------------------ query

// The tree in a compact form: clauses in order, `(a | b)` for OR, `"…"` for
// a phrase (its tokens), `*` for a prefix, `-x` for an exclusion.
std::string describe(const ParsedQuery& q) {
    auto term = [](const Term& t) {
        std::string s;
        if (t.phrase) {
            s = "\"";
            for (std::size_t i = 0; i < t.tokens.size(); ++i) s += (i ? " " : "") + t.tokens[i];
            s += "\"";
        } else {
            s = t.text;
        }
        return t.prefix ? s + "*" : s;
    };
    std::string out;
    auto add = [&](const std::string& part) { out += (out.empty() ? "" : " ") + part; };
    for (const auto& c : q.all) {
        if (c.any.size() == 1) {
            add(term(c.any[0]));
            continue;
        }
        std::string group = "(";
        for (std::size_t i = 0; i < c.any.size(); ++i) group += (i ? " | " : "") + term(c.any[i]);
        add(group + ")");
    }
    for (const auto& t : q.none) add("-" + term(t));
    return out;
}

std::string describe(std::string_view query) {
    auto q = parse_query(query);
    if (!q) return "error: " + q.error().message;
    return describe(*q);
}

TEST(SearchQuery, PlainWordsAreAndedAndEachQuotedForFts) {
    auto q = parse_query("  hello \t world\n");
    ASSERT_TRUE(q) << q.error().message;
    EXPECT_EQ(q->text, "hello \t world");
    EXPECT_EQ(describe(*q), "hello world");
    EXPECT_EQ(q->fts_expression, R"((("hello") AND ("world")))");
    EXPECT_TRUE(q->usable());
    EXPECT_EQ(q->hint, "");
}

TEST(SearchQuery, PhrasesOrExclusionAndPrefixBuildTheTree) {
    EXPECT_EQ(describe(R"("went running")"), R"("went running")");
    EXPECT_EQ(describe("\u201cwent running\u201d"), R"("went running")");  // curly quotes
    EXPECT_EQ(describe("caramel OR running"), "(caramel | running)");
    EXPECT_EQ(describe("x caramel OR running OR kiwi y"), "x (caramel | running | kiwi) y");
    EXPECT_EQ(describe("running -park"), "running -park");
    EXPECT_EQ(describe("running NOT park"), "running -park");
    EXPECT_EQ(describe(R"(running -"city park")"), R"(running -"city park")");
    EXPECT_EQ(describe(R"(running NOT "city park")"), R"(running -"city park")");
    EXPECT_EQ(describe("kiw* caramel**"), "kiw* caramel*");
    EXPECT_EQ(describe("caramel AND running"), "caramel running");
    EXPECT_EQ(describe("e-mail"), "e-mail");
    EXPECT_EQ(parse_query("e-mail")->all[0].any[0].tokens, (std::vector<std::string>{"e", "mail"}));
    EXPECT_EQ(parse_query(R"(running -"city park" kiw* OR caramel)")->fts_expression,
              R"((("running") AND ("kiw" * OR "caramel")) NOT ("city park"))");
}

TEST(SearchQuery, PrefixNeedsThreeCharactersBeforeTheStar) {
    auto short_prefix = parse_query("ki*");
    ASSERT_TRUE(short_prefix);
    EXPECT_FALSE(short_prefix->all[0].any[0].prefix);
    EXPECT_EQ(short_prefix->fts_expression, R"((("ki")))");
    EXPECT_TRUE(parse_query("kiw*")->all[0].any[0].prefix);
    // Counted in characters, not bytes; the last token is the prefix.
    EXPECT_FALSE(parse_query("\u00e9\u00e9*")->all[0].any[0].prefix);
    EXPECT_TRUE(parse_query("\u00e9\u00e9\u00e9*")->all[0].any[0].prefix);
    EXPECT_FALSE(parse_query("e-ma*")->all[0].any[0].prefix);
    EXPECT_EQ(parse_query("e-mai*")->fts_expression, R"((("e-mai" *)))");
    // A star not right after the last token is punctuation.
    EXPECT_FALSE(parse_query("foo*(")->all[0].any[0].prefix);
    EXPECT_FALSE(parse_query("foo.*")->all[0].any[0].prefix);
    EXPECT_FALSE(parse_query("*foo")->all[0].any[0].prefix);
}

TEST(SearchQuery, OperatorsWithoutOperandsAreIgnored) {
    EXPECT_EQ(describe("running OR"), "running");
    EXPECT_EQ(describe("OR running"), "running");
    EXPECT_EQ(describe("running OR OR kiwi"), "(running | kiwi)");
    EXPECT_EQ(describe("running NOT"), "running");
    EXPECT_EQ(describe("running - kiwi"), "running kiwi");
    EXPECT_EQ(describe("running OR -kiwi"), "running -kiwi");  // an exclusion is never part of an OR
    EXPECT_EQ(describe("-kiwi OR running"), "running -kiwi");
    EXPECT_EQ(describe("or and not"), "or and not");  // operators only in capitals
}

TEST(SearchQuery, HostileInputIsQuotedPunctuation) {
    EXPECT_EQ(parse_query("NEAR(")->fts_expression, R"((("NEAR(")))");
    EXPECT_EQ(parse_query("title:foo")->fts_expression, R"((("title:foo")))");
    EXPECT_EQ(parse_query("title:foo")->all[0].any[0].tokens, (std::vector<std::string>{"title", "foo"}));
    EXPECT_EQ(parse_query("a^b +c {d} (e)")->fts_expression, R"~((("a^b") AND ("+c") AND ("{d}") AND ("(e)")))~");
    // Unbalanced quote: the phrase runs to the end.
    EXPECT_EQ(describe(R"(kiwi "went running)"), R"(kiwi "went running")");
    EXPECT_EQ(describe(R"(say"hi there)"), R"(say "hi there")");
}

TEST(SearchQuery, UnusableQueriesHaveAHintAndNoExpression) {
    const std::vector<std::string> nothing = {R"(")", R"(" !!! — *)", "OR", "NOT", "AND OR NOT", "-", "- -- ---",
                                              "\"\"", "***", std::string(kMaxQueryBytes, '!')};
    for (const auto& q : nothing) {
        auto parsed = parse_query(q);
        ASSERT_TRUE(parsed) << q;
        EXPECT_FALSE(parsed->usable()) << q;
        EXPECT_EQ(parsed->fts_expression, "") << q;
        EXPECT_NE(parsed->hint.find("nothing to search for"), std::string::npos) << q;
    }
    for (std::string q : {"-park", "NOT park", R"(-"city park")", "-park -kiwi OR"}) {
        auto parsed = parse_query(q);
        ASSERT_TRUE(parsed) << q;
        EXPECT_FALSE(parsed->usable()) << q;
        EXPECT_EQ(parsed->fts_expression, "") << q;
        EXPECT_NE(parsed->hint.find("not only words to leave out"), std::string::npos) << q;
    }
}

// Found by fuzz_search: a NUL inside quotes ended FTS5's reading of the
// expression ("unterminated string").
TEST(SearchQuery, ControlCharactersInsideAPhraseBecomeOneSpace) {
    const std::string q("\u201cwen\x01\0\0g\u201d", 13);
    auto parsed = parse_query(q);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->fts_expression, R"~((("wen g")))~");
    EXPECT_EQ(parse_query("\"went\t\n  running\"")->all[0].any[0].text, "went running");
}

TEST(SearchQuery, UnicodeWhitespaceAndControlCharactersSeparateTerms) {
    EXPECT_EQ(describe("caf\u00e9\u00a0cr\u00e8me\u3000x\x01y"), "caf\u00e9 cr\u00e8me x y");
}

TEST(SearchQuery, BlankTooLongAndInvalidQueriesAreInvalidInput) {
    for (std::string bad : {std::string(""), std::string("   \t"), std::string(kMaxQueryBytes + 1, 'a'),
                            std::string("a\xff")}) {
        auto q = parse_query(bad);
        ASSERT_FALSE(q) << bad;
        EXPECT_EQ(q.error().code, ErrorCode::invalid_input);
    }
    EXPECT_TRUE(parse_query(std::string(kMaxQueryBytes, 'a')));
    // Not blank to the handlers (util trim): parsed, unusable, with a hint.
    for (std::string odd : {std::string("\u3000\u00a0"), std::string(" \0\n", 3), std::string("\x01\x7f")}) {
        auto q = parse_query(odd);
        ASSERT_TRUE(q) << odd;
        EXPECT_FALSE(q->usable());
        EXPECT_NE(q->hint, "");
    }
}

TEST(SearchQuery, TermsBeyondTheLimitAreIgnored) {
    std::string many;
    for (int i = 0; i < 40; ++i) many += "t" + std::to_string(i) + (i % 2 ? " OR " : " -x" + std::to_string(i) + " ");
    auto q = parse_query(many);
    ASSERT_TRUE(q);
    std::size_t terms = q->none.size();
    for (const auto& c : q->all) terms += c.any.size();
    EXPECT_EQ(terms, kMaxTerms);
}

// ------------------------------------------------------------------ excerpts

TEST(SearchExcerpt, NoteMarkupIsEscapedAndOnlyMarkIsAdded) {
    std::string e = highlight_excerpt(excerpt_source("<script>alert(1)</script> needle"), {"needle"});
    EXPECT_NE(e.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos) << e;
    EXPECT_NE(e.find("<mark>needle</mark>"), std::string::npos) << e;
    EXPECT_EQ(tags(e), (std::vector<std::string>{"<mark>", "</mark>"})) << e;
}

TEST(SearchExcerpt, MarkupInsideTheMatchIsEscapedToo) {
    std::string e = highlight_excerpt(R"(a <b onclick="x">&amp; b)", {"<b", "&amp;"});
    EXPECT_EQ(e, R"(a <mark>&lt;b</mark> onclick=&quot;x&quot;&gt;<mark>&amp;amp;</mark> b)");
}

TEST(SearchExcerpt, MatchesAreCaseInsensitiveAndKeepTheOriginalCase) {
    EXPECT_EQ(highlight_excerpt("A Needle and a NEEDLE", {"needle"}), "A <mark>Needle</mark> and a <mark>NEEDLE</mark>");
    EXPECT_EQ(highlight_excerpt("\u041f\u0420\u0418\u0412\u0415\u0422 \u043c\u0438\u0440", {"\u043f\u0440\u0438\u0432\u0435\u0442"}),
              "<mark>\u041f\u0420\u0418\u0412\u0415\u0422</mark> \u043c\u0438\u0440");
}

TEST(SearchExcerpt, LongestTermWinsAtOnePosition) {
    EXPECT_EQ(highlight_excerpt("strawberry", {"straw", "strawberry"}), "<mark>strawberry</mark>");
}

TEST(SearchExcerpt, WordStartOnlySkipsMatchesInsideWords) {
    ExcerptOptions o;
    o.word_start_only = true;
    EXPECT_EQ(highlight_excerpt("start the art", {"art"}, o), "start the <mark>art</mark>");
    EXPECT_EQ(highlight_excerpt("start the art", {"art"}), "st<mark>art</mark> the <mark>art</mark>");
}

TEST(SearchExcerpt, WithoutAMatchItIsTheStartOfTheText) {
    std::string text(300, 'x');
    std::string e = highlight_excerpt(text, {"needle"});
    EXPECT_EQ(e, std::string(200, 'x') + "\u2026");
    EXPECT_EQ(highlight_excerpt("", {"a"}), "");
}

TEST(SearchExcerpt, WindowMovesToALateMatchWithEllipses) {
    std::string text;
    for (int i = 0; i < 100; ++i) text += "word" + std::to_string(i) + " ";
    text += "needle";
    for (int i = 0; i < 100; ++i) text += " tail" + std::to_string(i);
    std::string e = highlight_excerpt(text, {"needle"});
    EXPECT_TRUE(e.starts_with("\u2026")) << e;
    EXPECT_TRUE(e.ends_with("\u2026")) << e;
    EXPECT_NE(e.find("<mark>needle</mark>"), std::string::npos) << e;
    // Starts after a space: a whole word, not a fragment.
    EXPECT_TRUE(e.substr(3).starts_with("word")) << e;
    std::string plain = std::regex_replace(e, std::regex("</?mark>"), "");
    EXPECT_LE(notes::count_chars(plain), 202u);
}

TEST(SearchExcerpt, CutsNeverSplitCharactersOrDetachCombiningMarks) {
    // "e" + COMBINING ACUTE, CJK and an emoji, many times, with the match far in.
    std::string unit = "e\u0301\u6f22\U0001F600 ";
    std::string text;
    for (int i = 0; i < 60; ++i) text += unit;
    text += "needle";
    for (int i = 0; i < 80; ++i) text += unit;
    for (std::size_t context : {57u, 58u, 59u, 60u, 61u}) {
        ExcerptOptions o;
        o.context_chars = context;
        std::string e = highlight_excerpt(text, {"needle"}, o);
        ASSERT_TRUE(is_valid_utf8(e)) << context;
        std::string body = e.substr(3);  // after the leading ellipsis
        EXPECT_FALSE(body.starts_with("\u0301")) << context << ": " << e;
        EXPECT_NE(e.find("<mark>needle</mark>"), std::string::npos);
    }
}

TEST(SearchExcerpt, InvalidUtf8ReadsAsReplacementCharacters) {
    std::string e = highlight_excerpt("bad \xff\xfe needle", {"needle"});
    EXPECT_TRUE(is_valid_utf8(e));
    EXPECT_NE(e.find("<mark>needle</mark>"), std::string::npos);
}

TEST(SearchExcerpt, SourceCollapsesWhitespaceAndControlsAndIsBounded) {
    EXPECT_EQ(excerpt_source("  # Title\n\n\tbody\x01text \x7f end  "), "# Title body text end");
    std::string big(kExcerptSourceBytes - 1, 'a');
    big += "\u00e9\u00e9";  // straddles the limit
    std::string s = excerpt_source(big);
    EXPECT_TRUE(is_valid_utf8(s));
    EXPECT_LE(s.size(), kExcerptSourceBytes);
}

RC_GTEST_PROP(SearchExcerpt, AnyInputGivesValidUtf8WithOnlyMarkTags, (const std::string& text, const std::string& term)) {
    for (bool word_start : {false, true}) {
        ExcerptOptions o;
        o.word_start_only = word_start;
        std::string e = highlight_excerpt(excerpt_source(text), {term, "a", "<"}, o);
        RC_ASSERT(is_valid_utf8(e));
        for (const auto& t : tags(e)) RC_ASSERT(t == "<mark>" || t == "</mark>");
        // Marks pair up and never nest.
        std::string marks;
        for (const auto& t : tags(e)) marks += t == "<mark>" ? '(' : ')';
        RC_ASSERT(marks.find("((") == std::string::npos && marks.find("))") == std::string::npos);
        const bool balanced = marks.empty() || (marks.front() == '(' && marks.back() == ')');  // || inside RC_ASSERT does not short-circuit
        RC_ASSERT(balanced);
        // No stray '<' or '>' or quotes: everything else was escaped.
        std::string rest = std::regex_replace(e, std::regex("</?mark>"), "");
        RC_ASSERT(rest.find_first_of("<>\"'") == std::string::npos);
    }
}

// ------------------------------------------------------------------ service

struct Env {
    NotesHarness h;
    std::unique_ptr<SearchService> search;
    int64_t minutes = 0;

    explicit Env(bool fallback, SearchService::Options o = {}) {
        if (h.start() != "") throw std::runtime_error("harness");
        o.force_fallback = fallback;
        auto s = SearchService::open(h.svc(), o);
        if (!s) throw std::runtime_error(s.error().message);
        search = std::move(*s);
    }

    // Each note one minute newer than the one before.
    notes::Note add(const std::string& slug, const std::string& content, bool published = true) {
        notes::NewNote n;
        n.content = content;
        n.custom_slug = slug;
        n.published = published;
        n.created_at = test_epoch() + std::chrono::minutes(++minutes);
        n.slug_policy = notes::CustomSlugPolicy::reject;
        auto r = h.svc().create(n);
        if (!r) throw std::runtime_error(r.error().message);
        return *r;
    }

    Results find(const std::string& q, bool admin = false, int64_t limit = 20, int64_t offset = 0) {
        auto r = search->search({q, admin, limit, offset});
        if (!r) throw std::runtime_error(q + ": " + r.error().message);
        return *r;
    }

    std::vector<std::string> slugs(const std::string& q, bool admin = false, int64_t limit = 20, int64_t offset = 0) {
        std::vector<std::string> out;
        for (const auto& hit : find(q, admin, limit, offset).hits) out.push_back(hit.slug);
        return out;
    }
};

class SearchServiceTest : public ::testing::TestWithParam<bool> {
protected:
    void SetUp() override {
        if (!GetParam() && !storage::fts5_available()) GTEST_SKIP() << "SQLite without FTS5";
        env = std::make_unique<Env>(GetParam());
    }
    bool fallback() const { return GetParam(); }
    std::unique_ptr<Env> env;
};

INSTANTIATE_TEST_SUITE_P(Search, SearchServiceTest, ::testing::Values(false, true),
                         [](const auto& p) { return p.param ? "Fallback" : "Fts"; });

TEST_P(SearchServiceTest, ReportsItsMode) {
    EXPECT_EQ(env->search->mode(), fallback() ? Mode::fallback : Mode::fts);
    EXPECT_EQ(env->find("x").mode, env->search->mode());
}

TEST_P(SearchServiceTest, FindsNotesContainingEveryTermCaseInsensitively) {
    env->add("both", "Apples and ORANGES together.");
    env->add("apples", "Only apples here.");
    env->add("none", "Nothing relevant.");
    EXPECT_EQ(env->slugs("apples oranges"), (std::vector<std::string>{"both"}));
    auto apples = env->slugs("APPLES");
    EXPECT_EQ(std::set<std::string>(apples.begin(), apples.end()), (std::set<std::string>{"both", "apples"}));
    EXPECT_TRUE(env->slugs("pears").empty());
}

TEST_P(SearchServiceTest, HitCarriesTitleExcerptDateAndPath) {
    auto n = env->add("hello", "# Hello there\n\nA note about **kiwis** and more.");
    auto r = env->find("kiwis");
    ASSERT_EQ(r.hits.size(), 1u);
    const Hit& h = r.hits[0];
    EXPECT_EQ(h.slug, "hello");
    EXPECT_EQ(h.title, "Hello there");
    EXPECT_EQ(h.path, "/note/hello");
    EXPECT_EQ(h.published_at, n.created_at);
    EXPECT_TRUE(h.published);
    EXPECT_EQ(h.excerpt_html, "# Hello there A note about **<mark>kiwis</mark>** and more.");
    EXPECT_EQ(r.total, 1);
    EXPECT_TRUE(r.total_exact);
}

TEST_P(SearchServiceTest, TitleFallsBackToTheSlugWhenTheNoteHasNoVisibleText) {
    env->add("image-only", "![](https://example.com/kiwi.png)");
    auto r = env->find("kiwi");
    ASSERT_EQ(r.hits.size(), 1u);
    EXPECT_EQ(r.hits[0].title, "image-only");
}

TEST_P(SearchServiceTest, DraftsAreHiddenUnlessTheRequesterIsTheAdmin) {
    env->add("public", "The walrus note.");
    env->add("draft", "The walrus draft.", false);
    EXPECT_EQ(env->slugs("walrus"), (std::vector<std::string>{"public"}));
    EXPECT_EQ(env->slugs("walrus", true), (std::vector<std::string>{"draft", "public"}));
    auto admin = env->find("draft walrus", true);
    ASSERT_EQ(admin.hits.size(), 1u);
    EXPECT_FALSE(admin.hits[0].published);
    EXPECT_EQ(env->find("draft walrus").total, 0);
}

TEST_P(SearchServiceTest, DeletedNotesNeverMatchEvenForTheAdmin) {
    env->add("kept", "A pelican note.");
    auto gone = env->add("gone", "Another pelican note.");
    ASSERT_TRUE(env->h.svc().soft_delete(gone.id));
    EXPECT_EQ(env->slugs("pelican"), (std::vector<std::string>{"kept"}));
    EXPECT_EQ(env->slugs("pelican", true), (std::vector<std::string>{"kept"}));
    ASSERT_TRUE(env->h.svc().restore(gone.id));
    EXPECT_EQ(env->slugs("pelican").size(), 2u);  // no reindex needed after a restore
    ASSERT_TRUE(env->h.svc().soft_delete(gone.id));
    ASSERT_TRUE(env->h.svc().purge(gone.id));
    EXPECT_EQ(env->slugs("pelican", true), (std::vector<std::string>{"kept"}));
}

TEST_P(SearchServiceTest, MalformedFtsSyntaxNeverErrors) {
    env->add("near", "Bread AND butter, NEAR(the door): foo (bar) \"quoted\" * stars.");
    for (std::string q : {"\"", "\"\"\"\"", "AND", "OR", "NOT", "foo*(", "NEAR(", "NEAR(a b", "(", ")", "*", "^foo",
                          "-foo", "+", "title:foo", "content:", "{slug}", "a OR", "\"unterminated", "''", "\\", "%",
                          "foo AND", "NOT NOT", "\xe2\x80\x94", "a\"b\"c", ":"}) {
        auto r = env->search->search({q, false, 20, 0});
        ASSERT_TRUE(r) << "query " << q << ": " << r.error().message;
    }
    // Hostile words are their letters and digits: "NEAR(" is the word near.
    EXPECT_EQ(env->slugs("NEAR("), (std::vector<std::string>{"near"}));
    EXPECT_EQ(env->slugs("foo*("), (std::vector<std::string>{"near"}));
    EXPECT_EQ(env->slugs("(bar)"), (std::vector<std::string>{"near"}));
    // Capital operators alone: nothing to search for, and the reader is told.
    auto lone = env->find("AND");
    EXPECT_TRUE(lone.hits.empty());
    EXPECT_NE(lone.hint, "");
}

// The syntax table: each query's result set, the same in both modes (the
// notes avoid the documented differences: stems, diacritics, substrings
// inside words).
void add_syntax_corpus(Env& env) {
    env.add("run-park", "I went running in the park this morning.");
    env.add("run-home", "Running went badly, so I walked home.");
    env.add("caramel", "Caramel apples at the market.");
    env.add("kiwi", "Kiwis and mangoes, a fruit salad.");
    env.add("email", "Send me an e-mail about the city park.");
    env.add("trail", "Trail running on the ridge, went far.");
    env.add("punct", "We went, running, to the station.");
    env.add("mixed", "After running: caramel fudge.");
}

struct SyntaxRow {
    std::string query;
    std::set<std::string> expected;
    bool hint = false;  // the query cannot match anything: a hint, no results
};

const std::vector<SyntaxRow>& syntax_table() {
    static const std::vector<SyntaxRow> rows = {
        {"running", {"run-park", "run-home", "trail", "punct", "mixed"}},
        {"RUNNING", {"run-park", "run-home", "trail", "punct", "mixed"}},
        {"went running", {"run-park", "run-home", "trail", "punct"}},
        {R"("went running")", {"run-park", "punct"}},
        {"\u201cwent running\u201d", {"run-park", "punct"}},
        {R"("went running)", {"run-park", "punct"}},  // unbalanced: to the end
        {R"("running went")", {"run-home"}},
        {"caramel OR kiwi", {"caramel", "kiwi", "mixed"}},
        {"caramel OR OR kiwi", {"caramel", "kiwi", "mixed"}},
        {"running caramel OR kiwi", {"mixed"}},
        {"park OR caramel -city", {"run-park", "caramel", "mixed"}},
        {"running -park", {"run-home", "trail", "punct", "mixed"}},
        {"running NOT park", {"run-home", "trail", "punct", "mixed"}},
        {"running -park -station", {"run-home", "trail", "mixed"}},
        {R"(running -"went running")", {"run-home", "trail", "mixed"}},
        {R"(went NOT "went running")", {"run-home", "trail"}},
        {"kiw*", {"kiwi"}},
        {"caramel*", {"caramel", "mixed"}},
        {"e-mail", {"email"}},
        {R"("city park")", {"email"}},
        {"caramel AND apples", {"caramel"}},
        {"running OR", {"run-park", "run-home", "trail", "punct", "mixed"}},
        {"OR running", {"run-park", "run-home", "trail", "punct", "mixed"}},
        {"running NOT", {"run-park", "run-home", "trail", "punct", "mixed"}},
        {"title:caramel", {}},
        {"NEAR(caramel, apples)", {}},
        {"-park", {}, true},
        {"NOT park", {}, true},
        {"OR", {}, true},
        {"-", {}, true},
        {"!!! ()", {}, true},
        {std::string(kMaxQueryBytes, '('), {}, true},
    };
    return rows;
}

TEST_P(SearchServiceTest, SyntaxTableGivesTheSameResultSetsInBothModes) {
    add_syntax_corpus(*env);
    for (const auto& row : syntax_table()) {
        auto r = env->search->search({row.query, false, 20, 0});
        ASSERT_TRUE(r) << row.query << ": " << r.error().message;
        std::set<std::string> got;
        for (const auto& hit : r->hits) {
            got.insert(hit.slug);
            EXPECT_NE(hit.excerpt_html.find("<mark>"), std::string::npos) << row.query << " " << hit.excerpt_html;
            EXPECT_TRUE(only_mark_tags(hit.excerpt_html)) << hit.excerpt_html;
        }
        EXPECT_EQ(got, row.expected) << "query " << row.query;
        EXPECT_EQ(r->total, static_cast<int64_t>(row.expected.size())) << row.query;
        EXPECT_EQ(!r->hint.empty(), row.hint) << row.query << ": hint " << r->hint;
    }
}

TEST_P(SearchServiceTest, PhraseAndOrMatchesAreHighlighted) {
    add_syntax_corpus(*env);
    auto excerpt = [&](const std::string& q, const std::string& slug) {
        for (const auto& hit : env->find(q).hits) {
            if (hit.slug == slug) return hit.excerpt_html;
        }
        return std::string("(not found)");
    };
    EXPECT_EQ(excerpt(R"("went running")", "punct"), "We <mark>went, running</mark>, to the station.");
    EXPECT_EQ(excerpt(R"("went running")", "run-park"), "I <mark>went running</mark> in the park this morning.");
    EXPECT_EQ(excerpt("caramel OR kiwi", "mixed"), "After running: <mark>caramel</mark> fudge.");
    EXPECT_EQ(excerpt("caramel OR kiwi", "kiwi"), "<mark>Kiwi</mark>s and mangoes, a fruit salad.");
    EXPECT_EQ(excerpt("running OR caramel", "mixed"), "After <mark>running</mark>: <mark>caramel</mark> fudge.");
    EXPECT_EQ(excerpt("e-mail", "email"), "Send me an <mark>e-mail</mark> about the city park.");
    // Excluded words are not marked.
    EXPECT_EQ(excerpt("walked -park", "run-home"), "Running went badly, so I <mark>walked</mark> home.");
}

TEST_P(SearchServiceTest, FtsExpressionOfAnyParsedQueryIsAcceptedByTheIndex) {
    if (fallback()) GTEST_SKIP() << "the index is the FTS mode's";
    std::vector<std::string> queries = {std::string("\"a\0b\" c\x01" "d \"e\x7f", 13)};
    for (const auto& row : syntax_table()) queries.push_back(row.query);
    for (const auto& query : queries) {
        auto q = parse_query(query);
        ASSERT_TRUE(q) << query;
        if (!q->usable()) continue;
        auto m = env->h.svc().index().matches(q->fts_expression, true, 10);
        EXPECT_TRUE(m) << q->fts_expression << ": " << m.error().message;
    }
}

// Pieces a hostile or confused reader types, for the property below.
rc::Gen<std::string> query_gen() {
    static const std::vector<std::string> pieces = {
        "\"", "\u201c", "\u201d", "OR", "AND", "NOT", "NEAR(", "NEAR", "(", ")", "*", "-", "--", "^", "+", ":",
        "title:", "content:", "slug:", "{", "}", "'", "\\", "%", ";", "kiwi", "caramel", "went", "running", "park",
        "ki", "kiw", "e-mail", "\u00e9t\u00e9", "\u2014", "\u00a0", "\x01", std::string(1, '\0'), "\xff", " ", " ", " ", "\t", "\n"};
    return rc::gen::map(
        rc::gen::container<std::vector<std::string>>(rc::gen::oneOf(
            rc::gen::elementOf(pieces), rc::gen::elementOf(pieces), rc::gen::elementOf(pieces),
            rc::gen::string<std::string>())),
        [](const std::vector<std::string>& parts) {
            std::string out;
            for (const auto& p : parts) out += p;
            return out;
        });
}

// Any string is accepted: results or an empty page (with a hint when nothing
// could match), never an error — except the documented invalid_input for a
// blank, over-long or invalid-UTF-8 query. In FTS mode the index itself
// accepts every expression (the service's safety net for an FTS5 rejection
// would otherwise hide a bad one).
TEST_P(SearchServiceTest, AnyQueryGivesResultsOrAnEmptyPageNeverAnError) {
    add_syntax_corpus(*env);
    const bool fts = !fallback();
    auto& e = *env;
    const bool ok = rc::check("any query", [&e, fts] {
        const std::string q = *query_gen();
        const bool documented_refusal = trim(q).empty() || q.size() > kMaxQueryBytes || !is_valid_utf8(q);
        auto r = e.search->search({q, false, 20, 0});
        if (!r) {
            RC_ASSERT(r.error().code == ErrorCode::invalid_input);
            RC_ASSERT(documented_refusal);
            return;
        }
        RC_ASSERT(!documented_refusal);
        if (!r->hint.empty()) RC_ASSERT(r->hits.empty());
        for (const auto& hit : r->hits) RC_ASSERT(only_mark_tags(hit.excerpt_html));
        auto parsed = parse_query(q);
        RC_ASSERT(bool(parsed));
        const bool usable_iff_expression = parsed->usable() == !parsed->fts_expression.empty();
        RC_ASSERT(usable_iff_expression);
        if (fts && parsed->usable()) {
            auto m = e.h.svc().index().matches(parsed->fts_expression, true, 10);
            RC_ASSERT(bool(m));
        }
    });
    EXPECT_TRUE(ok);
}

TEST_P(SearchServiceTest, ExcerptEscapesNoteHtmlAndMarksOnlyTheMatch) {
    env->add("xss", "<script>alert(1)</script> needle <img src=x onerror=alert(2)>");
    auto r = env->find("needle");
    ASSERT_EQ(r.hits.size(), 1u);
    const std::string& e = r.hits[0].excerpt_html;
    EXPECT_NE(e.find("&lt;script&gt;"), std::string::npos) << e;
    EXPECT_NE(e.find("<mark>needle</mark>"), std::string::npos) << e;
    EXPECT_EQ(tags(e), (std::vector<std::string>{"<mark>", "</mark>"})) << e;
    EXPECT_TRUE(only_mark_tags(e));
    // Searching for the markup itself is just as safe.
    auto markup = env->find("<script>");
    for (const auto& hit : markup.hits) EXPECT_TRUE(only_mark_tags(hit.excerpt_html)) << hit.excerpt_html;
}

TEST_P(SearchServiceTest, NonAsciiTextIsFoundAndCutOnCharacterBoundaries) {
    std::string filler;
    for (int i = 0; i < 80; ++i) filler += "\u65e5\u672c\u8a9e\u0301 ";
    env->add("privet", filler + "\u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440 " + filler);
    auto r = env->find("\u043f\u0440\u0438\u0432\u0435\u0442");
    ASSERT_EQ(r.hits.size(), 1u);
    const std::string& e = r.hits[0].excerpt_html;
    EXPECT_TRUE(is_valid_utf8(e));
    EXPECT_NE(e.find("<mark>\u041f\u0440\u0438\u0432\u0435\u0442</mark>"), std::string::npos) << e;
}

TEST_P(SearchServiceTest, PaginationCoversEveryMatchOnceAndTotalIsHonest) {
    for (int i = 0; i < 25; ++i) env->add("page-" + std::to_string(i), "Common word number " + std::to_string(i));
    std::set<std::string> seen;
    for (int64_t offset : {0, 10, 20}) {
        auto r = env->find("common", false, 10, offset);
        EXPECT_EQ(r.hits.size(), offset == 20 ? 5u : 10u);
        for (const auto& h : r.hits) EXPECT_TRUE(seen.insert(h.slug).second) << h.slug;
        if (fallback()) {
            // The scan stops once the page (plus one) is found.
            EXPECT_EQ(r.total, offset == 20 ? 25 : offset + 11);
            EXPECT_EQ(r.total_exact, offset == 20);
        } else {
            EXPECT_EQ(r.total, 25);
            EXPECT_TRUE(r.total_exact);
        }
    }
    EXPECT_EQ(seen.size(), 25u);
    EXPECT_TRUE(env->find("common", false, 10, 30).hits.empty());
    EXPECT_TRUE(env->find("common", false, 10, 1000).hits.empty());
}

TEST_P(SearchServiceTest, EqualMatchesComeNewestFirst) {
    env->add("old", "Same kiwi text.");
    env->add("mid", "Same kiwi text.");
    env->add("new", "Same kiwi text.");
    EXPECT_EQ(env->slugs("kiwi"), (std::vector<std::string>{"new", "mid", "old"}));
}

TEST_P(SearchServiceTest, LimitAndOffsetOutOfRangeAreInvalidInput) {
    for (auto [limit, offset] : {std::pair<int64_t, int64_t>{0, 0}, {kMaxLimit + 1, 0}, {-1, 0}, {10, -1}}) {
        auto r = env->search->search({"x", false, limit, offset});
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
    }
    auto blank = env->search->search({"  ", false, 10, 0});
    ASSERT_FALSE(blank);
    EXPECT_EQ(blank.error().code, ErrorCode::invalid_input);
}

TEST_P(SearchServiceTest, ResultsFollowWritesAtOnce) {
    auto first = env->add("first", "A quokka appears.");
    EXPECT_EQ(env->slugs("quokka").size(), 1u);
    env->add("second", "Another quokka appears.");
    EXPECT_EQ(env->slugs("quokka"), (std::vector<std::string>{"second", "first"}));  // not a stale cached list
    ASSERT_TRUE(env->h.svc().update(first.id, {std::string("Now about a wombat."), std::nullopt}));
    EXPECT_EQ(env->slugs("quokka"), (std::vector<std::string>{"second"}));
    EXPECT_EQ(env->slugs("wombat"), (std::vector<std::string>{"first"}));
    // A change made by another connection (another process) is seen too.
    ASSERT_EQ(env->h.sql("UPDATE notes SET published = 0 WHERE slug = 'second'"), "");
    EXPECT_TRUE(env->slugs("quokka").empty());
}

TEST_P(SearchServiceTest, UnreadableNoteFileIsSkippedInFallbackOnly) {
    auto broken = env->add("broken", "A heron note.");
    env->add("fine", "Another heron note.");
    std::ofstream(env->h.notes_path + "/" + broken.file_path) << "tampered heron";
    auto r = env->find("heron");
    if (fallback()) {
        EXPECT_EQ(r.hits.size(), 1u);  // hash mismatch: skipped, logged
    } else {
        EXPECT_EQ(r.hits.size(), 2u);  // FTS reads the index, not the file
    }
}

TEST_P(SearchServiceTest, ReaderOfTheOtherModeSeesTheSameNotes) {
    env->add("a", "Shared lemur words.");
    env->add("b", "Lemur again.", false);
    auto other = SearchService::open(env->h.svc(), {!fallback()});
    ASSERT_TRUE(other);
    if ((*other)->mode() == env->search->mode()) GTEST_SKIP() << "only one mode available";
    for (bool admin : {false, true}) {
        auto mine = env->slugs("lemur", admin);
        auto r = (*other)->search({"lemur", admin, 20, 0});
        ASSERT_TRUE(r);
        std::vector<std::string> theirs;
        for (const auto& h : r->hits) theirs.push_back(h.slug);
        EXPECT_EQ(std::set<std::string>(mine.begin(), mine.end()), std::set<std::string>(theirs.begin(), theirs.end()));
    }
}

// ------------------------------------------------------------------ FTS only

class SearchFts : public ::testing::Test {
protected:
    void SetUp() override {
        if (!storage::fts5_available()) GTEST_SKIP() << "SQLite without FTS5";
    }
};

TEST_F(SearchFts, TitleMatchesRankAboveContentMatches) {
    Env env(false);
    env.add("title-match", "# Zebra crossings\n\nAbout roads.");
    env.add("content-match", "# Roads\n\nA long note that mentions a zebra once, in passing, among many other words.");
    env.add("content-twice", "# Animals\n\nzebra zebra in the content only.");
    auto slugs = env.slugs("zebra");
    ASSERT_EQ(slugs.size(), 3u);
    EXPECT_EQ(slugs.front(), "title-match");
}

TEST_F(SearchFts, StemmingAndDiacriticsFollowTheIndexTokenizer) {
    Env env(false);
    env.add("cooking", "She was cooking a Cr\u00e8me br\u00fbl\u00e9e.");
    EXPECT_EQ(env.slugs("cooked"), (std::vector<std::string>{"cooking"}));
    EXPECT_EQ(env.slugs("creme brulee"), (std::vector<std::string>{"cooking"}));
    // Highlighting is literal: "cook" marks the start of "cooking".
    auto r = env.find("cook");
    ASSERT_EQ(r.hits.size(), 1u);
    EXPECT_NE(r.hits[0].excerpt_html.find("<mark>cook</mark>ing"), std::string::npos) << r.hits[0].excerpt_html;
}

TEST_F(SearchFts, OnlyPunctuationFindsNothingWithoutError) {
    Env env(false);
    env.add("quote", "He said \"hello\".");
    auto r = env.find("\"");
    EXPECT_TRUE(r.hits.empty());
    EXPECT_EQ(r.total, 0);
    EXPECT_TRUE(r.total_exact);
}

TEST_F(SearchFts, RankedSetIsCappedAndTotalSaysSo) {
    SearchService::Options o;
    o.max_ranked = 5;
    Env env(false, o);
    for (int i = 0; i < 8; ++i) env.add("cap-" + std::to_string(i), "Capped term " + std::to_string(i));
    auto r = env.find("capped");
    EXPECT_EQ(r.total, 5);
    EXPECT_FALSE(r.total_exact);
    ASSERT_EQ(r.hits.size(), 5u);
    std::set<std::string> got;
    for (const auto& h : r.hits) got.insert(h.slug);
    // The most recently added matches are the ones ranked.
    EXPECT_EQ(got, (std::set<std::string>{"cap-3", "cap-4", "cap-5", "cap-6", "cap-7"}));
    EXPECT_TRUE(env.find("capped", false, 20, 5).hits.empty());
    // Exactly max_ranked matches: the total is exact.
    Env exact(false, o);
    for (int i = 0; i < 5; ++i) exact.add("e-" + std::to_string(i), "Capped term");
    EXPECT_TRUE(exact.find("capped").total_exact);
}

TEST_F(SearchFts, RebuildRestoresAnEmptiedIndex) {
    Env env(false);
    env.add("one", "Index me: capybara.");
    auto two = env.add("two", "Index me too: capybara.", false);
    env.add("three", "Trash capybara.");
    ASSERT_TRUE(env.h.svc().soft_delete(env.h.svc().get_by_slug("three")->id));
    auto needed = env.search->index_needs_rebuild();
    ASSERT_TRUE(needed);
    EXPECT_FALSE(*needed);

    ASSERT_EQ(env.h.sql("DELETE FROM notes_fts"), "");
    EXPECT_TRUE(*env.search->index_needs_rebuild());
    EXPECT_TRUE(env.slugs("capybara", true).empty());

    std::vector<std::pair<std::size_t, std::size_t>> progress;
    auto report = env.search->rebuild([&](std::size_t done, std::size_t total) { progress.emplace_back(done, total); });
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->indexed, 3);  // deleted notes too: a restore needs no reindex
    EXPECT_TRUE(report->failed.empty());
    ASSERT_EQ(progress.size(), 3u);
    EXPECT_EQ(progress.back(), (std::pair<std::size_t, std::size_t>{3, 3}));
    EXPECT_FALSE(*env.search->index_needs_rebuild());
    auto found = env.find("capybara", true);
    ASSERT_EQ(found.hits.size(), 2u);
    for (const auto& hit : found.hits) {
        EXPECT_EQ(hit.title, hit.slug == "one" ? "Index me: capybara." : "Index me too: capybara.");
    }
    // The delete trigger still works on the re-created table.
    ASSERT_TRUE(env.h.svc().soft_delete(two.id));
    ASSERT_TRUE(env.h.svc().purge(two.id));
    EXPECT_EQ(env.h.sql_text("SELECT COUNT(*) FROM notes_fts"), "2");
}

TEST_F(SearchFts, RebuildLeavesOutUnreadableFilesAndReportsThem) {
    Env env(false);
    auto bad = env.add("bad", "A note about otters.");
    env.add("good", "Another note about otters.");
    std::ofstream(env.h.notes_path + "/" + bad.file_path) << "tampered";
    auto report = env.search->rebuild();
    ASSERT_TRUE(report);
    EXPECT_EQ(report->indexed, 1);
    ASSERT_EQ(report->failed.size(), 1u);
    EXPECT_TRUE(report->failed[0].starts_with("bad: ")) << report->failed[0];
    EXPECT_EQ(env.slugs("otters"), (std::vector<std::string>{"good"}));
}

TEST_F(SearchFts, MissingIndexTableMeansFallbackMode) {
    Env env(false);
    env.add("n", "Some narwhal.");
    ASSERT_EQ(env.h.sql("DROP TABLE notes_fts"), "");
    auto s = SearchService::open(env.h.svc(), {});
    ASSERT_TRUE(s);
    EXPECT_EQ((*s)->mode(), Mode::fallback);
    auto r = (*s)->search({"narwhal", false, 20, 0});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->hits.size(), 1u);
}

TEST(SearchFallback, RebuildIsUnsupportedAndNeverNeeded) {
    Env env(true);
    env.add("n", "Some text.");
    EXPECT_FALSE(*env.search->index_needs_rebuild());
    auto r = env.search->rebuild();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::unsupported);
}

TEST(SearchFallback, MatchesWordsAsSubstringsAndPhrasesAcrossPunctuation) {
    Env env(true);
    env.add("q", "He said \"hello\" (twice) and used foo*( in code.");
    EXPECT_EQ(env.slugs("foo*("), (std::vector<std::string>{"q"}));
    EXPECT_EQ(env.slugs("ELL"), (std::vector<std::string>{"q"}));  // substring, anywhere
    EXPECT_EQ(env.slugs("\"hello twice\""), (std::vector<std::string>{"q"}));  // as FTS5: punctuation between
    EXPECT_EQ(env.slugs("\"ello twi\""), (std::vector<std::string>{"q"}));    // substring of the words
    EXPECT_TRUE(env.slugs("\"hel twice\"").empty());  // inside a phrase, tokens are whole
    auto r = env.find("ELL");
    EXPECT_NE(r.hits[0].excerpt_html.find("h<mark>ell</mark>o"), std::string::npos) << r.hits[0].excerpt_html;
    // A quote alone is the phrase operator, not a character to look for.
    auto quote = env.find("\"");
    EXPECT_TRUE(quote.hits.empty());
    EXPECT_NE(quote.hint, "");
}

TEST(SearchFallback, ScansPastBatchesNewestFirst) {
    Env env(true);
    for (int i = 0; i < 450; ++i) env.add("n-" + std::to_string(i), i % 100 == 0 ? "rare gecko" : "filler text");
    EXPECT_EQ(env.slugs("gecko"), (std::vector<std::string>{"n-400", "n-300", "n-200", "n-100", "n-0"}));
    auto r = env.find("gecko");
    EXPECT_EQ(r.total, 5);
    EXPECT_TRUE(r.total_exact);
}

// ------------------------------------------------------------------ handlers

struct SearchHandlers : ::testing::Test {
    std::unique_ptr<Env> env;
    std::unique_ptr<testing::SiteServices> services;
    std::shared_ptr<web::Site> site;
    std::vector<std::string> keep;  // request strings outlive the request

    void SetUp() override {
        env = std::make_unique<Env>(!storage::fts5_available());
        services = std::make_unique<testing::SiteServices>(env->h);
        site = services->site();
        site->search = env->search.get();
        env->add("public", "Public <b>kiwi</b> note.");
        env->add("secret", "Draft kiwi note.", false);
    }

    http::Response get(const http::Handler& handler, const std::string& path, const std::string& query, bool admin) {
        keep.push_back(query);
        http::Request req;
        req.method = http::Method::get;
        req.method_text = "GET";
        req.path = path;
        req.query = keep.back();
        if (admin) web::set_visitor(req, web::Visitor{true, "csrf"});
        return handler(req);
    }
};

TEST_F(SearchHandlers, ApiAnswersTheAdminWithDraftsAndPrivateNoStore) {
    auto handler = web::handlers::api_search(site);
    auto anon = get(handler, "/api/search", "q=kiwi", false);
    ASSERT_EQ(anon.status, 200);
    EXPECT_EQ(anon.header("Cache-Control").value_or(""), "public, max-age=60");
    EXPECT_EQ(anon.header("Vary").value_or(""), "Cookie");
    auto body = nlohmann::json::parse(anon.body);
    EXPECT_EQ(body["total"], 1);
    EXPECT_EQ(body["results"][0]["slug"], "public");
    EXPECT_EQ(body["results"][0]["url"], "https://blog.example/note/public");

    auto admin = get(handler, "/api/search", "q=kiwi", true);
    ASSERT_EQ(admin.status, 200);
    EXPECT_EQ(admin.header("Cache-Control").value_or(""), "private, no-store");
    auto all = nlohmann::json::parse(admin.body);
    EXPECT_EQ(all["total"], 2);
    EXPECT_EQ(all["results"][0]["slug"], "secret");
}

TEST_F(SearchHandlers, PageAnswersTheAdminWithDraftsAndPrivateNoStore) {
    auto handler = web::handlers::search(site);
    auto anon = get(handler, "/search", "q=kiwi", false);
    ASSERT_EQ(anon.status, 200);
    EXPECT_EQ(anon.header("Cache-Control").value_or(""), "public, max-age=60");
    EXPECT_EQ(anon.body.find("/note/secret"), std::string::npos);
    EXPECT_NE(anon.body.find("Public &lt;b&gt;<mark>kiwi</mark>&lt;/b&gt; note."), std::string::npos) << anon.body;

    auto admin = get(handler, "/search", "q=kiwi", true);
    ASSERT_EQ(admin.status, 200);
    EXPECT_EQ(admin.header("Cache-Control").value_or(""), "private, no-store");
    EXPECT_NE(admin.body.find("https://blog.example/note/secret"), std::string::npos);
    EXPECT_NE(admin.body.find("Draft</span>"), std::string::npos);
}

TEST_F(SearchHandlers, UnusableQueryShowsTheHintOnThePageAndInTheApi) {
    auto page = get(web::handlers::search(site), "/search", "q=-kiwi", false);
    ASSERT_EQ(page.status, 200);
    EXPECT_NE(page.body.find("not only words to leave out"), std::string::npos) << page.body;
    EXPECT_EQ(page.body.find("search-results"), std::string::npos);
    auto api = get(web::handlers::api_search(site), "/api/search", "q=%21%21%21", false);
    ASSERT_EQ(api.status, 200);
    auto body = nlohmann::json::parse(api.body);
    EXPECT_EQ(body["total"], 0);
    EXPECT_TRUE(body["results"].empty());
    EXPECT_NE(body["hint"].get<std::string>().find("nothing to search for"), std::string::npos);
    // A usable query carries no hint; the page reminds of the syntax.
    auto found = nlohmann::json::parse(get(web::handlers::api_search(site), "/api/search", "q=kiwi", false).body);
    EXPECT_FALSE(found.contains("hint"));
    EXPECT_NE(page.body.find("class=\"search-hint\""), std::string::npos);
}

// Any query string reaches the handlers as 200 (results or an empty page) or
// a 400 that says what to fix — never a 5xx.
TEST_F(SearchHandlers, AnyQueryIsAnsweredWithoutA5xx) {
    auto page_handler = web::handlers::search(site);
    auto api_handler = web::handlers::api_search(site);
    const bool ok = rc::check("any q", [&] {
        const std::string q = *query_gen();
        const std::string qs = "q=" + percent_encode(q);
        for (const auto* handler : {&page_handler, &api_handler}) {
            auto res = get(*handler, handler == &page_handler ? "/search" : "/api/search", qs, false);
            RC_ASSERT(res.status == 200 || res.status == 400);
        }
    });
    EXPECT_TRUE(ok);
}

TEST_F(SearchHandlers, DisabledSearchAnswers503) {
    site->search = nullptr;
    auto page = get(web::handlers::search(site), "/search", "q=kiwi", false);
    EXPECT_EQ(page.status, 503);
    EXPECT_NE(page.body.find("Search is not available"), std::string::npos);
    EXPECT_EQ(page.header("Cache-Control").value_or(""), "no-store");
    auto api = get(web::handlers::api_search(site), "/api/search", "q=kiwi", false);
    EXPECT_EQ(api.status, 503);
    EXPECT_EQ(nlohmann::json::parse(api.body)["error"], "temporarily_unavailable");
}

}  // namespace
}  // namespace starpunk::search
