#include "metrics/metrics.hpp"

#include <spdlog/spdlog.h>

#include <charconv>
#include <cstring>

#include "metrics/sql_text.hpp"

namespace starpunk::metrics {

namespace {

double to_ms(std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e6; }

std::string_view known_method(std::string_view m) {
    static constexpr std::string_view kKnown[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
    for (auto k : kKnown)
        if (k == m) return k;
    return "OTHER";
}

// Formats an integer into `buf` and returns a view of it.
template <size_t N>
std::string_view digits(char (&buf)[N], uint64_t v) {
    auto r = std::to_chars(buf, buf + N, v);
    return {buf, static_cast<size_t>(r.ptr - buf)};
}

// "first second" (or just `first` when `second` is empty) in `buf`, cut to fit.
template <size_t N>
std::string_view join(char (&buf)[N], std::string_view first, std::string_view second) {
    first = first.substr(0, N);
    if (!first.empty()) std::memcpy(buf, first.data(), first.size());  // empty views may hold null
    size_t len = first.size();
    if (!second.empty() && len + 1 < N) {
        buf[len++] = ' ';
        second = second.substr(0, N - len);
        std::memcpy(buf + len, second.data(), second.size());
        len += second.size();
    }
    return {buf, len};
}

}  // namespace

Metrics::Metrics(const Settings& settings)
    : settings_(settings),
      slow_ms_(settings.slow_threshold_seconds * 1000.0),
      started_(std::chrono::system_clock::now()),
      buffer_({settings.buffer_size, settings.enabled, settings.sampling}),
      slow_({kSlowLogSize, settings.enabled, {1.0, 1.0, 1.0}}) {}

void Metrics::record_slow(Type type, std::string_view name, double ms, const Field* fields, size_t n) {
    slow_.push(type, name, ms, fields, n);
    spdlog::warn("slow {} operation: {} took {:.1f} ms (threshold {:.0f} ms)", type_name(type), name, ms, slow_ms_);
}

void Metrics::statement(std::string_view sql, std::chrono::nanoseconds took, bool ok) {
    const double ms = to_ms(took);
    const bool slow = ms >= slow_ms_;
    if (!buffer_.admit(Type::database, slow || !ok)) return;
    // Allocation-free: views into the SQL and stack buffers.
    const auto shape = classify_sql(sql);
    char text_buf[kSqlDisplayBytes];
    const std::string_view text = shorten_sql(sql, text_buf);
    char name_buf[96];
    const std::string_view name = join(name_buf, shape.kind, shape.table);
    Field fields[] = {{"kind", shape.kind}, {"table", shape.table}, {"sql", text}, {"ok", ok ? "true" : "false"}};
    buffer_.push(Type::database, name, ms, fields, std::size(fields));
    if (slow) record_slow(Type::database, name, ms, fields, std::size(fields));
}

void Metrics::request(const RequestInfo& info) {
    if (!settings_.enabled) return;
    const double ms = to_ms(info.took);
    const std::string_view method = known_method(info.method);
    requests_.add(info.route, method, info.status, ms / 1000.0);
    const bool slow = ms >= slow_ms_;
    if (!buffer_.admit(Type::http, slow || info.status >= 500 || info.aborted)) return;
    char name_buf[160];
    const std::string_view name = join(name_buf, method, info.route);
    char status_buf[8], bytes_buf[24];
    Field fields[] = {{"method", method},
                      {"route", info.route},
                      {"status", digits(status_buf, static_cast<uint64_t>(info.status))},
                      {"bytes", digits(bytes_buf, info.bytes)},
                      {"request_id", info.request_id},
                      {"aborted", info.aborted ? "true" : "false"}};
    buffer_.push(Type::http, name, ms, fields, std::size(fields));
    if (slow) record_slow(Type::http, name, ms, fields, std::size(fields));
}

void Metrics::render(std::string_view template_name, std::chrono::nanoseconds took, bool ok) {
    const double ms = to_ms(took);
    const bool slow = ms >= slow_ms_;
    if (!buffer_.admit(Type::render, slow || !ok)) return;
    Field fields[] = {{"template", template_name}, {"ok", ok ? "true" : "false"}};
    buffer_.push(Type::render, template_name, ms, fields, std::size(fields));
    if (slow) record_slow(Type::render, template_name, ms, fields, std::size(fields));
}

void Metrics::feed(std::string_view format, FeedCounters::Event event) {
    if (settings_.enabled) feeds_.add(format, event);
}

}  // namespace starpunk::metrics
