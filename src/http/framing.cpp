// Request body framing (see framing.hpp).
#include "http/framing.hpp"

#include "util/strings.hpp"

namespace starpunk::http {

std::optional<std::string_view> framing_problem(const RequestFraming& framing) {
    if (framing.transfer_encoding.empty()) return std::nullopt;
    if (framing.version < 11) return "Transfer-Encoding is not allowed in an HTTP/1.0 request.";
    if (framing.has_content_length) return "A request may not carry both Transfer-Encoding and Content-Length.";
    // Transfer-Encoding = #transfer-coding: comma-separated, optional whitespace,
    // empty list elements ignored (RFC 9110 §5.6.1); several fields are one list.
    std::size_t codings = 0;
    bool chunked = false;
    for (std::string_view field : framing.transfer_encoding) {
        while (true) {
            const std::size_t comma = field.find(',');
            std::string_view element = trim_ows(field.substr(0, comma));
            if (!element.empty()) {
                ++codings;
                chunked = iequals(element, "chunked");
            }
            if (comma == std::string_view::npos) break;
            field.remove_prefix(comma + 1);
        }
    }
    if (codings == 1 && chunked) return std::nullopt;
    return "Transfer-Encoding must be exactly \"chunked\": no other transfer coding is accepted.";
}

}  // namespace starpunk::http
