// Prometheus text exposition format 0.0.4: a writer that gets the syntax right
// (one HELP/TYPE per family, escaped label values, finite or +Inf/NaN
// numbers) so callers only say what to expose.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace starpunk::metrics {

inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

using Label = std::pair<std::string_view, std::string_view>;

class Exposition {
public:
    // Starts a metric family. `type`: counter | gauge | histogram. Names must
    // match [a-zA-Z_:][a-zA-Z0-9_:]* (callers use literals).
    void family(std::string_view name, std::string_view type, std::string_view help);
    // One sample line: name{labels} value.
    void sample(std::string_view name, std::initializer_list<Label> labels, double value);
    void sample(std::string_view name, double value) { sample(name, {}, value); }

    const std::string& text() const { return out_; }
    std::string take() { return std::move(out_); }

private:
    std::string out_;
};

// A sample value as the format writes it: integers without a fraction,
// +Inf / -Inf / NaN spelled out (also the text of a histogram's `le` label).
std::string format_value(double value);

// A label value as the format wants it: backslash, double quote and newline escaped.
std::string escape_label_value(std::string_view v);

}  // namespace starpunk::metrics
