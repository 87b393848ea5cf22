#include "util/assets.hpp"

namespace starpunk::assets {

std::vector<Asset> all() {
    std::vector<Asset> out;
    for (const detail::RawAsset* a = detail::table; a->name != nullptr; ++a) {
        out.push_back({a->name, std::string_view(a->begin, static_cast<size_t>(a->end - a->begin))});
    }
    return out;
}

std::optional<std::string_view> find(std::string_view name) {
    for (const detail::RawAsset* a = detail::table; a->name != nullptr; ++a) {
        if (name == a->name) return std::string_view(a->begin, static_cast<size_t>(a->end - a->begin));
    }
    return std::nullopt;
}

}  // namespace starpunk::assets
