// THE route table: every route the site serves, with its method, path pattern,
// who may call it and where it runs. Tests iterate over it (needs-login,
// CSRF, 405), so a route is covered the day it is added here.
#pragma once

#include <memory>

#include "http/router.hpp"
#include "web/site.hpp"

namespace starpunk::web {

void add_routes(http::Router& router, const std::shared_ptr<const Site>& site);

}  // namespace starpunk::web
