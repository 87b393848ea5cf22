#include "web/templates.hpp"

#include <unordered_map>

#include "util/assets.hpp"

namespace starpunk::web {

namespace {
constexpr std::string_view kPrefix = "templates/";
constexpr std::string_view kSuffix = ".mustache";
using Mustache = kainjow::mustache::mustache;
}  // namespace

Result<std::shared_ptr<const Templates>> Templates::load(RenderObserver observer) {
    auto t = std::make_shared<Templates>();
    t->observer_ = std::move(observer);
    for (const auto& asset : assets::all()) {
        if (!asset.name.starts_with(kPrefix) || !asset.name.ends_with(kSuffix)) continue;
        std::string name(asset.name.substr(kPrefix.size(), asset.name.size() - kPrefix.size() - kSuffix.size()));
        Mustache parsed{std::string(asset.bytes)};
        if (!parsed.is_valid()) {
            return make_error(ErrorCode::internal, "template " + name + " is invalid: " + parsed.error_message());
        }
        t->sources_.emplace(std::move(name), std::string(asset.bytes));
    }
    return std::shared_ptr<const Templates>(std::move(t));
}

Result<std::string> Templates::render(std::string_view name, const TemplateData& data) const {
    // Per-thread parsed copies, keyed by the owning Templates object.
    thread_local std::unordered_map<const Templates*, std::unordered_map<std::string, std::unique_ptr<Mustache>>> cache;
    auto& mine = cache[this];
    auto it = mine.find(std::string(name));
    if (it == mine.end()) {
        auto src = sources_.find(name);
        if (src == sources_.end()) return make_error(ErrorCode::internal, "no template named " + std::string(name));
        it = mine.emplace(std::string(name), std::make_unique<Mustache>(src->second)).first;
    }
    Mustache& m = *it->second;
    const auto start = std::chrono::steady_clock::now();
    std::string out = m.render(data);
    if (observer_) observer_(name, std::chrono::steady_clock::now() - start, m.is_valid());
    if (!m.is_valid()) {
        std::string msg = "rendering template " + std::string(name) + " failed: " + m.error_message();
        mine.erase(it);  // the parsed copy may be left in an error state
        return make_error(ErrorCode::internal, msg);
    }
    return out;
}

}  // namespace starpunk::web
