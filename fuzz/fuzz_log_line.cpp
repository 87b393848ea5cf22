// Fuzzes the text log's escaping with what a client controls most directly:
// the input is a request path, percent-decoded as the server decodes it
// (when that fails, the raw bytes are used), then escaped as the text log
// writes every message.
// Checks: the escaped text contains no control character (no CR or LF above
// all: one log call is one line), keeps every byte >= 0x20 other than DEL in
// order, and is the input itself when the input has no control character.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "log/log.hpp"
#include "util/strings.hpp"

#define FUZZ_CHECK(cond)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            std::fprintf(stderr, "fuzz_log_line: check failed: %s\n", #cond);  \
            std::abort();                                                       \
        }                                                                       \
    } while (0)

namespace {
bool is_control(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7F;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view raw(reinterpret_cast<const char*>(data), size);
    const auto decoded = starpunk::percent_decode(raw);
    const std::string value = decoded ? *decoded : std::string(raw);
    const std::string escaped = starpunk::log::escape_for_text_log(value);
    bool any_control = false;
    std::string kept;
    for (char c : value) {
        if (is_control(c)) {
            any_control = true;
        } else {
            kept.push_back(c);
        }
    }
    for (char c : escaped) FUZZ_CHECK(!is_control(c));
    if (!any_control) FUZZ_CHECK(escaped == value);
    // Every kept byte appears in order (escapes only add bytes between them).
    size_t at = 0;
    for (char c : kept) {
        at = escaped.find(c, at);
        FUZZ_CHECK(at != std::string::npos);
        ++at;
    }
    return 0;
}
