// Who may call a route: the site's access classes, stored in each
// http::Route's opaque `access` byte and enforced by the gate (web/app.hpp)
// before the handler runs. An unscoped enum on purpose, so the route table
// (web/routes.cpp) can list `Access::admin` in a Route's aggregate initialiser.
#pragma once

#include <cstdint>
#include <string_view>

#include "http/router.hpp"

namespace starpunk::web {

enum Access : std::uint8_t {
    public_ = 0,  // anyone
    admin,        // admin session; HTML pages redirect to the login page without one
    admin_api,    // admin session; JSON endpoints answer 401 without one
    bearer,       // Micropub bearer token, checked by the handler's service
    dev_only,     // exists only when DEV_MODE=true; 404 otherwise
    client,       // OAuth client endpoints (token, revocation, introspection, code
                  // redemption): called from anywhere, no session or CSRF; the
                  // handler authenticates what it must
};

// The class's name as written above (without the trailing underscore):
// `starpunk routes` prints it and tests read it back.
inline std::string_view access_name(Access a) {
    switch (a) {
        case Access::public_: return "public";
        case Access::admin: return "admin";
        case Access::admin_api: return "admin_api";
        case Access::bearer: return "bearer";
        case Access::dev_only: return "dev_only";
        case Access::client: return "client";
    }
    return "unknown";
}

inline Access access_of(const http::Route& route) { return static_cast<Access>(route.access); }
inline bool is_admin_route(const http::Route& route) {
    return access_of(route) == Access::admin || access_of(route) == Access::admin_api;
}
// Routes other sites call by design: the gate's cross-site POST check skips them.
inline bool called_cross_site(const http::Route& route) {
    return access_of(route) == Access::bearer || access_of(route) == Access::client;
}

}  // namespace starpunk::web
