// Time (util/clock.hpp): parsing what StarPunk 1.x stored and what clients
// send, and the forms we write.
#include "util/clock.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace starpunk {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

Timestamp at(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0, int us = 0) {
    return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s} + microseconds{us};
}

TEST(ParseTimestamp, StorageFormatWithMicroseconds) {
    EXPECT_EQ(parse_timestamp("2024-11-18 12:34:56.123456"), at(2024, 11, 18, 12, 34, 56, 123456));
}

TEST(ParseTimestamp, IsoFormsAndFractions) {
    EXPECT_EQ(parse_timestamp("2024-11-18T12:34:56Z"), at(2024, 11, 18, 12, 34, 56));
    EXPECT_EQ(parse_timestamp("2024-11-18T12:34:56z"), at(2024, 11, 18, 12, 34, 56));
    EXPECT_EQ(parse_timestamp("2024-11-18T12:34:56"), at(2024, 11, 18, 12, 34, 56));
    EXPECT_EQ(parse_timestamp("2024-11-18 12:34:56"), at(2024, 11, 18, 12, 34, 56));
    EXPECT_EQ(parse_timestamp("2024-11-18 12:34"), at(2024, 11, 18, 12, 34));
    EXPECT_EQ(parse_timestamp("2024-11-18T12:34:56.5Z"), at(2024, 11, 18, 12, 34, 56, 500000));
    EXPECT_EQ(parse_timestamp("2024-11-18T12:34:56.123Z"), at(2024, 11, 18, 12, 34, 56, 123000));
    // More than six digits: truncated to microseconds.
    EXPECT_EQ(parse_timestamp("2024-11-18T12:34:56.123456789Z"), at(2024, 11, 18, 12, 34, 56, 123456));
}

TEST(ParseTimestamp, OffsetsAreConvertedToUtc) {
    EXPECT_EQ(parse_timestamp("2024-11-18T12:34:56+02:00"), at(2024, 11, 18, 10, 34, 56));
    EXPECT_EQ(parse_timestamp("2024-11-18T12:34:56+00:00"), at(2024, 11, 18, 12, 34, 56));
    EXPECT_EQ(parse_timestamp("2024-11-18T12:34:56-05:30"), at(2024, 11, 18, 18, 4, 56));
    EXPECT_EQ(parse_timestamp("2024-11-18T12:34:56+0200"), at(2024, 11, 18, 10, 34, 56));
    EXPECT_EQ(parse_timestamp("2024-11-18T12:34:56+02"), at(2024, 11, 18, 10, 34, 56));
    EXPECT_EQ(parse_timestamp("2024-11-18T12:34:56.250+02:00"), at(2024, 11, 18, 10, 34, 56, 250000));
    // Across midnight and a year boundary.
    EXPECT_EQ(parse_timestamp("2025-01-01T01:00:00+02:00"), at(2024, 12, 31, 23));
    EXPECT_EQ(parse_timestamp("2024-12-31T23:00:00-02:00"), at(2025, 1, 1, 1));
}

TEST(ParseTimestamp, DateOnlyIsMidnightUtc) {
    EXPECT_EQ(parse_timestamp("2024-11-18"), at(2024, 11, 18));
    EXPECT_EQ(parse_timestamp("2024-02-29"), at(2024, 2, 29));
}

TEST(ParseTimestamp, RejectsJunk) {
    for (const char* junk : {"", "x", "yesterday", "2024", "2024-11", "2024-1-18", "2024/11/18", "18-11-2024",
                             "2024-11-18 ", "2024-11-18X12:00:00", "2024-11-18T", "2024-11-18T12",
                             "2024-11-18T12:3", "2024-11-18T12:34:5", "2024-11-18T12:34:56.", "2024-11-18T12:34:56ZZ",
                             "2024-11-18T12:34:56 Z", "2024-11-18T12:34:56+", "2024-11-18T12:34:56+2",
                             "2024-11-18T12:34:56+02:0", "2024-11-18T12:34:56+02:00junk", "2024-13-01",
                             "2024-00-10", "2024-02-30", "2023-02-29", "2024-11-31", "2024-11-18T24:00:00",
                             "2024-11-18T12:60:00", "2024-11-18T12:34:61", "２０２４-11-18"}) {
        EXPECT_FALSE(parse_timestamp(junk)) << "accepted \"" << junk << "\" as " << format_db_time(*parse_timestamp(junk));
    }
}

// std::from_chars accepts a leading '-', so "-1" passes for two digits unless
// the parser insists on digits.
TEST(ParseTimestamp, RejectsSignsInsideNumericFields) {
    for (const char* junk : {"2024-11-18 -1:00:00", "2024-11-18T12:-5:00", "2024-11-18T12:34:-9", "-202-11-18",
                             "2024-11-18T12:34:56+-1:00"}) {
        EXPECT_FALSE(parse_timestamp(junk)) << "accepted \"" << junk << "\" as " << format_db_time(*parse_timestamp(junk));
    }
}

TEST(ParseTimestamp, RejectsOutOfRangeOffsets) {
    for (const char* junk : {"2024-11-18T12:34:56+24:00", "2024-11-18T12:34:56+99:00", "2024-11-18T12:34:56+02:60"}) {
        EXPECT_FALSE(parse_timestamp(junk)) << "accepted \"" << junk << "\" as " << format_db_time(*parse_timestamp(junk));
    }
}

TEST(FormatTimestamp, StorageFormat) {
    EXPECT_EQ(format_db_time(at(2026, 11, 27, 5, 0, 0, 123456)), "2026-11-27 05:00:00.123456");
    EXPECT_EQ(format_db_time(at(2024, 1, 2, 3, 4, 5)), "2024-01-02 03:04:05.000000");
    EXPECT_EQ(format_db_time(at(1969, 12, 31, 23, 59, 59, 999999)), "1969-12-31 23:59:59.999999");
}

TEST(FormatTimestamp, Rfc3339AndRfc822) {
    EXPECT_EQ(format_rfc3339(at(2026, 11, 27, 5, 0, 0, 999999)), "2026-11-27T05:00:00+00:00");
    EXPECT_EQ(format_rfc822(at(2026, 11, 27, 5, 0, 0)), "Fri, 27 Nov 2026 05:00:00 +0000");
    EXPECT_EQ(format_rfc822(at(2024, 2, 29, 23, 59, 59)), "Thu, 29 Feb 2024 23:59:59 +0000");
    EXPECT_EQ(format_rfc822(at(2023, 1, 1)), "Sun, 01 Jan 2023 00:00:00 +0000");
    EXPECT_EQ(format_rfc822(at(2024, 12, 9, 8, 7, 6)), "Mon, 09 Dec 2024 08:07:06 +0000");
    EXPECT_EQ(format_compact(at(2026, 11, 27, 5, 4, 3)), "20261127-050403");
}

TEST(FormatTimestamp, RoundTrips) {
    for (Timestamp t : {at(2024, 11, 18, 12, 34, 56, 123456), at(2000, 2, 29), at(1999, 12, 31, 23, 59, 59, 1),
                        at(2038, 1, 19, 3, 14, 8, 999999), at(1970, 1, 1), at(1969, 7, 20, 20, 17, 40, 500000)}) {
        EXPECT_EQ(parse_timestamp(format_db_time(t)), t) << format_db_time(t);
        EXPECT_EQ(parse_timestamp(format_rfc3339(t)), floor<seconds>(t)) << format_rfc3339(t);
    }
    // Text order of the storage format is time order.
    EXPECT_LT(format_db_time(at(2024, 11, 18, 9)), format_db_time(at(2024, 11, 18, 10)));
    EXPECT_LT(format_db_time(at(2024, 11, 18, 9, 0, 0, 1)), format_db_time(at(2024, 11, 18, 9, 0, 1)));
}

TEST(Clocks, FakeClockMovesOnlyWhenTold) {
    FakeClock c(at(2024, 1, 1));
    EXPECT_EQ(c.now(), at(2024, 1, 1));
    EXPECT_EQ(c.now(), at(2024, 1, 1));
    c.advance(90s);
    EXPECT_EQ(c.now(), at(2024, 1, 1, 0, 1, 30));
    c.set(at(2030, 6, 15));
    EXPECT_EQ(c.now(), at(2030, 6, 15));
}

TEST(Clocks, SystemClockIsNowInUtc) {
    auto before = time_point_cast<microseconds>(std::chrono::system_clock::now());
    auto t = starpunk::system_clock().now();
    auto after = time_point_cast<microseconds>(std::chrono::system_clock::now());
    EXPECT_LE(before, t);
    EXPECT_LE(t, after);
}

}  // namespace
}  // namespace starpunk
