// ?page=N for every paginated page (home, search, admin).
#pragma once

#include <cstdint>
#include <optional>

#include "http/form.hpp"

namespace starpunk::web {

// The `page` query value: 1 when absent or empty; nullopt when present but not
// a whole number in 1..1,000,000 (callers answer 400).
std::optional<int64_t> page_number(const http::FormData& query);

}  // namespace starpunk::web
