// Request body framing (http/framing.hpp): only one final `chunked`, never
// together with Content-Length, never in HTTP/1.0 (RFC 9112 §6).
#include <gtest/gtest.h>

#include "http/framing.hpp"

namespace starpunk::http {
namespace {

std::optional<std::string_view> check(std::vector<std::string_view> te, bool content_length = false,
                                      unsigned version = 11) {
    return framing_problem(RequestFraming{std::move(te), content_length, version});
}

TEST(Framing, NoTransferEncodingIsForContentLengthToFrame) {
    EXPECT_FALSE(check({}));
    EXPECT_FALSE(check({}, true));
    EXPECT_FALSE(check({}, false, 10));
}

TEST(Framing, ExactlyOneChunkedIsAccepted) {
    for (std::string_view te : {"chunked", "Chunked", "CHUNKED", " chunked\t", "chunked,", ", chunked", " , chunked , "}) {
        EXPECT_FALSE(check({te})) << te;
    }
}

// Issue 12: these made the body be read as a second request.
TEST(Framing, AnyOtherTransferEncodingIsRefused) {
    for (std::string_view te : {"identity", "gzip", "chunked, identity", "chunked, chunked", "gzip, chunked",
                                "chunked;ext=1", "chunked ;q=1", "", ",", "chunkedx", "x-chunked", "chunked identity"}) {
        auto problem = check({te});
        ASSERT_TRUE(problem) << "\"" << te << "\"";
        EXPECT_NE(problem->find("chunked"), std::string_view::npos);
    }
}

TEST(Framing, SeveralFieldsAreOneList) {
    EXPECT_TRUE(check({"chunked", "chunked"}));
    EXPECT_TRUE(check({"identity", "chunked"}));
    EXPECT_TRUE(check({"chunked", "identity"}));
    EXPECT_FALSE(check({"", "chunked"})) << "an empty field adds no coding";
}

TEST(Framing, TransferEncodingWithContentLengthIsRefused) {
    auto problem = check({"chunked"}, true);
    ASSERT_TRUE(problem);
    EXPECT_NE(problem->find("Content-Length"), std::string_view::npos);
    EXPECT_TRUE(check({"identity"}, true));
}

TEST(Framing, TransferEncodingInHttp10IsRefused) {
    auto problem = check({"chunked"}, false, 10);
    ASSERT_TRUE(problem);
    EXPECT_NE(problem->find("HTTP/1.0"), std::string_view::npos);
}

}  // namespace
}  // namespace starpunk::http
