// Mustache templates (kainjow), embedded in the binary under templates/.
//
// Contract: load() parses every template once and fails (naming the template and
// the parse error) if any is invalid, so a broken template stops start-up rather
// than a request. render() is thread-safe: kainjow's render() is not const, so
// each thread lazily keeps its own parsed copy of each template.
// Variables are HTML-escaped ({{x}}); {{{x}}} is only for HTML we produced.
#pragma once

#include <kainjow/mustache.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace starpunk::web {

using TemplateData = kainjow::mustache::data;
// Told of every render (metrics): template name, time taken, success.
using RenderObserver = std::function<void(std::string_view name, std::chrono::nanoseconds took, bool ok)>;

class Templates {
public:
    // Parses templates/*.mustache from the embedded assets.
    static Result<std::shared_ptr<const Templates>> load(RenderObserver observer = {});

    // Renders templates/<name>.mustache. Error when the template does not exist
    // or rendering fails (a missing partial, say).
    Result<std::string> render(std::string_view name, const TemplateData& data) const;

private:
    std::map<std::string, std::string, std::less<>> sources_;  // name -> source
    RenderObserver observer_;
};

}  // namespace starpunk::web
