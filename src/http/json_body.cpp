#include "http/json_body.hpp"

#include <fmt/format.h>

namespace starpunk::http {

namespace {

// Maximum bracket nesting outside string literals.
int nesting_depth(std::string_view text) {
    int depth = 0;
    int max_depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (in_string) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            max_depth = std::max(max_depth, ++depth);
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return max_depth;
}

}  // namespace

Result<nlohmann::json> parse_json_text(std::string_view text) {
    if (nesting_depth(text) > kMaxJsonDepth) {
        return make_error(ErrorCode::invalid_input,
                          fmt::format("JSON nested deeper than {} levels is not accepted", kMaxJsonDepth));
    }
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        return make_error(ErrorCode::invalid_input, fmt::format("the body is not valid JSON (at byte {})", e.byte));
    } catch (const nlohmann::json::out_of_range&) {
        // A number too large for a double ([1e999]): nlohmann reports it as
        // out_of_range (406), not as a parse_error.
        return make_error(ErrorCode::invalid_input, "the body's JSON holds a number too large to represent");
    } catch (const nlohmann::json::exception&) {
        return make_error(ErrorCode::invalid_input, "the body is not JSON this server can read");
    }
}

Result<nlohmann::json> parse_json_body(const Request& req) {
    std::string type = req.content_type();
    if (type != "application/json" && !type.ends_with("+json")) {
        return make_error(ErrorCode::unsupported,
                          fmt::format("expected Content-Type application/json, got \"{}\"", type));
    }
    return parse_json_text(req.body);
}

}  // namespace starpunk::http
