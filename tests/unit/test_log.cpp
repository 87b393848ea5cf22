// Logging (log/log.hpp): one call is one line in both formats, whatever the
// logged values hold; repeated lines are rate-limited.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "log/log.hpp"
#include "support/temp_dir.hpp"

namespace starpunk {
namespace {

using namespace std::chrono_literals;

// Logs through log::init() into a temporary directory and returns the file's
// lines; the previous default logger is restored afterwards.
std::vector<std::string> log_lines(const std::string& format, const std::function<void()>& write) {
    auto previous = spdlog::default_logger();
    testing::TempDir dir;
    EXPECT_TRUE(log::init({"INFO", format, dir.path(), false}).ok());
    write();
    log::shutdown();
    spdlog::set_default_logger(previous);
    std::ifstream in(dir / "starpunk.log");
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

TEST(LogText, ControlCharactersInValuesCannotForgeLines) {
    const std::string path = "/x\r\n2099-01-01 00:00:00.000 CRITICAL [forged] FORGED\x1b[31m\x7f\t\x01";
    auto lines = log_lines("text", [&] { spdlog::info("GET {} 404", path); });
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("GET /x\\r\\n2099-01-01 00:00:00.000 CRITICAL [forged] FORGED\\x1b[31m\\x7f\\t\\x01 404"),
              std::string::npos)
        << lines[0];
}

TEST(LogText, PrintableAndUtf8TextIsKeptAsItIs) {
    auto lines = log_lines("text", [] { spdlog::info("créme brûlée \\n is not a newline ✓"); });
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("créme brûlée \\n is not a newline ✓"), std::string::npos) << lines[0];
}

TEST(LogJson, ControlCharactersAreEscaped) {
    auto lines = log_lines("json", [] { spdlog::info("a\r\nb\x01"); });
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find(R"("message":"a\r\nb\u0001")"), std::string::npos) << lines[0];
}

TEST(LogText, EscapeForTextLog) {
    EXPECT_EQ(log::escape_for_text_log("plain /path?q=1"), "plain /path?q=1");
    EXPECT_EQ(log::escape_for_text_log(std::string("a\0b", 3)), "a\\x00b");
    EXPECT_EQ(log::escape_for_text_log("\r\n\t\x1f\x7f"), "\\r\\n\\t\\x1f\\x7f");
    EXPECT_EQ(log::escape_for_text_log("\xc3\xa9\x80"), "\xc3\xa9\x80") << "bytes >= 0x80 are not controls";
}

TEST(LogRepeatFilter, FirstLetThroughThenCountedUntilTheIntervalIsOver) {
    log::RepeatFilter f(10s);
    const auto t0 = std::chrono::steady_clock::time_point{} + 1000s;
    EXPECT_EQ(f.admit("accept failed: Too many open files", t0), 0u);
    for (int i = 0; i < 5000; ++i) EXPECT_FALSE(f.admit("accept failed: Too many open files", t0 + 1ms * i));
    EXPECT_EQ(f.admit("another message", t0 + 1s), 0u) << "messages are counted separately";
    EXPECT_EQ(f.admit("accept failed: Too many open files", t0 + 10s), 5000u);
    EXPECT_FALSE(f.admit("accept failed: Too many open files", t0 + 11s));
    EXPECT_EQ(f.admit("accept failed: Too many open files", t0 + 25s), 1u);
    EXPECT_EQ(f.admit("accept failed: Too many open files", t0 + 40s), 0u);
}

TEST(LogRepeatFilter, ManyDistinctMessagesStayBounded) {
    log::RepeatFilter f(10s);
    const auto t0 = std::chrono::steady_clock::time_point{} + 1000s;
    for (int i = 0; i < 10'000; ++i) EXPECT_EQ(f.admit("message " + std::to_string(i), t0), 0u);
}

TEST(LogRepeatFilter, Suffix) {
    EXPECT_EQ(log::repeated_suffix(0), "");
    EXPECT_EQ(log::repeated_suffix(1), " (repeated 1 more time since the last report)");
    EXPECT_EQ(log::repeated_suffix(808000), " (repeated 808000 more times since the last report)");
}

}  // namespace
}  // namespace starpunk
