#include "web/routes.hpp"

#include "web/handlers/handlers.hpp"

namespace starpunk::web {

using http::Access;
using http::Execution;
using http::Method;

void add_routes(http::Router& r, const std::shared_ptr<const Site>& site) {
    //        method       pattern            access           runs on            handler
    // Pages run on a worker when they must be built, inline when cached.
    r.add({Method::get, "/", Access::public_, Execution::blocking, handlers::home(site),
           [s = site.get()](http::Request& req) { return handlers::home_is_cached(*s, req); }});
    r.add({Method::get, "/note/{slug}", Access::public_, Execution::blocking, handlers::note_page(site),
           [s = site.get()](http::Request& req) { return handlers::note_is_cached(*s, req); }});
    r.add({Method::get, "/health", Access::public_, Execution::inline_, handlers::health(site)});
    r.add({Method::get, "/static/{path*}", Access::public_, Execution::inline_, handlers::static_file(site)});
}

}  // namespace starpunk::web
