// Process-wide logging: console + rotating file (DATA_PATH/logs/starpunk.log,
// 10 MB x 10 files), as text or JSON lines (SPEC §12.2).
//
// One call is one line in either format: the text format writes control
// characters (C0, DEL) of the message as \r, \n, \t or \xNN
// (escape_for_text_log), the JSON format escapes them as JSON does. So no
// logged value — a path, a header, a callback's error_description — can forge
// a line of its own; call sites need not escape anything.
//
// Every line carries a request id: the id of the request being handled on this
// thread (set by RequestScope), "init" during start-up, "-" elsewhere.
// Call sites use spdlog's free functions (spdlog::info(...)) after init().
// Never log a secret: pass tokens, codes and cookies through redact().
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace starpunk::log {

struct Options {
    std::string level = "INFO";    // DEBUG | INFO | WARNING | ERROR | CRITICAL
    std::string format = "text";   // text | json
    std::string directory;         // where starpunk.log rotates; empty = console only
    bool console = true;
};

// Replaces the default logger. Fails (and keeps console logging) when the log
// directory cannot be created or opened.
Status init(const Options& options);

// Flushes file sinks; call before exit.
void shutdown();

// Sets this thread's request id for the lifetime of the scope, then restores it.
class RequestScope {
public:
    explicit RequestScope(std::string_view request_id);
    ~RequestScope();
    RequestScope(const RequestScope&) = delete;
    RequestScope& operator=(const RequestScope&) = delete;

private:
    std::string previous_;
};

// Marks the end of start-up on this thread: lines stop saying "init".
void set_thread_context(std::string_view id);

// `text` as the text format writes it (see above); for tests and fuzzing.
std::string escape_for_text_log(std::string_view text);

// Rate limit for a log line that can recur without bound — an accept loop that
// fails on every attempt wrote 800,000 identical lines in 3 s and rotated the
// log history away. The first occurrence of a message is let through;
// identical ones within `interval` after it are only counted; the next one let
// through says how many were held back. Keeps at most 64 distinct messages
// (then forgets them all). Thread-safe.
class RepeatFilter {
public:
    explicit RepeatFilter(std::chrono::milliseconds interval = std::chrono::seconds(10));

    // nullopt: do not log this occurrence. Otherwise log it, with
    // repeated_suffix(value) appended: value = occurrences held back since the
    // message was last let through.
    std::optional<std::uint64_t> admit(std::string_view message,
                                       std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

private:
    struct Seen {
        std::chrono::steady_clock::time_point quiet_until;
        std::uint64_t held_back = 0;
    };
    std::chrono::milliseconds interval_;
    std::mutex mutex_;
    std::map<std::string, Seen, std::less<>> seen_;
};

// "" for 0, else " (repeated N more times since the last report)".
std::string repeated_suffix(std::uint64_t held_back);

// "abcdef…" — enough to correlate, never enough to use. Empty stays empty.
std::string redact(std::string_view secret);

}  // namespace starpunk::log
