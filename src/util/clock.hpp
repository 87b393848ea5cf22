// Time: one Timestamp type, one Clock interface (so tests can use a fake clock),
// and the textual forms we store and publish.
//
// Storage format (what StarPunk 1.1 wrote, sortable as text, UTC):
//   "YYYY-MM-DD HH:MM:SS.ffffff"
// parse_timestamp() also accepts 'T' for ' ', no or fewer fraction digits, and a
// trailing "Z" or "+00:00"/"-hh:mm" offset (converted to UTC).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace starpunk {

using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

class Clock {
public:
    virtual ~Clock() = default;
    virtual Timestamp now() const = 0;
};

// The system clock.
const Clock& system_clock();

// A clock that only moves when told to. Thread-compatible (tests).
class FakeClock final : public Clock {
public:
    explicit FakeClock(Timestamp start) : now_(start) {}
    Timestamp now() const override { return now_; }
    void advance(std::chrono::microseconds d) { now_ += d; }
    void set(Timestamp t) { now_ = t; }

private:
    Timestamp now_;
};

std::string format_db_time(Timestamp t);                       // "2026-11-27 05:00:00.123456"
std::optional<Timestamp> parse_timestamp(std::string_view text);
std::string format_rfc3339(Timestamp t);                        // "2026-11-27T05:00:00+00:00"
std::string format_rfc822(Timestamp t);                         // "Fri, 27 Nov 2026 05:00:00 +0000"
std::string format_compact(Timestamp t);                        // "20261127-050000" (slug fallback)

}  // namespace starpunk
