// util/memory_trim: the server's periodic return of freed heap pages (issue 11).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "util/memory_trim.hpp"

using namespace std::chrono_literals;
using starpunk::MemoryTrimmer;

TEST(MemoryTrimmer, TrimsAgainAndAgainWhileItLives) {
    std::atomic<int> trims{0};
    {
        MemoryTrimmer trimmer(5ms, [&] { ++trims; });
        for (int i = 0; i < 1000 && trims < 3; ++i) std::this_thread::sleep_for(5ms);
    }
    EXPECT_GE(trims.load(), 3);
    const int after = trims.load();
    std::this_thread::sleep_for(30ms);
    EXPECT_EQ(trims.load(), after) << "no trim after destruction";
}

TEST(MemoryTrimmer, StopsWithoutWaitingOutTheInterval) {
    std::atomic<int> trims{0};
    // An hour-long interval: the destructor must wake the thread, or the test
    // hangs until ctest's timeout fails it.
    { MemoryTrimmer trimmer(std::chrono::hours(1), [&] { ++trims; }); }
    EXPECT_EQ(trims.load(), 0);
}

TEST(MemoryTrimmer, TheDefaultTrimRuns) {
    // malloc_trim(0) itself, on a heap with freed blocks: it must not crash or
    // disturb allocations on other threads.
    MemoryTrimmer trimmer(1ms);
    for (int round = 0; round < 50; ++round) {
        std::vector<std::string> blocks;
        for (int i = 0; i < 200; ++i) blocks.emplace_back(std::string(4096 + i, 'x'));
        for (std::size_t i = 0; i < blocks.size(); i += 2) blocks[i].clear(), blocks[i].shrink_to_fit();
        std::this_thread::sleep_for(1ms);
        for (std::size_t i = 1; i < blocks.size(); i += 2) ASSERT_EQ(blocks[i].size(), 4096 + i);
    }
}
