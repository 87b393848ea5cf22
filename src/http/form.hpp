// Form data: application/x-www-form-urlencoded bodies and URL query strings.
//
// Everything here is pure computation on caller-supplied bytes: no I/O, no
// global state. Distinct objects may be used from different threads at once;
// a single FormData may be read concurrently but not read while being written.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.hpp"

namespace starpunk::http {

// Ordered multimap of decoded (name, value) pairs, kept in the order received.
// Names are compared byte for byte (case-sensitive), as HTML forms do.
// string_views returned by get()/get_all() point into this object and stay
// valid until it is modified or destroyed.
class FormData {
public:
    void add(std::string name, std::string value);

    // First value stored under `name`, or nullopt when there is none.
    std::optional<std::string_view> get(std::string_view name) const;
    // Every value stored under `name`, in the order received; empty when none.
    std::vector<std::string_view> get_all(std::string_view name) const;
    bool has(std::string_view name) const;

    const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }
    size_t size() const { return items_.size(); }
    bool empty() const { return items_.empty(); }

private:
    std::vector<std::pair<std::string, std::string>> items_;
};

// Limits apply to decoded sizes. The value limit is well above the default note
// size cap (1 MB, SPEC §2.4), so an over-long note is reported by the notes module
// with a precise message rather than here; the body itself is capped earlier by
// MAX_CONTENT_LENGTH (10 MB). Callers parsing small inputs may pass tighter limits.
struct FormLimits {
    size_t max_fields = 1000;           // non-empty pairs
    size_t max_name_bytes = 1024;       // per decoded name
    size_t max_value_bytes = 4u << 20;  // per decoded value (4 MiB)
};

// Parses application/x-www-form-urlencoded text; also used for URL query strings
// (pass the query without its leading '?').
//
// Pairs are separated by '&'; the first '=' splits name from value. '+' decodes
// to a space and %XX (either hex case) to that byte. Empty pairs ("a=1&&b=2",
// a leading or trailing '&') are skipped; "a" without '=' yields ("a", "").
//
// On success every name and value is valid UTF-8 without NUL bytes.
// Errors:
//   * ErrorCode::invalid_input — a malformed percent-escape ("%4", "%zz"), decoded
//     bytes that are not valid UTF-8, or a NUL byte; the message names the problem
//     and the field (non-printable bytes shown as \xNN, long names shortened);
//   * ErrorCode::too_large — one of `limits` exceeded; the message names the limit.
// The first error in input order is reported.
Result<FormData> parse_urlencoded(std::string_view text, const FormLimits& limits = {});

// Renders untrusted bytes for an error message: printable ASCII kept, everything
// else as \xNN, cut to `max_bytes` input bytes with "..." appended when cut.
std::string printable_excerpt(std::string_view s, size_t max_bytes = 64);

}  // namespace starpunk::http
