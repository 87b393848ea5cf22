// Slugs (SPEC §2.5): examples and RapidCheck properties. No database: the
// "exists" callback is a set of taken slugs.
#include "notes/slug.hpp"

#include <gtest/gtest.h>

#include "util/strings.hpp"
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace starpunk::notes {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

// 2024-03-15 14:25:30.999 UTC
const system_clock::time_point kCreated = sys_days{year{2024} / March / 15} + 14h + 25min + 30s + 999ms;

// ^[a-z0-9]([a-z0-9-]*[a-z0-9])?$, and (our normalisation's stronger promise) no "--".
bool is_valid_slug(std::string_view s) {
    if (s.empty() || s.front() == '-' || s.back() == '-') return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    return s.find("--") == std::string_view::npos;
}

bool is_suffix_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// "<stem>-xxxx" with xxxx from [a-z0-9].
bool has_random_suffix(std::string_view slug, std::string_view stem) {
    if (slug.size() != stem.size() + 5 || slug.substr(0, stem.size()) != stem || slug[stem.size()] != '-')
        return false;
    for (char c : slug.substr(stem.size() + 1))
        if (!is_suffix_char(c)) return false;
    return true;
}

bool is_timestamp_slug(std::string_view s) {
    if (s.size() != 15 || s[8] != '-') return false;
    for (std::size_t i = 0; i < s.size(); ++i)
        if (i != 8 && !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    return true;
}

// A set of taken slugs usable as SlugExists; counts the calls.
struct Taken {
    std::set<std::string, std::less<>> slugs;
    int calls = 0;
    SlugExists fn() {
        return [this](std::string_view s) -> Result<bool> {
            ++calls;
            return slugs.find(s) != slugs.end();
        };
    }
};

const SlugExists kNothingTaken = [](std::string_view) { return false; };

std::string utf8(char32_t cp) {
    std::string out;
    append_utf8(out, cp);
    return out;
}

rc::Gen<std::uint32_t> slug_code_point() {
    return rc::gen::weightedOneOf<std::uint32_t>({
        {8, rc::gen::inRange<std::uint32_t>(0x20, 0x7F)},
        {3, rc::gen::element<std::uint32_t>(' ', '-', '/', '.', '#', '\n', '\t', '_')},
        {2, rc::gen::inRange<std::uint32_t>(0xA0, 0x250)},
        {1, rc::gen::inRange<std::uint32_t>(0x300, 0x370)},
        {1, rc::gen::inRange<std::uint32_t>(0x370, 0x400)},
        {2, rc::gen::inRange<std::uint32_t>(0x400, 0x500)},
        {1, rc::gen::inRange<std::uint32_t>(0x4E00, 0x4E80)},
        {1, rc::gen::inRange<std::uint32_t>(0x3040, 0x3100)},
        {1, rc::gen::inRange<std::uint32_t>(0x1F300, 0x1F700)},
        {1, rc::gen::suchThat(rc::gen::inRange<std::uint32_t>(1, 0x110000),
                              [](std::uint32_t cp) { return cp < 0xD800 || cp > 0xDFFF; })},
    });
}

// Valid UTF-8 of 0–300 code points.
rc::Gen<std::string> slug_input() {
    return rc::gen::mapcat(rc::gen::inRange<std::size_t>(0, 300), [](std::size_t n) {
        return rc::gen::map(rc::gen::container<std::vector<std::uint32_t>>(n, slug_code_point()),
                            [](const std::vector<std::uint32_t>& cps) {
                                std::string out;
                                for (std::uint32_t cp : cps) out += utf8(static_cast<char32_t>(cp));
                                return out;
                            });
    });
}

// Text or arbitrary bytes.
rc::Gen<std::string> any_input() { return rc::gen::oneOf(slug_input(), rc::gen::arbitrary<std::string>()); }

// A valid custom slug of 1–200 characters.
rc::Gen<std::string> valid_slug() {
    return rc::gen::suchThat(
        rc::gen::map(rc::gen::mapcat(rc::gen::inRange<std::size_t>(1, 201),
                                     [](std::size_t n) {
                                         return rc::gen::container<std::string>(
                                             n, rc::gen::element('a', 'b', 'z', '0', '9', '-'));
                                     }),
                     [](const std::string& s) { return normalize_slug_text(s, kCustomSlugMaxLen); }),
        [](const std::string& s) { return !s.empty() && !is_reserved_slug(s); });
}

// --------------------------------------------------------- normalisation

TEST(SlugNormalize, TransliteratesToAscii) {
    EXPECT_EQ(normalize_slug_text("Crème brûlée", 100), "creme-brulee");
    EXPECT_EQ(normalize_slug_text("Привет мир", 100), "privet-mir");
    EXPECT_EQ(normalize_slug_text("Γειά σου Κόσμε", 100), "geia-sou-kosme");
    EXPECT_EQ(normalize_slug_text("Straße Łódź Øre", 100), "strasse-lodz-ore");
    EXPECT_EQ(normalize_slug_text("Cre\u0300me", 100), "creme");  // decomposed accent
    EXPECT_EQ(normalize_slug_text("ＡＢＣ１２３", 100), "abc123");  // full-width forms
}

TEST(SlugNormalize, OtherScriptsBecomeAscii) {
    // Whatever ICU's romanisation is, the result is a non-empty ASCII slug.
    for (std::string_view s : {"你好世界", "こんにちは世界", "カタカナ", "안녕하세요", "مرحبا بالعالم", "שלום עולם",
                               "สวัสดี", "नमस्ते"}) {
        const std::string slug = normalize_slug_text(s, 100);
        EXPECT_TRUE(is_valid_slug(slug)) << s << " -> " << slug;
    }
    EXPECT_EQ(normalize_slug_text("你好", 100), "ni-hao");  // Han -> pinyin, tones dropped
}

TEST(SlugNormalize, DashesAndCase) {
    EXPECT_EQ(normalize_slug_text("Hello, World!!!", 100), "hello-world");
    EXPECT_EQ(normalize_slug_text("--a---b--", 100), "a-b");
    EXPECT_EQ(normalize_slug_text("UPPER lower 123", 100), "upper-lower-123");
    EXPECT_EQ(normalize_slug_text("a_b.c/d\\e", 100), "a-b-c-d-e");
    EXPECT_EQ(normalize_slug_text("🎉🎉🎉", 100), "");
    EXPECT_EQ(normalize_slug_text("!!! ???", 100), "");
    EXPECT_EQ(normalize_slug_text("", 100), "");
    EXPECT_EQ(normalize_slug_text("abc", 0), "");
}

TEST(SlugNormalize, CutThenRetrimmed) {
    EXPECT_EQ(normalize_slug_text(std::string(150, 'a'), 100), std::string(100, 'a'));
    // The 100th character would be the '-' before "b".
    EXPECT_EQ(normalize_slug_text(std::string(99, 'a') + " b", 100), std::string(99, 'a'));
}

TEST(SlugNormalize, HugeInputIsBounded) {
    std::string huge;
    while (huge.size() < (1u << 20)) huge += "Привет";
    const std::string slug = normalize_slug_text(huge, 100);
    EXPECT_TRUE(is_valid_slug(slug));
    EXPECT_EQ(slug.size(), 100u);
}

TEST(SlugNormalize, TransliteratorAvailable) { EXPECT_TRUE(slug_transliteration_available()); }

TEST(SlugNormalize, ConcurrentUseIsSafe) {
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&failures] {
            for (int i = 0; i < 200; ++i) {
                if (normalize_slug_text("Crème brûlée", 100) != "creme-brulee") ++failures;
                if (normalize_slug_text("Привет мир", 100) != "privet-mir") ++failures;
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
}

// ---------------------------------------------------------------- reserved

TEST(SlugReserved, CaseInsensitive) {
    for (std::string_view r : {"api", "admin", "auth", "feed", "static", "notes", "note", "login", "logout",
                               "settings", "micropub", "callback", "feed.xml", "rss", "atom", "index", "home", "about",
                               "search", "health", "media", "tag"}) {
        EXPECT_TRUE(is_reserved_slug(r)) << r;
    }
    EXPECT_TRUE(is_reserved_slug("ADMIN"));
    EXPECT_TRUE(is_reserved_slug("Feed.XML"));
    EXPECT_TRUE(is_reserved_slug("feed-xml"));
    EXPECT_TRUE(is_reserved_slug(" Admin "));
    EXPECT_TRUE(is_reserved_slug("admin!"));
    EXPECT_FALSE(is_reserved_slug("administrator"));
    EXPECT_FALSE(is_reserved_slug("feeds"));
    EXPECT_FALSE(is_reserved_slug("my-note"));
}

// ---------------------------------------------------------- automatic slugs

TEST(AutomaticSlug, FirstFiveWords) {
    EXPECT_EQ(slug_from_content("one two three four five six seven"), "one-two-three-four-five");
    EXPECT_EQ(slug_from_content("Crème brûlée"), "creme-brulee");
    EXPECT_EQ(slug_from_content("Привет мир"), "privet-mir");
    EXPECT_EQ(slug_from_content("  Hello,   World!  \n\nMore text here and more"), "hello-world-more-text-here");
}

TEST(AutomaticSlug, MarkdownSyntaxIsNotAWord) {
    EXPECT_EQ(slug_from_content("# Hello World\n\nBody text"), "hello-world-body-text");
    EXPECT_EQ(slug_from_content("## My **bold** [link](http://x.com/a) post"), "my-bold-link-post");
    EXPECT_EQ(slug_from_content("- [ ] buy milk"), "buy-milk");
    EXPECT_EQ(slug_from_content("— 🎉 & one two three four five"), "one-two-three-four-five");
    EXPECT_EQ(slug_from_content("<p>Hello <b>world</b></p>"), "hello-world");
}

TEST(AutomaticSlug, AtMostHundredCharacters) {
    const std::string word(30, 'w');
    const std::string slug = slug_from_content(word + " " + word + " " + word + " " + word + " " + word);
    EXPECT_LE(slug.size(), kAutoSlugMaxLen);
    EXPECT_TRUE(is_valid_slug(slug));
    EXPECT_EQ(slug_from_content(std::string(99, 'a') + " b c"), std::string(99, 'a'));
}

TEST(AutomaticSlug, TimestampFallback) {
    for (std::string_view content : {"🎉🎉🎉", "!!! ??? ...", "", "   \n  ", "👍🏽 🇩🇪", "---\n***"}) {
        auto r = automatic_slug(content, kCreated, kNothingTaken);
        ASSERT_TRUE(r.ok()) << content;
        EXPECT_EQ(r->slug, "20240315-142530") << content;
        EXPECT_TRUE(r->used_timestamp_fallback);
        EXPECT_FALSE(r->custom_rejected);
    }
    auto normal = automatic_slug("Hello world", kCreated, kNothingTaken);
    ASSERT_TRUE(normal.ok());
    EXPECT_EQ(normal->slug, "hello-world");
    EXPECT_FALSE(normal->used_timestamp_fallback);
}

TEST(AutomaticSlug, TimestampFormat) {
    EXPECT_EQ(timestamp_slug(system_clock::time_point{}), "19700101-000000");
    EXPECT_EQ(timestamp_slug(kCreated), "20240315-142530");
    EXPECT_EQ(timestamp_slug(sys_days{year{1999} / December / 31} + 23h + 59min + 59s), "19991231-235959");
    EXPECT_EQ(timestamp_slug(sys_days{year{1969} / July / 20} + 20h + 17min), "19690720-201700");
}

TEST(AutomaticSlug, CollisionGetsRandomSuffix) {
    Taken taken;
    taken.slugs = {"hello-world"};
    auto r = automatic_slug("Hello world", kCreated, taken.fn());
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(has_random_suffix(r->slug, "hello-world")) << r->slug;
    EXPECT_EQ(taken.calls, 2);
}

TEST(AutomaticSlug, SuffixesVary) {
    Taken taken;
    taken.slugs = {"hello"};
    std::set<std::string> seen;
    for (int i = 0; i < 20; ++i) {
        auto r = automatic_slug("hello", kCreated, taken.fn());
        ASSERT_TRUE(r.ok());
        seen.insert(r->slug);
    }
    EXPECT_GT(seen.size(), 15u);  // 36^4 possibilities: repeats are rare
}

TEST(AutomaticSlug, CollisionKeepsLengthLimit) {
    const std::string base(100, 'a');
    Taken taken;
    taken.slugs = {base};
    auto r = automatic_slug(base, kCreated, taken.fn());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->slug.size(), kAutoSlugMaxLen);
    EXPECT_TRUE(has_random_suffix(r->slug, std::string(95, 'a'))) << r->slug;
}

TEST(AutomaticSlug, TimestampFallbackCollision) {
    Taken taken;
    taken.slugs = {"20240315-142530"};
    auto r = automatic_slug("🎉", kCreated, taken.fn());
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->used_timestamp_fallback);
    EXPECT_TRUE(has_random_suffix(r->slug, "20240315-142530")) << r->slug;
}

TEST(AutomaticSlug, ReservedContentGetsSuffix) {
    auto r = automatic_slug("About", kCreated, kNothingTaken);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(has_random_suffix(r->slug, "about")) << r->slug;
}

TEST(AutomaticSlug, GivesUpAfterBoundedAttempts) {
    int calls = 0;
    const SlugExists everything_taken = [&calls](std::string_view) {
        ++calls;
        return true;
    };
    auto r = automatic_slug("hello", kCreated, everything_taken);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::conflict);
    EXPECT_EQ(calls, 1 + kMaxRandomSuffixAttempts);
}

TEST(AutomaticSlug, ExistsErrorPropagates) {
    const SlugExists broken = [](std::string_view) -> Result<bool> {
        return make_error(ErrorCode::io, "database is locked");
    };
    auto r = automatic_slug("hello", kCreated, broken);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::io);
    EXPECT_EQ(r.error().message, "database is locked");
}

// ------------------------------------------------------------- custom slugs

TEST(CustomSlug, Normalised) {
    EXPECT_EQ(*validate_custom_slug("my-post"), "my-post");
    EXPECT_EQ(*validate_custom_slug("My Post!"), "my-post");
    EXPECT_EQ(*validate_custom_slug("  Crème Brûlée  "), "creme-brulee");
    EXPECT_EQ(*validate_custom_slug("Привет"), "privet");
    EXPECT_EQ(*validate_custom_slug("a..b"), "a-b");
    EXPECT_EQ(*validate_custom_slug("2024"), "2024");
}

TEST(CustomSlug, SlashAndDotsRejected) {
    for (std::string_view s : {"a/b", "../etc/passwd", "/admin", "note/", "a\\b", "..\\..\\x"}) {
        auto r = validate_custom_slug(s);
        ASSERT_FALSE(r.ok()) << s;
        EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
        EXPECT_EQ(r.error().message, "slug must not contain '/'") << s;
    }
    for (std::string_view s : {"..", ".", "---", "🎉", "", "   ", "!!!"}) {
        auto r = validate_custom_slug(s);
        ASSERT_FALSE(r.ok()) << s;
        EXPECT_EQ(r.error().message, "slug must contain letters or digits") << s;
    }
}

TEST(CustomSlug, ReservedRejected) {
    struct Case {
        std::string_view input;
        std::string_view message;
    };
    for (const Case& c : {Case{"admin", "slug 'admin' is reserved"}, Case{"ADMIN", "slug 'admin' is reserved"},
                          Case{" Admin ", "slug 'admin' is reserved"}, Case{"admin!", "slug 'admin' is reserved"},
                          Case{"Feed.XML", "slug 'feed.xml' is reserved"},
                          Case{"feed-xml", "slug 'feed-xml' is reserved"}, Case{"Tag", "slug 'tag' is reserved"}}) {
        auto r = validate_custom_slug(c.input);
        ASSERT_FALSE(r.ok()) << c.input;
        EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
        EXPECT_EQ(r.error().message, c.message);
    }
    EXPECT_TRUE(validate_custom_slug("admin-notes").ok());
}

TEST(CustomSlug, LengthLimit) {
    EXPECT_EQ(*validate_custom_slug(std::string(200, 'a')), std::string(200, 'a'));
    auto r = validate_custom_slug(std::string(201, 'a'));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message, "slug is too long (at most 200 characters)");
    // Normalisation shortens before the check: 200 letters in 600 bytes.
    std::string spaced;
    for (int i = 0; i < 200; ++i) spaced += "a  ";
    EXPECT_FALSE(validate_custom_slug(spaced).ok());  // "a-a-…" is 399 characters
    EXPECT_FALSE(validate_custom_slug(std::string(5000, 'a')).ok());
}

TEST(CustomSlug, CollisionsNumbered) {
    Taken taken;
    EXPECT_EQ(*custom_slug("my-post", taken.fn()), "my-post");
    taken.slugs = {"my-post"};
    EXPECT_EQ(*custom_slug("My Post", taken.fn()), "my-post-2");
    taken.slugs = {"my-post", "my-post-2"};
    EXPECT_EQ(*custom_slug("my-post", taken.fn()), "my-post-3");
}

TEST(CustomSlug, NumberedKeepsLengthLimit) {
    const std::string base(200, 'a');
    Taken taken;
    taken.slugs = {base};
    EXPECT_EQ(*custom_slug(base, taken.fn()), std::string(198, 'a') + "-2");
    taken.slugs = {base, std::string(198, 'a') + "-2"};
    EXPECT_EQ(*custom_slug(base, taken.fn()), std::string(198, 'a') + "-3");
    // Cutting may expose a '-', which is trimmed before the suffix.
    const std::string dashed = std::string(197, 'a') + "-bb";
    taken.slugs = {dashed};
    EXPECT_EQ(*custom_slug(dashed, taken.fn()), std::string(197, 'a') + "-2");
}

TEST(CustomSlug, GivesUpAfterBoundedNumbers) {
    int calls = 0;
    const SlugExists everything_taken = [&calls](std::string_view) {
        ++calls;
        return true;
    };
    auto r = custom_slug("popular", everything_taken);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::conflict);
    EXPECT_EQ(r.error().message, "slug 'popular' is taken, and so are 'popular-2' to 'popular-100'");
    EXPECT_EQ(calls, kMaxNumberedSuffix);
}

TEST(CustomSlug, InvalidDoesNotQueryExisting) {
    Taken taken;
    EXPECT_FALSE(custom_slug("admin", taken.fn()).ok());
    EXPECT_EQ(taken.calls, 0);
}

// -------------------------------------------------------------- choose_slug

TEST(ChooseSlug, BlankCustomMeansAutomatic) {
    for (std::string_view custom : {"", "   ", "\t\n"}) {
        for (auto policy : {CustomSlugPolicy::reject, CustomSlugPolicy::fall_back}) {
            auto r = choose_slug(custom, "Hello world", kCreated, kNothingTaken, policy);
            ASSERT_TRUE(r.ok());
            EXPECT_EQ(r->slug, "hello-world");
            EXPECT_FALSE(r->custom_rejected);
        }
    }
}

TEST(ChooseSlug, ValidCustomUsed) {
    Taken taken;
    taken.slugs = {"custom"};
    auto r = choose_slug("Custom", "Hello world", kCreated, taken.fn(), CustomSlugPolicy::fall_back);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->slug, "custom-2");  // a collision is not a rejection
    EXPECT_FALSE(r->custom_rejected);
}

TEST(ChooseSlug, AdminFormRejects) {
    auto r = choose_slug("admin", "Hello world", kCreated, kNothingTaken, CustomSlugPolicy::reject);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
    EXPECT_EQ(r.error().message, "slug 'admin' is reserved");
    auto slash = choose_slug("a/b", "Hello world", kCreated, kNothingTaken, CustomSlugPolicy::reject);
    ASSERT_FALSE(slash.ok());
    EXPECT_EQ(slash.error().message, "slug must not contain '/'");
}

TEST(ChooseSlug, MicropubFallsBack) {
    for (std::string_view custom : std::initializer_list<std::string_view>{"admin", "a/b", "🎉", ".."}) {
        auto r = choose_slug(custom, "Hello world", kCreated, kNothingTaken, CustomSlugPolicy::fall_back);
        ASSERT_TRUE(r.ok()) << custom;
        EXPECT_EQ(r->slug, "hello-world");
        EXPECT_TRUE(r->custom_rejected);
        EXPECT_FALSE(r->custom_rejected_reason.empty());
    }
    auto r = choose_slug("ADMIN", "🎉", kCreated, kNothingTaken, CustomSlugPolicy::fall_back);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->slug, "20240315-142530");
    EXPECT_TRUE(r->custom_rejected);
    EXPECT_EQ(r->custom_rejected_reason, "slug 'admin' is reserved");
    EXPECT_TRUE(r->used_timestamp_fallback);
}

TEST(ChooseSlug, MicropubFallsBackWhenAllNumbersTaken) {
    const SlugExists popular_taken = [](std::string_view s) { return s.substr(0, 7) == "popular"; };
    auto r = choose_slug("popular", "Hello world", kCreated, popular_taken, CustomSlugPolicy::fall_back);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->slug, "hello-world");
    EXPECT_TRUE(r->custom_rejected);
    auto rejected = choose_slug("popular", "Hello world", kCreated, popular_taken, CustomSlugPolicy::reject);
    ASSERT_FALSE(rejected.ok());
    EXPECT_EQ(rejected.error().code, ErrorCode::conflict);
}

TEST(ChooseSlug, DatabaseErrorsAreNeverSwallowed) {
    const SlugExists broken = [](std::string_view) -> Result<bool> {
        return make_error(ErrorCode::io, "disk I/O error");
    };
    for (auto policy : {CustomSlugPolicy::reject, CustomSlugPolicy::fall_back}) {
        auto r = choose_slug("fine-slug", "Hello", kCreated, broken, policy);
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, ErrorCode::io);
    }
}

// ---------------------------------------------------------------- properties

RC_GTEST_PROP(SlugProperties, NormalizeIsIdempotentAndWellFormed, ()) {
    const std::string text = *any_input();
    const std::size_t max_len = *rc::gen::inRange<std::size_t>(0, 250);
    const std::string once = normalize_slug_text(text, max_len);
    RC_ASSERT(once.size() <= max_len);
    RC_ASSERT(once.empty() || is_valid_slug(once));
    RC_ASSERT(normalize_slug_text(once, max_len) == once);
}

RC_GTEST_PROP(SlugProperties, AutomaticSlugIsNeverEmptyAndBounded, ()) {
    const std::string content = *any_input();
    auto r = automatic_slug(content, kCreated, kNothingTaken);
    RC_ASSERT(r.ok());
    RC_ASSERT(is_valid_slug(r->slug));
    RC_ASSERT(r->slug.size() <= kAutoSlugMaxLen);
    RC_ASSERT(!is_reserved_slug(r->slug));
    if (r->used_timestamp_fallback) {
        RC_ASSERT(slug_from_content(content).empty());
        RC_ASSERT(is_timestamp_slug(r->slug));
        RC_ASSERT(r->slug == "20240315-142530");
    } else if (!is_reserved_slug(slug_from_content(content))) {
        RC_ASSERT(r->slug == slug_from_content(content));
    }
}

RC_GTEST_PROP(SlugProperties, AutomaticCollisionsGetRandomSuffix, ()) {
    const std::string content = *any_input();
    Taken taken;
    auto first = automatic_slug(content, kCreated, taken.fn());
    RC_ASSERT(first.ok());
    taken.slugs.insert(first->slug);
    auto second = automatic_slug(content, kCreated, taken.fn());
    RC_ASSERT(second.ok());
    RC_ASSERT(second->slug != first->slug);
    RC_ASSERT(is_valid_slug(second->slug));
    RC_ASSERT(second->slug.size() <= kAutoSlugMaxLen);
    std::string base = slug_from_content(content);
    if (base.empty()) base = timestamp_slug(kCreated);
    std::string stem = base.substr(0, std::min(base.size(), kAutoSlugMaxLen - 5));
    while (!stem.empty() && stem.back() == '-') stem.pop_back();
    RC_ASSERT(has_random_suffix(second->slug, stem));
}

RC_GTEST_PROP(SlugProperties, ValidatedCustomSlugsAreWellFormed, ()) {
    const std::string requested = *any_input();
    auto r = validate_custom_slug(requested);
    if (!r.ok()) {
        RC_ASSERT(r.error().code == ErrorCode::invalid_input);
        RC_ASSERT(!r.error().message.empty());
        return;
    }
    RC_ASSERT(is_valid_slug(*r));
    RC_ASSERT(r->size() <= kCustomSlugMaxLen);
    RC_ASSERT(!is_reserved_slug(*r));
    RC_ASSERT(requested.find('/') == std::string::npos);
    auto again = validate_custom_slug(*r);
    RC_ASSERT(again.ok());
    RC_ASSERT(*again == *r);
}

RC_GTEST_PROP(SlugProperties, CustomCollisionsAreNumbered, ()) {
    const std::string slug = *valid_slug();
    const int already = *rc::gen::inRange(0, 12);  // slug, slug-2, … taken
    Taken taken;
    std::vector<std::string> expected;
    for (int n = 1; n <= already + 1; ++n) {
        if (n == 1) {
            expected.push_back(slug);
        } else {
            const std::string suffix = "-" + std::to_string(n);
            std::string stem = slug.substr(0, std::min(slug.size(), kCustomSlugMaxLen - suffix.size()));
            while (!stem.empty() && stem.back() == '-') stem.pop_back();
            expected.push_back(stem + suffix);
        }
    }
    for (int n = 0; n < already; ++n) taken.slugs.insert(expected[static_cast<std::size_t>(n)]);
    auto r = custom_slug(slug, taken.fn());
    RC_ASSERT(r.ok());
    RC_ASSERT(*r == expected.back());
    RC_ASSERT(is_valid_slug(*r));
    RC_ASSERT(r->size() <= kCustomSlugMaxLen);
}

RC_GTEST_PROP(SlugProperties, MicropubNeverFailsOnABadSlug, ()) {
    const std::string custom = *any_input();
    const std::string content = *any_input();
    auto r = choose_slug(custom, content, kCreated, kNothingTaken, CustomSlugPolicy::fall_back);
    RC_ASSERT(r.ok());
    RC_ASSERT(is_valid_slug(r->slug));
    RC_ASSERT(r->slug.size() <= kCustomSlugMaxLen);
    RC_ASSERT(r->custom_rejected == !r->custom_rejected_reason.empty());
    if (r->custom_rejected) RC_ASSERT(r->slug.size() <= kAutoSlugMaxLen);
    auto strict = choose_slug(custom, content, kCreated, kNothingTaken, CustomSlugPolicy::reject);
    RC_ASSERT(strict.ok() == !r->custom_rejected);
    if (strict.ok()) RC_ASSERT(strict->slug == r->slug);
}

RC_GTEST_PROP(SlugProperties, ReservedWordsInAnyCase, ()) {
    std::string word = *rc::gen::element<std::string>("api", "admin", "auth", "feed", "static", "notes", "note",
                                                      "login", "logout", "settings", "micropub", "callback",
                                                      "feed.xml", "rss", "atom", "index", "home", "about", "search",
                                                      "health", "media", "tag");
    const auto upper = *rc::gen::container<std::vector<bool>>(word.size(), rc::gen::arbitrary<bool>());
    for (std::size_t i = 0; i < word.size(); ++i)
        if (upper[i]) word[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(word[i])));
    RC_ASSERT(is_reserved_slug(word));
    auto r = validate_custom_slug(word);
    RC_ASSERT(!r.ok());
    RC_ASSERT(r.error().message.find("is reserved") != std::string::npos);
}

}  // namespace
}  // namespace starpunk::notes
