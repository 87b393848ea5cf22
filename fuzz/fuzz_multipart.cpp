// Fuzzes the streaming multipart parser against itself: the body fed whole is
// the oracle for the same body fed in chunks.
//
// Input layout:  [chunk byte][flags byte][Content-Type header value]\n[body]
//   chunk byte: fixed chunk size 1 + (b % 64), and seed of a run with varying sizes;
//   flags bit 0: tight limits (so limit paths are reached by small inputs).
// Checks: no crash; every chunking yields the same callbacks (data coalesced)
// and the same status; limits hold; parse_multipart agrees with the stream.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "http/multipart.hpp"

using namespace starpunk;
using namespace starpunk::http;

#define FUZZ_CHECK(cond)                                                          \
    do {                                                                          \
        if (!(cond)) {                                                            \
            std::fprintf(stderr, "fuzz_multipart: check failed: %s\n", #cond);   \
            std::abort();                                                         \
        }                                                                         \
    } while (0)

namespace {

struct Outcome {
    std::vector<std::string> events;  // "B<name>\0<file?>\0<type>", "D<data>", "E"
    std::vector<size_t> part_sizes;
    bool ok = true;
    ErrorCode code = ErrorCode::internal;
    std::string message;
    bool operator==(const Outcome&) const = default;
};

// Feeds `body` in chunks whose sizes come from `next_size`, then finishes.
template <typename NextSize>
Outcome run(const std::string& boundary, std::string_view body, const MultipartLimits& limits, NextSize next_size) {
    Outcome out;
    MultipartParser::Callbacks cb;
    cb.on_part_begin = [&out](const PartInfo& p) -> Status {
        std::string e = "B" + p.name;
        e.push_back('\0');
        if (p.filename) e += "f:" + *p.filename;
        e.push_back('\0');
        out.events.push_back(e + p.content_type);
        out.part_sizes.push_back(0);
        return {};
    };
    cb.on_part_data = [&out](std::string_view d) -> Status {
        FUZZ_CHECK(!d.empty());
        FUZZ_CHECK(!out.events.empty() && out.events.back()[0] != 'E');
        if (out.events.back()[0] != 'D') out.events.emplace_back("D");
        out.events.back().append(d);
        out.part_sizes.back() += d.size();
        return {};
    };
    cb.on_part_end = [&out]() -> Status {
        FUZZ_CHECK(!out.events.empty() && out.events.back()[0] != 'E');
        out.events.emplace_back("E");
        return {};
    };
    MultipartParser parser(boundary, limits, std::move(cb));
    Status st;
    size_t pos = 0;
    do {
        const size_t n = std::min(next_size(), body.size() - pos);
        st = parser.feed(body.substr(pos, n));
        pos += n;
    } while (st.ok() && pos < body.size());
    if (st.ok()) {
        st = parser.finish();
        FUZZ_CHECK(st.ok() == parser.done());
    } else {
        const Status again = parser.feed("x");  // errors are sticky
        FUZZ_CHECK(!again.ok() && again.error().message == st.error().message);
    }
    out.ok = st.ok();
    if (!st.ok()) {
        out.code = st.error().code;
        out.message = st.error().message;
        FUZZ_CHECK(!out.message.empty());
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    const uint8_t chunk_byte = data[0];
    const uint8_t flags = data[1];
    const std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
    const size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) {
        auto b = multipart_boundary(rest);
        FUZZ_CHECK(b.ok() || b.error().code == ErrorCode::invalid_input);
        return 0;
    }
    const std::string_view header = rest.substr(0, nl);
    const std::string_view body = rest.substr(nl + 1);
    auto boundary = multipart_boundary(header);
    if (!boundary.ok()) {
        FUZZ_CHECK(boundary.error().code == ErrorCode::invalid_input);
        return 0;
    }
    FUZZ_CHECK(!boundary->empty() && boundary->size() <= 70);

    MultipartLimits limits;
    if (flags & 1) {
        limits.max_parts = 3;
        limits.max_part_header_bytes = 96;
        limits.max_field_bytes = 8;
        limits.max_file_bytes = 24;
        limits.max_total_bytes = 300;
    }

    const Outcome whole = run(*boundary, body, limits, [&] { return body.size() + 1; });
    const size_t fixed = 1 + chunk_byte % 64;
    FUZZ_CHECK(run(*boundary, body, limits, [&] { return fixed; }) == whole);
    uint32_t state = 0x9E3779B9u ^ (static_cast<uint32_t>(chunk_byte) << 8) ^ flags;
    auto varying = [&] {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        return static_cast<size_t>(state % 17);  // includes empty chunks
    };
    FUZZ_CHECK(run(*boundary, body, limits, varying) == whole);

    // Limits hold.
    size_t begins = 0;
    for (const auto& e : whole.events) begins += e[0] == 'B';
    FUZZ_CHECK(begins <= limits.max_parts);
    for (size_t s : whole.part_sizes) FUZZ_CHECK(s <= std::max(limits.max_field_bytes, limits.max_file_bytes));
    if (body.size() > limits.max_total_bytes) FUZZ_CHECK(!whole.ok);

    // The convenience wrapper agrees with the stream.
    auto form = parse_multipart(body, header, limits);
    if (form.ok()) {
        FUZZ_CHECK(whole.ok);
        FUZZ_CHECK(form->fields.size() + form->files.size() == begins);
    } else if (whole.ok) {
        FUZZ_CHECK(form.error().code == ErrorCode::invalid_input);  // a field that is not UTF-8 text
        FUZZ_CHECK(form.error().message.find("multipart field") == 0);
    } else {
        // Same framing error, or a non-UTF-8 field noticed before it.
        FUZZ_CHECK(form.error().message == whole.message || form.error().message.find("multipart field") == 0);
    }
    return 0;
}
