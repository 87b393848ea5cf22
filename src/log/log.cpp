#include "log/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>

namespace starpunk::log {

namespace {

thread_local std::string t_request_id = "init";

constexpr std::size_t kMaxDistinct = 64;  // RepeatFilter

void append_json_escaped(std::string_view s, spdlog::memory_buf_t& dest) {
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        switch (ch) {
            case '"': dest.append(std::string_view("\\\"")); break;
            case '\\': dest.append(std::string_view("\\\\")); break;
            case '\n': dest.append(std::string_view("\\n")); break;
            case '\r': dest.append(std::string_view("\\r")); break;
            case '\t': dest.append(std::string_view("\\t")); break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    int n = std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    dest.append(buf, buf + n);
                } else {
                    dest.push_back(ch);
                }
        }
    }
}

// Text format: control characters (C0 and DEL) written as \r, \n, \t or \xNN,
// everything else as it came, so one log call is one line however hostile the
// values it carries (a path, a callback's error_description).
void append_text_escaped(std::string_view s, spdlog::memory_buf_t& dest) {
    size_t run = 0;  // start of the current run of bytes that need no escape
    for (size_t i = 0; i < s.size(); ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != 0x7F) continue;
        dest.append(s.data() + run, s.data() + i);
        run = i + 1;
        switch (c) {
            case '\n': dest.append(std::string_view("\\n")); break;
            case '\r': dest.append(std::string_view("\\r")); break;
            case '\t': dest.append(std::string_view("\\t")); break;
            default: {
                char buf[8];
                int n = std::snprintf(buf, sizeof buf, "\\x%02x", c);
                dest.append(buf, buf + n);
            }
        }
    }
    dest.append(s.data() + run, s.data() + s.size());
}

// %* : the current request id.
class RequestIdFlag final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg&, const std::tm&, spdlog::memory_buf_t& dest) override {
        dest.append(std::string_view(t_request_id));
    }
    std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<RequestIdFlag>(); }
};

// %J : the message, escaped for a JSON string.
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
        append_json_escaped(std::string_view(msg.payload.data(), msg.payload.size()), dest);
    }
    std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JsonMessageFlag>(); }
};

// %V : the message with control characters escaped (text format).
class TextMessageFlag final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
        append_text_escaped(std::string_view(msg.payload.data(), msg.payload.size()), dest);
    }
    std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<TextMessageFlag>(); }
};

std::unique_ptr<spdlog::formatter> make_formatter(const std::string& format) {
    auto f = std::make_unique<spdlog::pattern_formatter>();
    f->add_flag<RequestIdFlag>('*');
    f->add_flag<JsonMessageFlag>('J');
    f->add_flag<TextMessageFlag>('V');
    if (format == "json") {
        f->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","request_id":"%*","pid":%P,"message":"%J"})");
    } else {
        f->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-8l%$ [%*] %V");
    }
    return f;
}

spdlog::level::level_enum parse_level(const std::string& level) {
    if (level == "DEBUG") return spdlog::level::debug;
    if (level == "WARNING") return spdlog::level::warn;
    if (level == "ERROR") return spdlog::level::err;
    if (level == "CRITICAL") return spdlog::level::critical;
    return spdlog::level::info;
}

}  // namespace

Status init(const Options& options) {
    std::vector<spdlog::sink_ptr> sinks;
    if (options.console) sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
    Status result;
    if (!options.directory.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(options.directory, ec);
        try {
            if (ec) throw spdlog::spdlog_ex(ec.message());
            sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
                options.directory + "/starpunk.log", 10 * 1024 * 1024, 10));
        } catch (const spdlog::spdlog_ex& e) {
            result = make_error(ErrorCode::io, "cannot open the log file in " + options.directory + ": " + e.what());
        }
    }
    auto logger = std::make_shared<spdlog::logger>("starpunk", sinks.begin(), sinks.end());
    logger->set_formatter(make_formatter(options.format));
    logger->set_level(parse_level(options.level));
    logger->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(logger);
    spdlog::flush_every(std::chrono::seconds(1));
    return result;
}

void shutdown() {
    if (auto l = spdlog::default_logger()) l->flush();
}

RequestScope::RequestScope(std::string_view request_id) : previous_(std::move(t_request_id)) {
    t_request_id.assign(request_id);
}

RequestScope::~RequestScope() { t_request_id = std::move(previous_); }

void set_thread_context(std::string_view id) { t_request_id.assign(id); }

std::string escape_for_text_log(std::string_view text) {
    spdlog::memory_buf_t buf;
    append_text_escaped(text, buf);
    return std::string(buf.data(), buf.size());
}

RepeatFilter::RepeatFilter(std::chrono::milliseconds interval) : interval_(interval) {}

std::optional<std::uint64_t> RepeatFilter::admit(std::string_view message, std::chrono::steady_clock::time_point now) {
    std::lock_guard lock(mutex_);
    auto it = seen_.find(message);
    if (it == seen_.end()) {
        if (seen_.size() >= kMaxDistinct) seen_.clear();
        seen_.emplace(std::string(message), Seen{now + interval_, 0});
        return 0;
    }
    Seen& s = it->second;
    if (now < s.quiet_until) {
        ++s.held_back;
        return std::nullopt;
    }
    const std::uint64_t held_back = s.held_back;
    s = Seen{now + interval_, 0};
    return held_back;
}

std::string repeated_suffix(std::uint64_t held_back) {
    if (held_back == 0) return {};
    return " (repeated " + std::to_string(held_back) + " more time" + (held_back == 1 ? "" : "s") +
           " since the last report)";
}

std::string redact(std::string_view secret) {
    if (secret.empty()) return {};
    if (secret.size() <= 8) return "…";
    return std::string(secret.substr(0, 6)) + "…";
}

}  // namespace starpunk::log
