// The route table's machinery: patterns, matching, 404/405.
//
// Patterns are absolute paths whose segments are literals, `{name}` (exactly one
// non-empty segment) or `{name*}` (one or more trailing segments, joined by '/').
// "/admin/" and "/admin" are different patterns (the trailing empty segment counts).
// HEAD is served by the GET route of the same path. Routes are matched in the order
// they were added; the first whose pattern and method match wins.
//
// Thread-safety: build the router once at start-up; match() is const and may then be
// called from any number of threads.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.hpp"
#include "http/response.hpp"

namespace starpunk::http {

// Where a handler runs. Inline handlers touch only memory and run on the I/O
// thread; blocking ones (outbound HTTP, file writes, slow queries) go to the
// worker pool so they never stall other connections.
enum class Execution { inline_, blocking };

using Handler = std::function<Response(Request&)>;

struct Route {
    Method method = Method::get;
    std::string pattern;
    // The application's access class for this route (web/access.hpp), which
    // its gate enforces before the handler runs. Opaque to http.
    std::uint8_t access = 0;
    Execution execution = Execution::inline_;
    Handler handler;
    // For blocking routes: when set and true for a request, that request runs
    // inline after all (its answer is already in memory, e.g. a cached page).
    // Must be cheap and non-blocking. Called after params are filled; it may
    // leave what it found in Request::prepared for the handler.
    std::function<bool(Request&)> inline_when;
    // The route's request body (http/server.hpp, BodyPlan): its cap (0: the
    // server's max_body_bytes) and whether it is spooled to a temporary file
    // instead of memory. Set by the route table; http holds no policy.
    std::uint64_t max_body_bytes = 0;
    bool body_to_file = false;
    // When set, a multipart/form-data body (a form with files) is planned as
    // this says instead — spooled to a temporary file under its cap — while
    // other bodies keep the plan above (memory, the server's cap).
    std::optional<std::uint64_t> multipart_to_file_bytes{};
};

struct RouteMatch {
    enum class Outcome { found, not_found, method_not_allowed, bad_path };
    Outcome outcome = Outcome::not_found;
    const Route* route = nullptr;  // set when found
    RouteParams params;            // set when found
    std::string allow;             // set when method_not_allowed, e.g. "GET, HEAD, POST"
};

class Router {
public:
    void add(Route route);
    // `raw_path` is the path as received (still percent-encoded); parameters are
    // decoded. A parameter whose encoding is invalid gives bad_path.
    RouteMatch match(Method method, std::string_view raw_path) const;
    const std::vector<Route>& routes() const { return routes_; }

private:
    struct Compiled {
        std::vector<std::string> segments;  // literal text, or parameter name
        std::vector<bool> is_param;
        bool rest = false;                  // last segment is {name*}
    };
    std::vector<Route> routes_;
    std::vector<Compiled> compiled_;
};

}  // namespace starpunk::http
