// The shared small helpers (util/strings.hpp, util/url.hpp): one definition
// each, used by http, render, feeds, metrics, net and web.
#include <gtest/gtest.h>

#include "util/strings.hpp"
#include "util/url.hpp"

namespace starpunk {
namespace {

TEST(Strings, IequalsIsAsciiCaseInsensitiveOnly) {
    EXPECT_TRUE(iequals("Content-Type", "content-TYPE"));
    EXPECT_FALSE(iequals("abc", "abcd"));
    EXPECT_FALSE(iequals("a-b", "a_b"));
    EXPECT_FALSE(iequals("\xC3\x89", "\xC3\xA9")) << "no Unicode folding: É is not é here";
    EXPECT_TRUE(iequals("", ""));
}

TEST(Strings, TokenCharacters) {
    for (char c : std::string_view("azAZ09!#$%&'*+-.^_`|~")) EXPECT_TRUE(is_tchar(c)) << c;
    for (char c : std::string_view("()<>@,;:\\\"/[]?={} \t")) EXPECT_FALSE(is_tchar(c)) << c;
    EXPECT_FALSE(is_tchar('\0'));
    EXPECT_FALSE(is_tchar('\x80'));
}

TEST(Strings, TrimOwsKeepsOtherWhitespace) {
    EXPECT_EQ(trim_ows(" \t a b \t"), "a b");
    EXPECT_EQ(trim_ows("\na\n"), "\na\n");
    EXPECT_EQ(trim("\n a \r\n"), "a");
    EXPECT_EQ(trim_ows(""), "");
}

TEST(Url, OriginIsSchemeHostAndNonDefaultPort) {
    EXPECT_EQ(origin_of("https://Example.COM/path?q=1#f"), "https://example.com");
    EXPECT_EQ(origin_of("https://example.com:443/"), "https://example.com");
    EXPECT_EQ(origin_of("http://example.com:80"), "http://example.com");
    EXPECT_EQ(origin_of("http://example.com:8080/x"), "http://example.com:8080");
    EXPECT_EQ(origin_of("https://example.com:80/"), "https://example.com:80");
    EXPECT_EQ(origin_of("HTTPS://user:pw@example.com/"), "https://example.com");
    EXPECT_EQ(origin_of("http://[::1]:8000/"), "http://[::1]:8000");
    EXPECT_EQ(origin_of("null"), "");
    EXPECT_EQ(origin_of("/relative"), "");
    EXPECT_EQ(origin_of("mailto:a@b.c"), "");
    EXPECT_EQ(origin_of(""), "");
}

}  // namespace
}  // namespace starpunk
