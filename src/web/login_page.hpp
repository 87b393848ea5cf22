// The login page (GET /auth/login, and every login error): the form, an
// optional message saying what went wrong, or "already logged in". Never
// cached (the gate adds no-store under /auth).
#pragma once

#include <string_view>

#include "http/request.hpp"
#include "http/response.hpp"
#include "web/site.hpp"

namespace starpunk::web {

http::Response login_page(const Site& site, const http::Request& req, int status, std::string_view message = {},
                          std::string_view me = {});

// The HTTP status for a login error of this kind (400, 403, 502 or 503).
int login_error_status(ErrorCode code);

}  // namespace starpunk::web
