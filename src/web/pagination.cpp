#include "web/pagination.hpp"

#include "util/strings.hpp"

namespace starpunk::web {

std::optional<int64_t> page_number(const http::FormData& query) {
    auto v = query.get("page");
    if (!v || v->empty()) return 1;
    auto n = parse_int64(*v);
    if (!n || *n < 1 || *n > 1'000'000) return std::nullopt;
    return n;
}

}  // namespace starpunk::web
