// Fuzzes the Cookie header parser and the Set-Cookie formatter.
// Input: the whole input is parsed as a Cookie header; it is also split at its
// first NUL byte (or in the middle) into a name and a value for format_set_cookie,
// with the last byte choosing the options.
// Checks: parse results are trimmed, unique, bounded and agree with find_cookie;
// a smaller limit yields a prefix; a formatted Set-Cookie value never contains
// CR, LF or NUL and its first pair parses back to (name, unquoted value).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/cookies.hpp"

using namespace starpunk::http;

#define FUZZ_CHECK(cond)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            std::fprintf(stderr, "fuzz_cookie: check failed: %s\n", #cond);    \
            std::abort();                                                       \
        }                                                                       \
    } while (0)

namespace {

bool is_ows(char c) { return c == ' ' || c == '\t'; }

void check_parse(std::string_view header) {
    const auto all = parse_cookie_header(header);
    FUZZ_CHECK(all.size() <= 64);
    for (size_t i = 0; i < all.size(); ++i) {
        const auto& [name, value] = all[i];
        FUZZ_CHECK(!name.empty());
        FUZZ_CHECK(!is_ows(name.front()) && !is_ows(name.back()));
        FUZZ_CHECK(name.find_first_of(";=") == std::string::npos);
        FUZZ_CHECK(value.find(';') == std::string::npos);
        for (size_t j = 0; j < i; ++j) FUZZ_CHECK(all[j].first != name);
        const auto found = find_cookie(header, name);
        FUZZ_CHECK(found.has_value() && *found == value);
    }
    const auto few = parse_cookie_header(header, 3);
    FUZZ_CHECK(few.size() <= all.size());
    for (size_t i = 0; i < few.size(); ++i) FUZZ_CHECK(few[i] == all[i]);
}

void check_format(std::string_view name, std::string_view value, uint8_t flags) {
    CookieOptions opts;
    opts.http_only = (flags & 1) != 0;
    opts.secure = (flags & 2) != 0;
    static const char* const kSameSite[] = {"Lax", "Strict", "None", ""};
    opts.same_site = kSameSite[(flags >> 2) & 3];
    if (flags & 16) opts.max_age_seconds = (flags & 32) ? 0 : 3600;
    if (flags & 64) opts.path = std::string(value);  // untrusted path
    auto r = format_set_cookie(name, value, opts);
    if (!r.ok()) {
        FUZZ_CHECK(r.error().code == starpunk::ErrorCode::invalid_input && !r.error().message.empty());
        return;
    }
    FUZZ_CHECK(r->find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos);
    FUZZ_CHECK(r->compare(0, name.size() + 1 + value.size(), std::string(name) + "=" + std::string(value)) == 0);
    const auto back = parse_cookie_header(*r);
    FUZZ_CHECK(!back.empty() && back[0].first == name);
    std::string_view unquoted = value;
    if (unquoted.size() >= 2 && unquoted.front() == '"' && unquoted.back() == '"')
        unquoted = unquoted.substr(1, unquoted.size() - 2);
    FUZZ_CHECK(back[0].second == unquoted);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    check_parse(text);
    if (size == 0) return 0;
    const std::string_view body = text.substr(0, size - 1);
    size_t cut = body.find('\0');
    if (cut == std::string_view::npos) cut = body.size() / 2;
    const std::string_view name = body.substr(0, cut);
    const std::string_view value = body.substr(cut < body.size() ? cut + 1 : cut);
    check_format(name, value, data[size - 1]);
    return 0;
}
