// Error responses (SPEC §12.1): an HTML page in the site layout, or JSON
// {"error", "error_description"} under /micropub and /api/. The message is for
// the client and must not contain internal detail (paths, stack traces, SQL).
#pragma once

#include <string_view>

#include "http/request.hpp"
#include "http/response.hpp"
#include "web/site.hpp"

namespace starpunk::web {

http::Response error_response(const Site& site, const http::Request& req, int status, std::string_view message);

// True for paths whose clients expect JSON errors.
bool wants_json_errors(std::string_view path);

// The OAuth-style error code used in JSON errors for an HTTP status.
std::string_view json_error_code(int status);

}  // namespace starpunk::web
