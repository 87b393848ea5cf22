#include "http/form.hpp"

#include <gtest/gtest.h>

#include <string>

#include "util/strings.hpp"

namespace starpunk::http {
namespace {

using Items = std::vector<std::pair<std::string, std::string>>;

Items parse_ok(std::string_view text, const FormLimits& limits = {}) {
    auto r = parse_urlencoded(text, limits);
    EXPECT_TRUE(r.ok()) << "input: " << text << " error: " << (r.ok() ? "" : r.error().message);
    return r.ok() ? r->items() : Items{};
}

Error parse_err(std::string_view text, const FormLimits& limits = {}) {
    auto r = parse_urlencoded(text, limits);
    EXPECT_FALSE(r.ok()) << "input unexpectedly parsed: " << text;
    return r.ok() ? Error{} : r.error();
}

TEST(FormData, GetReturnsFirstValueAndGetAllKeepsOrder) {
    FormData f;
    f.add("tag", "a");
    f.add("x", "1");
    f.add("tag", "b");
    EXPECT_EQ(f.size(), 3u);
    EXPECT_EQ(f.get("tag").value(), "a");
    EXPECT_EQ(f.get_all("tag"), (std::vector<std::string_view>{"a", "b"}));
    EXPECT_TRUE(f.has("x"));
    EXPECT_FALSE(f.has("X"));  // names are case-sensitive
    EXPECT_FALSE(f.get("missing").has_value());
    EXPECT_TRUE(f.get_all("missing").empty());
    EXPECT_EQ(f.items()[1], (std::pair<std::string, std::string>{"x", "1"}));
}

TEST(ParseUrlencoded, SimplePairsInOrder) {
    EXPECT_EQ(parse_ok("h=entry&content=hello"), (Items{{"h", "entry"}, {"content", "hello"}}));
}

TEST(ParseUrlencoded, EmptyInputGivesEmptyForm) {
    EXPECT_TRUE(parse_ok("").empty());
    EXPECT_TRUE(parse_ok("&&&").empty());
}

TEST(ParseUrlencoded, PlusIsSpaceAndEncodedPlusIsPlus) {
    EXPECT_EQ(parse_ok("q=a+b%2Bc&n+1=x"), (Items{{"q", "a b+c"}, {"n 1", "x"}}));
}

TEST(ParseUrlencoded, PercentEscapesDecodeInEitherCase) {
    EXPECT_EQ(parse_ok("a=%41%6a%2f%2F%25"), (Items{{"a", "Aj//%"}}));
}

TEST(ParseUrlencoded, Utf8PercentEncodedAndRaw) {
    EXPECT_EQ(parse_ok("t=cr%C3%A8me&u=brûlée"), (Items{{"t", "crème"}, {"u", "brûlée"}}));
}

TEST(ParseUrlencoded, EmptyPairsSkippedAndNameWithoutEquals) {
    EXPECT_EQ(parse_ok("&a=1&&b=2&flag&"), (Items{{"a", "1"}, {"b", "2"}, {"flag", ""}}));
}

TEST(ParseUrlencoded, OnlyFirstEqualsSplits) {
    EXPECT_EQ(parse_ok("a=b=c&=v&e="), (Items{{"a", "b=c"}, {"", "v"}, {"e", ""}}));
}

TEST(ParseUrlencoded, DuplicateNamesKeepReceivedOrder) {
    auto r = parse_urlencoded("category[]=b&x=1&category[]=a&category[]=b");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->get_all("category[]"), (std::vector<std::string_view>{"b", "a", "b"}));
    EXPECT_EQ(r->get("category[]").value(), "b");
}

TEST(ParseUrlencoded, TruncatedPercentEscapeIsInvalid) {
    for (std::string_view bad : {"a=%4", "a=%", "a=x%", "%4=1", "a=%4&b=2"}) {
        const Error e = parse_err(bad);
        EXPECT_EQ(e.code, ErrorCode::invalid_input) << bad;
        EXPECT_NE(e.message.find("percent-escape"), std::string::npos) << e.message;
    }
}

TEST(ParseUrlencoded, NonHexPercentEscapeNamesEscapeAndField) {
    const Error e = parse_err("ok=1&content=ab%zzcd");
    EXPECT_EQ(e.code, ErrorCode::invalid_input);
    EXPECT_NE(e.message.find("\"%zz\""), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("\"content\""), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("value"), std::string::npos) << e.message;
}

TEST(ParseUrlencoded, MalformedEscapeInNameSaysName) {
    const Error e = parse_err("a%g1=1");
    EXPECT_EQ(e.code, ErrorCode::invalid_input);
    EXPECT_NE(e.message.find("in name"), std::string::npos) << e.message;
}

TEST(ParseUrlencoded, InvalidUtf8IsRejected) {
    // lone continuation byte, truncated sequence, overlong '/', UTF-16 surrogate, > U+10FFFF, raw 0xFF
    for (std::string_view bad : {"a=%80", "a=%C3", "a=%C0%AF", "a=%ED%A0%80", "a=%F4%90%80%80", "a=\xff",
                                 "%E2%82=1"}) {
        const Error e = parse_err(bad);
        EXPECT_EQ(e.code, ErrorCode::invalid_input) << bad;
        EXPECT_NE(e.message.find("UTF-8"), std::string::npos) << e.message;
    }
}

TEST(ParseUrlencoded, NulByteIsRejected) {
    Error e = parse_err("a=x%00y");
    EXPECT_EQ(e.code, ErrorCode::invalid_input);
    EXPECT_NE(e.message.find("NUL"), std::string::npos) << e.message;
    e = parse_err(std::string_view("a\0b=1", 5));
    EXPECT_EQ(e.code, ErrorCode::invalid_input);
    EXPECT_NE(e.message.find("name contains a NUL"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("a\\x00b"), std::string::npos) << e.message;  // shown escaped
}

TEST(ParseUrlencoded, FieldLimitCountsNonEmptyPairs) {
    FormLimits limits;
    limits.max_fields = 2;
    EXPECT_EQ(parse_ok("a=1&&b=2&", limits).size(), 2u);
    const Error e = parse_err("a=1&b=2&c=3", limits);
    EXPECT_EQ(e.code, ErrorCode::too_large);
    EXPECT_NE(e.message.find("max_fields"), std::string::npos) << e.message;
}

TEST(ParseUrlencoded, NameAndValueLimitsApplyToDecodedBytes) {
    FormLimits limits;
    limits.max_name_bytes = 3;
    limits.max_value_bytes = 2;
    EXPECT_EQ(parse_ok("%41%42%43=%41%42", limits), (Items{{"ABC", "AB"}}));  // 9 raw bytes, 3 decoded
    Error e = parse_err("abcd=1", limits);
    EXPECT_EQ(e.code, ErrorCode::too_large);
    EXPECT_NE(e.message.find("max_name_bytes"), std::string::npos) << e.message;
    e = parse_err("a=xyz", limits);
    EXPECT_EQ(e.code, ErrorCode::too_large);
    EXPECT_NE(e.message.find("max_value_bytes"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("\"a\""), std::string::npos) << e.message;
}

TEST(ParseUrlencoded, FirstErrorInInputOrderIsReported) {
    const Error e = parse_err("a=%zz&b=%80");
    EXPECT_NE(e.message.find("percent-escape"), std::string::npos) << e.message;
}

TEST(ParseUrlencoded, LongFieldNamesAreShortenedInMessages) {
    const std::string name(500, 'n');
    const Error e = parse_err(name + "=%zz");
    EXPECT_LT(e.message.size(), 200u) << e.message;
    EXPECT_NE(e.message.find("..."), std::string::npos) << e.message;
}

TEST(IsValidUtf8, AcceptsBoundaryCodePoints) {
    EXPECT_TRUE(is_valid_utf8(""));
    EXPECT_TRUE(is_valid_utf8("\x7f"));
    EXPECT_TRUE(is_valid_utf8("\xc2\x80"));          // U+0080
    EXPECT_TRUE(is_valid_utf8("\xe0\xa0\x80"));      // U+0800
    EXPECT_TRUE(is_valid_utf8("\xed\x9f\xbf"));      // U+D7FF
    EXPECT_TRUE(is_valid_utf8("\xee\x80\x80"));      // U+E000
    EXPECT_TRUE(is_valid_utf8("\xf0\x90\x80\x80"));  // U+10000
    EXPECT_TRUE(is_valid_utf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
}

TEST(IsValidUtf8, RejectsOverlongSurrogatesAndTruncation) {
    EXPECT_FALSE(is_valid_utf8("\xc1\xbf"));          // overlong U+007F
    EXPECT_FALSE(is_valid_utf8("\xe0\x9f\xbf"));      // overlong U+07FF
    EXPECT_FALSE(is_valid_utf8("\xf0\x8f\xbf\xbf"));  // overlong U+FFFF
    EXPECT_FALSE(is_valid_utf8("\xed\xbf\xbf"));      // surrogate U+DFFF
    EXPECT_FALSE(is_valid_utf8("\xf5\x80\x80\x80"));  // beyond U+10FFFF
    EXPECT_FALSE(is_valid_utf8("\xe2\x82"));          // truncated
    EXPECT_FALSE(is_valid_utf8("\xe2\x28\xa1"));      // bad continuation
    EXPECT_FALSE(is_valid_utf8("a\x80"));
}

TEST(PrintableExcerpt, EscapesAndCuts) {
    EXPECT_EQ(printable_excerpt("ab\n\xff"), "ab\\x0A\\xFF");
    EXPECT_EQ(printable_excerpt("abcdef", 3), "abc...");
    EXPECT_EQ(printable_excerpt("abc", 3), "abc");
}

}  // namespace
}  // namespace starpunk::http
