// Fuzzes the JSON body parser and the Micropub JSON reader on top of it.
// Checks: neither ever throws (an escaping exception aborts the fuzzer; in the
// server it was a 500), every failure is invalid_input with a message, and a
// success dumps back to JSON that parses again.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/json_body.hpp"
#include "micropub/request.hpp"

#define FUZZ_CHECK(cond)                                                    \
    do {                                                                    \
        if (!(cond)) {                                                      \
            std::fprintf(stderr, "fuzz_json: check failed: %s\n", #cond);  \
            std::abort();                                                   \
        }                                                                   \
    } while (0)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto parsed = starpunk::http::parse_json_text(text);
    if (parsed) {
        const std::string dumped = parsed->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        FUZZ_CHECK(starpunk::http::parse_json_text(dumped).ok());
    } else {
        FUZZ_CHECK(parsed.error().code == starpunk::ErrorCode::invalid_input);
        FUZZ_CHECK(!parsed.error().message.empty());
    }
    auto post = starpunk::micropub::parse_post("application/json", text);
    if (!post) {
        FUZZ_CHECK(post.error().code == starpunk::ErrorCode::invalid_input);
    } else if (!post->action) {
        (void)starpunk::micropub::build_create(*post);
    }
    return 0;
}
