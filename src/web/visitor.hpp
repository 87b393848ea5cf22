// Who is asking: decided once per request by the gate (web/app.hpp) from the
// session cookie, before the handler runs; handlers read it and never parse
// the cookie themselves. Kept in http::Request's opaque `visitor` slot, so
// the HTTP toolkit knows nothing about sessions or admins.
#pragma once

#include <string>

#include "http/request.hpp"

namespace starpunk::web {

struct Visitor {
    bool is_admin = false;   // a valid admin session: may see drafts and the admin area
    std::string csrf_token;  // the session's CSRF token for forms; empty unless is_admin
};

// The visitor the gate recorded; an anonymous one when it recorded none.
const Visitor& visitor(const http::Request& req);
void set_visitor(http::Request& req, Visitor v);

}  // namespace starpunk::web
