// Process-wide logging: console + rotating file (DATA_PATH/logs/starpunk.log,
// 10 MB x 10 files), as text or JSON lines (SPEC §12.2).
//
// Every line carries a request id: the id of the request being handled on this
// thread (set by RequestScope), "init" during start-up, "-" elsewhere.
// Call sites use spdlog's free functions (spdlog::info(...)) after init().
// Never log a secret: pass tokens, codes and cookies through redact().
#pragma once

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

// "abcdef…" — enough to correlate, never enough to use. Empty stays empty.
std::string redact(std::string_view secret);

}  // namespace starpunk::log
