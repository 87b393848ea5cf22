#include "metrics/process.hpp"

#include <charconv>
#include <fstream>
#include <sstream>

namespace starpunk::metrics {

namespace {
// "VmRSS:\t   1234 kB" -> 1234 * 1024
std::optional<uint64_t> kilobytes_field(std::string_view text, std::string_view key) {
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        if (!line.starts_with(key) || line.size() <= key.size() || line[key.size()] != ':') continue;
        size_t i = key.size() + 1;
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        uint64_t v = 0;
        auto r = std::from_chars(line.data() + i, line.data() + line.size(), v);
        if (r.ec != std::errc()) return std::nullopt;
        return v * 1024;
    }
    return std::nullopt;
}
}  // namespace

std::optional<ProcessMemory> parse_process_status(std::string_view text) {
    auto rss = kilobytes_field(text, "VmRSS");
    auto hwm = kilobytes_field(text, "VmHWM");
    if (!rss || !hwm) return std::nullopt;
    return ProcessMemory{*rss, *hwm};
}

std::optional<ProcessMemory> read_process_memory(const std::string& status_path) {
    std::ifstream in(status_path);
    if (!in) return std::nullopt;
    std::stringstream ss;
    ss << in.rdbuf();
    return parse_process_status(ss.str());
}

}  // namespace starpunk::metrics
