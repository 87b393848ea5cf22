#include "web/routes.hpp"

#include "web/handlers/handlers.hpp"

namespace starpunk::web {

using http::Access;
using http::Execution;
using http::Method;

void add_routes(http::Router& r, const std::shared_ptr<const Site>& site) {
    //        method       pattern            access           runs on            handler
    r.add({Method::get, "/health", Access::public_, Execution::inline_, handlers::health(site)});
    r.add({Method::get, "/static/{path*}", Access::public_, Execution::inline_, handlers::static_file(site)});
}

}  // namespace starpunk::web
