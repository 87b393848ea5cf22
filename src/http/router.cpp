#include "http/router.hpp"

#include <array>
#include <stdexcept>

#include "util/strings.hpp"

namespace starpunk::http {

namespace {

// The first kMaxSegments segments of a path, split in place (match() runs for
// every request: no allocation). `count` is the true number of segments, which
// may exceed what is kept; no route pattern is deeper (add() refuses one), so
// only a {name*} route, whose fixed part is shorter, can match such a path.
constexpr std::size_t kMaxSegments = 32;
struct Segments {
    std::array<std::string_view, kMaxSegments> at;
    std::size_t count = 0;
};

// Splits "/a/b/" into {"a", "b", ""}; false when the path does not start with '/'.
bool split_path_into(std::string_view path, Segments& out) {
    out.count = 0;
    if (path.empty() || path.front() != '/') return false;
    path.remove_prefix(1);
    while (true) {
        size_t slash = path.find('/');
        if (out.count < kMaxSegments) out.at[out.count] = path.substr(0, slash);
        ++out.count;
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    return true;
}

bool method_matches(Method route, Method request) {
    return route == request || (route == Method::get && request == Method::head);
}

}  // namespace

void Router::add(Route route) {
    Compiled c;
    Segments segs;
    if (!split_path_into(route.pattern, segs)) {
        throw std::invalid_argument("route pattern must start with '/': " + route.pattern);
    }
    if (segs.count > kMaxSegments) throw std::invalid_argument("route pattern too deep: " + route.pattern);
    for (size_t i = 0; i < segs.count; ++i) {
        std::string_view s = segs.at[i];
        if (s.size() >= 2 && s.front() == '{' && s.back() == '}') {
            std::string name(s.substr(1, s.size() - 2));
            if (!name.empty() && name.back() == '*') {
                if (i + 1 != segs.count) throw std::invalid_argument("{name*} must be last: " + route.pattern);
                name.pop_back();
                c.rest = true;
            }
            c.segments.push_back(std::move(name));
            c.is_param.push_back(true);
        } else {
            c.segments.emplace_back(s);
            c.is_param.push_back(false);
        }
    }
    routes_.push_back(std::move(route));
    compiled_.push_back(std::move(c));
}

RouteMatch Router::match(Method method, std::string_view raw_path) const {
    RouteMatch result;
    Segments segs;
    if (!split_path_into(raw_path, segs)) {
        result.outcome = RouteMatch::Outcome::bad_path;
        return result;
    }
    std::vector<std::string_view> allowed;
    for (size_t r = 0; r < routes_.size(); ++r) {
        const Compiled& c = compiled_[r];
        if (c.rest ? segs.count < c.segments.size() : segs.count != c.segments.size()) continue;
        bool ok = true;
        for (size_t i = 0; i < c.segments.size() && ok; ++i) {
            if (c.is_param[i]) {
                ok = !segs.at[i].empty();
            } else {
                ok = segs.at[i] == c.segments[i];
            }
        }
        if (!ok) continue;
        if (!method_matches(routes_[r].method, method)) {
            std::string_view m = method_name(routes_[r].method);
            bool seen = false;
            for (auto a : allowed) seen = seen || a == m;
            if (!seen) allowed.push_back(m);
            if (routes_[r].method == Method::get) {
                bool head_seen = false;
                for (auto a : allowed) head_seen = head_seen || a == "HEAD";
                if (!head_seen) allowed.push_back("HEAD");
            }
            continue;
        }
        RouteParams params;
        for (size_t i = 0; i < c.segments.size(); ++i) {
            if (!c.is_param[i]) continue;
            std::string_view raw = segs.at[i];
            if (c.rest && i + 1 == c.segments.size()) {
                // Rest parameter: everything from this segment to the end of the path.
                raw = std::string_view(segs.at[i].data(), raw_path.data() + raw_path.size() - segs.at[i].data());
            }
            auto decoded = percent_decode(raw);
            if (!decoded) {
                result.outcome = RouteMatch::Outcome::bad_path;
                return result;
            }
            params.emplace_back(c.segments[i], std::move(*decoded));
        }
        result.outcome = RouteMatch::Outcome::found;
        result.route = &routes_[r];
        result.params = std::move(params);
        return result;
    }
    if (!allowed.empty()) {
        result.outcome = RouteMatch::Outcome::method_not_allowed;
        for (size_t i = 0; i < allowed.size(); ++i) {
            if (i) result.allow += ", ";
            result.allow += allowed[i];
        }
    }
    return result;
}

}  // namespace starpunk::http
