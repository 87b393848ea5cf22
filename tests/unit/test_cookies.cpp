#include "http/cookies.hpp"

#include <gtest/gtest.h>

#include <string>

namespace starpunk::http {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

TEST(ParseCookieHeader, SimplePairsTrimmed) {
    EXPECT_EQ(parse_cookie_header("a=1; b=2;c=3 ;\t d = 4 "),
              (Pairs{{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}}));
}

TEST(ParseCookieHeader, EmptyHeader) {
    EXPECT_TRUE(parse_cookie_header("").empty());
    EXPECT_TRUE(parse_cookie_header(" ; ;; ").empty());
}

TEST(ParseCookieHeader, SkipsPairsWithoutEqualsOrName) {
    EXPECT_EQ(parse_cookie_header("junk; =v; a=1; ;  = x ; b="), (Pairs{{"a", "1"}, {"b", ""}}));
}

TEST(ParseCookieHeader, QuotedValueIsUnquoted) {
    EXPECT_EQ(parse_cookie_header("a=\"x y\"; b=\"\"; c=\"; d=\"q"),
              (Pairs{{"a", "x y"}, {"b", ""}, {"c", "\""}, {"d", "\"q"}}));
}

TEST(ParseCookieHeader, ValueKeepsEqualsSigns) {
    EXPECT_EQ(parse_cookie_header("tok=abc==; x=a=b"), (Pairs{{"tok", "abc=="}, {"x", "a=b"}}));
}

TEST(ParseCookieHeader, FirstOccurrenceWins) {
    EXPECT_EQ(parse_cookie_header("s=first; t=1; s=second"), (Pairs{{"s", "first"}, {"t", "1"}}));
}

TEST(ParseCookieHeader, NamesAreCaseSensitive) {
    EXPECT_EQ(parse_cookie_header("S=1; s=2"), (Pairs{{"S", "1"}, {"s", "2"}}));
}

TEST(ParseCookieHeader, StopsAfterMaxCookiesPairs) {
    std::string header;
    for (int i = 0; i < 70; ++i) header += "c" + std::to_string(i) + "=" + std::to_string(i) + "; ";
    const Pairs all = parse_cookie_header(header);
    ASSERT_EQ(all.size(), 64u);
    EXPECT_EQ(all.back().first, "c63");
    EXPECT_EQ(parse_cookie_header(header, 3).size(), 3u);
    // Duplicates count towards the limit too.
    EXPECT_EQ(parse_cookie_header("a=1; a=2; b=3", 2), (Pairs{{"a", "1"}}));
}

TEST(FindCookie, FindsFirstValue) {
    const std::string_view h = "theme=dark; starpunk_session=\"abc\"; starpunk_session=evil";
    EXPECT_EQ(find_cookie(h, "starpunk_session"), std::optional<std::string>("abc"));
    EXPECT_EQ(find_cookie(h, "theme"), std::optional<std::string>("dark"));
    EXPECT_FALSE(find_cookie(h, "missing").has_value());
    EXPECT_FALSE(find_cookie(h, "").has_value());
    EXPECT_FALSE(find_cookie("session", "session").has_value());  // no '='
}

TEST(FindCookie, IgnoresCookiesBeyondTheLimitLikeParse) {
    std::string header;
    for (int i = 0; i < 64; ++i) header += "c" + std::to_string(i) + "=x;";
    header += "late=1";
    EXPECT_FALSE(find_cookie(header, "late").has_value());
    EXPECT_TRUE(find_cookie(header, "c63").has_value());
}

TEST(FormatSetCookie, DefaultsAreHttpOnlyLaxRootPath) {
    auto r = format_set_cookie("starpunk_session", "tok123", CookieOptions{});
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(*r, "starpunk_session=tok123; Path=/; HttpOnly; SameSite=Lax");
}

TEST(FormatSetCookie, AllAttributes) {
    CookieOptions o;
    o.path = "/admin";
    o.secure = true;
    o.same_site = "strict";
    o.max_age_seconds = 2592000;
    auto r = format_set_cookie("s", "v", o);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(*r, "s=v; Path=/admin; Max-Age=2592000; HttpOnly; Secure; SameSite=Strict");
}

TEST(FormatSetCookie, MaxAgeZeroDeletes) {
    CookieOptions o;
    o.max_age_seconds = 0;
    auto r = format_set_cookie("s", "", o);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(*r, "s=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
}

TEST(FormatSetCookie, AttributesCanBeOmitted) {
    CookieOptions o;
    o.path = "";
    o.http_only = false;
    o.same_site = "";
    auto r = format_set_cookie("a", "\"quoted\"", o);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(*r, "a=\"quoted\"");
}

TEST(FormatSetCookie, SameSiteNoneNeedsSecure) {
    CookieOptions o;
    o.same_site = "None";
    auto r = format_set_cookie("a", "b", o);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
    EXPECT_NE(r.error().message.find("Secure"), std::string::npos);
    o.secure = true;
    auto ok = format_set_cookie("a", "b", o);
    ASSERT_TRUE(ok.ok());
    EXPECT_EQ(*ok, "a=b; Path=/; HttpOnly; Secure; SameSite=None");
}

TEST(FormatSetCookie, RejectsBadName) {
    for (std::string_view bad : {"", "a b", "a=b", "a;b", "s\xc3\xa9", "a\"", "(x)", "a\r\nSet-Cookie: x"}) {
        auto r = format_set_cookie(bad, "v", CookieOptions{});
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
    }
    EXPECT_TRUE(format_set_cookie("a!#$%&'*+-.^_`|~Z9", "v", CookieOptions{}).ok());
}

TEST(FormatSetCookie, RejectsValueOutsideCookieOctets) {
    for (std::string_view bad : {"a b", "a;b", "a,b", "a\\b", "a\"b", "\"", "\"ab", "\x7f", "\xc3\xa9", "\"a b\""}) {
        auto r = format_set_cookie("n", bad, CookieOptions{});
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
    }
    EXPECT_TRUE(format_set_cookie("n", "base64url-_ABC==/+:.", CookieOptions{}).ok());
}

TEST(FormatSetCookie, RejectsBadPathNegativeMaxAgeAndUnknownSameSite) {
    CookieOptions o;
    o.path = "/a;Domain=evil";
    EXPECT_FALSE(format_set_cookie("n", "v", o).ok());
    o = CookieOptions{};
    o.path = "/a\nb";
    EXPECT_FALSE(format_set_cookie("n", "v", o).ok());
    o = CookieOptions{};
    o.max_age_seconds = -1;
    EXPECT_FALSE(format_set_cookie("n", "v", o).ok());
    o = CookieOptions{};
    o.same_site = "Loose";
    auto r = format_set_cookie("n", "v", o);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("SameSite"), std::string::npos);
}

TEST(FormatSetCookie, OutputParsesBackAsCookie) {
    CookieOptions o;
    o.max_age_seconds = 60;
    auto r = format_set_cookie("starpunk_session", "\"tok\"", o);
    ASSERT_TRUE(r.ok());
    const std::string pair = r->substr(0, r->find(';'));
    EXPECT_EQ(find_cookie(pair, "starpunk_session"), std::optional<std::string>("tok"));
}

}  // namespace
}  // namespace starpunk::http
