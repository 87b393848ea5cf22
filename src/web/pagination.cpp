#include "web/pagination.hpp"

#include <charconv>

namespace starpunk::web {

std::optional<int64_t> page_number(const http::FormData& query) {
    auto v = query.get("page");
    if (!v || v->empty()) return 1;
    int64_t n = 0;
    auto r = std::from_chars(v->data(), v->data() + v->size(), n);
    if (r.ec != std::errc{} || r.ptr != v->data() + v->size() || n < 1 || n > 1'000'000) return std::nullopt;
    return n;
}

}  // namespace starpunk::web
