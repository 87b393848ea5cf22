#include <gtest/gtest.h>

#include "http/json_body.hpp"

using namespace starpunk;
using namespace starpunk::http;

namespace {
// Request headers are views into storage the server owns; here the test owns it.
struct JsonRequest {
    std::string type;
    Request req;
    JsonRequest(std::string t, std::string body) : type(std::move(t)) {
        req.headers.push_back({"Content-Type", type});
        req.body = std::move(body);
    }
};
Result<nlohmann::json> parse(std::string type, std::string body) {
    JsonRequest r(std::move(type), std::move(body));
    return parse_json_body(r.req);
}
}  // namespace

TEST(JsonBody, ParsesObjects) {
    auto r = parse("application/json; charset=utf-8", R"({"type":["h-entry"]})");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)["type"][0], "h-entry");
}

TEST(JsonBody, AcceptsPlusJsonTypes) {
    EXPECT_TRUE(parse("application/activity+json", "{}").ok());
}

TEST(JsonBody, RejectsOtherContentTypes) {
    auto r = parse("text/plain", "{}");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::unsupported);
}

TEST(JsonBody, MalformedJsonNamesTheOffset) {
    auto r = parse("application/json", R"({"a": })");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
    EXPECT_NE(r.error().message.find("byte"), std::string::npos);
    EXPECT_FALSE(parse_json_text("").ok());
    EXPECT_FALSE(parse_json_text("{\"a\":1").ok());
}

TEST(JsonBody, DeepNestingIsRefusedWithoutRecursing) {
    std::string deep(200000, '[');
    auto r = parse_json_text(deep);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("nested"), std::string::npos);
    std::string ok_depth = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
    EXPECT_TRUE(parse_json_text(ok_depth).ok());
}

TEST(JsonBody, BracketsInsideStringsDoNotCount) {
    std::string s = "{\"a\":\"" + std::string(500, '[') + "\\\"" + "\"}";
    EXPECT_TRUE(parse_json_text(s).ok());
}

// Issue 12: `[1e999]` to /micropub was a 500 — nlohmann reports a number too
// large for a double as out_of_range, which escaped as an exception.
TEST(JsonBody, NumberOverflowIsInvalidInputNotAnException) {
    for (const std::string& text :
         std::vector<std::string>{"[1e999]", "-1e999", R"({"a": [1, 2, 1e400]})", std::string(400, '9') + "e99999"}) {
        SCOPED_TRACE(text);
        Result<nlohmann::json> r = make_error(ErrorCode::internal, "not run");
        EXPECT_NO_THROW(r = parse_json_text(text));
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
        EXPECT_NE(r.error().message.find("JSON"), std::string::npos) << r.error().message;
    }
    EXPECT_TRUE(parse_json_text("[1e308]").ok()) << "large but representable";
}
