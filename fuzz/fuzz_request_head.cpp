// Fuzzes how a request's body is framed: the input is a raw request (head
// and maybe a body), parsed by Beast's request parser exactly as the server
// does, then judged by http::framing_problem (http/framing.hpp).
// Checks, for every head Beast accepts:
//   1. a request we accept with a Transfer-Encoding is one Beast reads as
//      chunked, and never carries a Content-Length as well: the body ends
//      where any RFC 9112 reader thinks it ends;
//   2. a Transfer-Encoding whose codings are not exactly one `chunked`
//      (or any Transfer-Encoding in HTTP/1.0) is always refused.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/framing.hpp"
#include "util/strings.hpp"

#define FUZZ_CHECK(cond)                                                         \
    do {                                                                         \
        if (!(cond)) {                                                           \
            std::fprintf(stderr, "fuzz_request_head: check failed: %s\n", #cond); \
            std::abort();                                                        \
        }                                                                        \
    } while (0)

namespace bhttp = boost::beast::http;

namespace {

// The codings of all Transfer-Encoding fields, lower-cased, empty elements dropped.
std::vector<std::string> codings(const std::vector<std::string_view>& fields) {
    std::vector<std::string> out;
    for (std::string_view f : fields) {
        size_t start = 0;
        while (start <= f.size()) {
            size_t comma = f.find(',', start);
            if (comma == std::string_view::npos) comma = f.size();
            auto element = starpunk::trim_ows(f.substr(start, comma - start));
            if (!element.empty()) out.push_back(starpunk::to_lower(element));
            start = comma + 1;
        }
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    bhttp::request_parser<bhttp::empty_body> parser;
    parser.header_limit(16 * 1024);
    parser.eager(false);
    boost::beast::error_code ec;
    parser.put(boost::asio::buffer(data, size), ec);
    if (ec || !parser.is_header_done()) return 0;

    const auto& head = parser.get();
    starpunk::http::RequestFraming framing;
    for (auto [it, end] = head.equal_range(bhttp::field::transfer_encoding); it != end; ++it) {
        framing.transfer_encoding.push_back(it->value());
    }
    framing.has_content_length = head.count(bhttp::field::content_length) > 0;
    framing.version = head.version();
    const auto problem = starpunk::http::framing_problem(framing);

    if (!framing.transfer_encoding.empty()) {
        const auto list = codings(framing.transfer_encoding);
        const bool single_chunked = list.size() == 1 && list[0] == "chunked";
        if (!problem) {
            FUZZ_CHECK(parser.chunked());                 // 1.
            FUZZ_CHECK(!framing.has_content_length);      // 1.
            FUZZ_CHECK(head.version() >= 11);
        }
        if (!single_chunked || head.version() < 11) FUZZ_CHECK(problem.has_value());  // 2.
    } else {
        FUZZ_CHECK(!problem);
    }
    return 0;
}
