// How the length of a request body is known (RFC 9112 §6): the one check the
// server makes on top of Beast's parser before it reads a body.
//
// Contract: a request is refused (400, then the connection is closed, since
// where its body ends cannot be known) when it has a Transfer-Encoding
// that is anything but exactly one `chunked` — `identity`, `gzip`,
// `chunked, identity`, `chunked, chunked`, `gzip, chunked`, parameters on
// chunked, two fields that add up to more than one coding — or a
// Transfer-Encoding together with a Content-Length (§6.3: a likely smuggling
// attempt), or a Transfer-Encoding in an HTTP/1.0 request (§6.1). Otherwise a
// body is framed by `chunked` or by Content-Length (Beast checks that one), and
// a proxy in front cannot read it differently from us.
// Pure; thread-safe.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace starpunk::http {

struct RequestFraming {
    std::vector<std::string_view> transfer_encoding;  // the value of every Transfer-Encoding field, in order
    bool has_content_length = false;
    unsigned version = 11;  // 10 for HTTP/1.0, 11 for HTTP/1.1
};

// nullopt when the framing is acceptable; otherwise the reason, for the 400.
std::optional<std::string_view> framing_problem(const RequestFraming& framing);

}  // namespace starpunk::http
