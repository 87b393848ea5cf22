#include "util/clock.hpp"

#include <fmt/format.h>

#include <charconv>

namespace starpunk {

namespace {

class SystemClock final : public Clock {
public:
    Timestamp now() const override {
        return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
    }
};

struct Parts {
    int y, mo, d, h, mi, s;
    long us;
};

Parts split(Timestamp t) {
    using namespace std::chrono;
    auto day = floor<days>(t);
    year_month_day ymd{day};
    auto tod = t - day;
    auto h = duration_cast<hours>(tod);
    auto m = duration_cast<minutes>(tod - h);
    auto s = duration_cast<seconds>(tod - h - m);
    auto us = duration_cast<microseconds>(tod - h - m - s);
    return {static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month())),
            static_cast<int>(static_cast<unsigned>(ymd.day())), static_cast<int>(h.count()),
            static_cast<int>(m.count()), static_cast<int>(s.count()), static_cast<long>(us.count())};
}

bool read_int(std::string_view& in, size_t digits, int& out) {
    if (in.size() < digits) return false;
    for (size_t i = 0; i < digits; ++i) {
        if (in[i] < '0' || in[i] > '9') return false;  // from_chars would accept a sign
    }
    auto r = std::from_chars(in.data(), in.data() + digits, out);
    if (r.ec != std::errc{} || r.ptr != in.data() + digits) return false;
    in.remove_prefix(digits);
    return true;
}

bool expect(std::string_view& in, char c) {
    if (in.empty() || in.front() != c) return false;
    in.remove_prefix(1);
    return true;
}

}  // namespace

const Clock& system_clock() {
    static SystemClock clock;
    return clock;
}

std::string format_db_time(Timestamp t) {
    auto p = split(t);
    return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}", p.y, p.mo, p.d, p.h, p.mi, p.s, p.us);
}

std::string format_rfc3339(Timestamp t) {
    auto p = split(t);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+00:00", p.y, p.mo, p.d, p.h, p.mi, p.s);
}

std::string format_rfc822(Timestamp t) {
    static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    auto p = split(t);
    std::chrono::weekday wd{std::chrono::floor<std::chrono::days>(t)};
    return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} +0000", kDays[wd.c_encoding()], p.d, kMonths[p.mo - 1],
                       p.y, p.h, p.mi, p.s);
}

std::string format_compact(Timestamp t) {
    auto p = split(t);
    return fmt::format("{:04}{:02}{:02}-{:02}{:02}{:02}", p.y, p.mo, p.d, p.h, p.mi, p.s);
}

std::optional<Timestamp> parse_timestamp(std::string_view in) {
    using namespace std::chrono;
    int y, mo, d, h = 0, mi = 0, s = 0;
    if (!read_int(in, 4, y) || !expect(in, '-') || !read_int(in, 2, mo) || !expect(in, '-') || !read_int(in, 2, d))
        return std::nullopt;
    long us = 0;
    if (!in.empty()) {
        if (in.front() != ' ' && in.front() != 'T') return std::nullopt;
        in.remove_prefix(1);
        if (!read_int(in, 2, h) || !expect(in, ':') || !read_int(in, 2, mi)) return std::nullopt;
        if (!in.empty() && in.front() == ':') {
            in.remove_prefix(1);
            if (!read_int(in, 2, s)) return std::nullopt;
        }
        if (!in.empty() && in.front() == '.') {
            in.remove_prefix(1);
            long scale = 100000;
            size_t n = 0;
            while (n < in.size() && in[n] >= '0' && in[n] <= '9') {
                if (scale > 0) us += (in[n] - '0') * scale;
                scale /= 10;
                ++n;
            }
            if (n == 0) return std::nullopt;
            in.remove_prefix(n);
        }
    }
    int offset_minutes = 0;
    if (!in.empty()) {
        if (in == "Z" || in == "z") {
            in = {};
        } else if (in.front() == '+' || in.front() == '-') {
            int sign = in.front() == '-' ? -1 : 1;
            in.remove_prefix(1);
            int oh, om = 0;
            if (!read_int(in, 2, oh)) return std::nullopt;
            if (!in.empty() && in.front() == ':') in.remove_prefix(1);
            if (!in.empty() && !read_int(in, 2, om)) return std::nullopt;
            if (oh > 23 || om > 59) return std::nullopt;
            offset_minutes = sign * (oh * 60 + om);
        }
        if (!in.empty()) return std::nullopt;
    }
    year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
    if (!ymd.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
    Timestamp t = sys_days{ymd} + hours{h} + minutes{mi} + seconds{s} + microseconds{us};
    return t - minutes{offset_minutes};
}

}  // namespace starpunk
