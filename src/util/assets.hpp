// Read-only files compiled into the binary (templates/, static/).
//
// Contract: every pointer returned stays valid for the life of the process; the
// bytes never change. Lookups are thread-safe (the table is immutable).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace starpunk::assets {

namespace detail {
struct RawAsset {
    const char* name;
    const char* begin;
    const char* end;
};
extern const RawAsset table[];  // terminated by a row of nullptrs
}  // namespace detail

struct Asset {
    std::string_view name;   // e.g. "static/style.css"
    std::string_view bytes;
};

// All embedded files, sorted by name.
std::vector<Asset> all();

// The file called `name` ("templates/layout.mustache"), or nullopt.
std::optional<std::string_view> find(std::string_view name);

}  // namespace starpunk::assets
