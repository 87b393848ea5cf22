// Content-Type values the tests send (one definition, so test files can share
// a translation unit in a unity build).
#pragma once

namespace starpunk::testing {

inline constexpr const char* kForm = "application/x-www-form-urlencoded";
inline constexpr const char* kJson = "application/json";

}  // namespace starpunk::testing
