// Fuzzes parse_urlencoded. Besides "never crashes", checks on every input:
//   1. success implies every name and value is valid UTF-8 without NUL and within limits;
//   2. re-encoding the result and parsing it again gives the same pairs;
//   3. tighter limits never turn a failure into a success, and never change a success's result.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/form.hpp"
#include "util/strings.hpp"

using starpunk::ErrorCode;
using starpunk::http::FormLimits;
using starpunk::is_valid_utf8;
using starpunk::http::parse_urlencoded;

#define FUZZ_CHECK(cond)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            std::fprintf(stderr, "fuzz_form: check failed: %s\n", #cond);      \
            std::abort();                                                       \
        }                                                                       \
    } while (0)

namespace {

std::string encode(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~') {
            out.push_back(c);
        } else if (c == ' ') {
            out.push_back('+');
        } else {
            out.push_back('%');
            out.push_back(kHex[u >> 4]);
            out.push_back(kHex[u & 0xF]);
        }
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const FormLimits defaults;
    auto full = parse_urlencoded(text, defaults);
    if (full.ok()) {
        FUZZ_CHECK(full->size() <= defaults.max_fields);
        std::string again;
        for (const auto& [name, value] : full->items()) {
            FUZZ_CHECK(is_valid_utf8(name) && is_valid_utf8(value));
            FUZZ_CHECK(name.find('\0') == std::string::npos && value.find('\0') == std::string::npos);
            FUZZ_CHECK(name.size() <= defaults.max_name_bytes && value.size() <= defaults.max_value_bytes);
            if (!again.empty()) again.push_back('&');
            again += encode(name) + "=" + encode(value);
        }
        auto round = parse_urlencoded(again, defaults);
        FUZZ_CHECK(round.ok());
        FUZZ_CHECK(round->items() == full->items());
    } else {
        FUZZ_CHECK(!full.error().message.empty());
        FUZZ_CHECK(full.error().code == ErrorCode::invalid_input || full.error().code == ErrorCode::too_large);
    }

    FormLimits tight;
    tight.max_fields = 4;
    tight.max_name_bytes = 8;
    tight.max_value_bytes = 16;
    auto small = parse_urlencoded(text, tight);
    if (small.ok()) {
        FUZZ_CHECK(full.ok() && small->items() == full->items());
    } else if (small.error().code == ErrorCode::invalid_input) {
        FUZZ_CHECK(!full.ok());
    } else {
        FUZZ_CHECK(small.error().code == ErrorCode::too_large);
    }
    return 0;
}
