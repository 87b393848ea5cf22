// The login page (GET /auth/login, and every login error): the password form
// (whenever password login is available — it never says whether a password
// is set), the website form for an outside IndieAuth server, an optional
// message saying what went wrong, or "already logged in". Never cached (the
// gate adds no-store under /auth).
#pragma once

#include <string>
#include <string_view>

#include "http/request.hpp"
#include "http/response.hpp"
#include "web/site.hpp"

namespace starpunk::web {

// `next`: where a password login continues (only what safe_next() keeps).
http::Response login_page(const Site& site, const http::Request& req, int status, std::string_view message = {},
                          std::string_view me = {}, std::string_view next = {});

// The second step of a password login with TOTP on (auth/totp.hpp): the code
// form, carrying the ticket of the password step and `next`.
http::Response totp_page(const Site& site, const http::Request& req, int status, std::string_view message,
                         std::string_view ticket, std::string_view next);

// The HTTP status for a login error of this kind (400, 403, 502 or 503).
int login_error_status(ErrorCode code);

// `next` when it is a path on this site that a login may continue to (the
// built-in authorization endpoint: "/auth/authorize?…" without line breaks or
// backslashes); empty otherwise, so a login link cannot send the owner away.
std::string safe_next(std::string_view next);

}  // namespace starpunk::web
