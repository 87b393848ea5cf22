// JSON request bodies (Micropub JSON, API calls).
//
// Contract: parse_json_body() accepts only a Content-Type of application/json
// (parameters such as charset allowed) or a +json suffix type; anything else is
// ErrorCode::unsupported. Malformed JSON is ErrorCode::invalid_input with the
// byte offset of the problem; so is every other JSON error (a number too large
// for a double, `[1e999]`, included): these functions never throw. Nesting deeper than kMaxJsonDepth is refused
// before parsing (nlohmann's parser is recursive: a hostile "[[[[…" must not
// exhaust the stack).
#pragma once

#include <nlohmann/json.hpp>

#include "http/request.hpp"
#include "util/result.hpp"

namespace starpunk::http {

inline constexpr int kMaxJsonDepth = 64;

Result<nlohmann::json> parse_json_body(const Request& req);
Result<nlohmann::json> parse_json_text(std::string_view text);

}  // namespace starpunk::http
