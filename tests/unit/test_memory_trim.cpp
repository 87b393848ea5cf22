// util/memory_trim: the server's periodic return of freed heap pages (issue 11).
#include <gtest/gtest.h>

#include <malloc.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "util/memory_trim.hpp"

using namespace std::chrono_literals;
using starpunk::MemoryTrimmer;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
TEST(OneMallocArena, ThreadsShareTheMainArena) { GTEST_SKIP() << "a sanitizer's allocator replaces glibc's malloc"; }
#else
namespace {

// How many arenas glibc's malloc has, from malloc_info's report.
int malloc_arenas() {
    char* text = nullptr;
    std::size_t size = 0;
    FILE* out = open_memstream(&text, &size);
    if (!out) return -1;
    malloc_info(0, out);
    std::fclose(out);
    int arenas = 0;
    for (std::string_view rest(text, size); rest.find("<heap nr=") != std::string_view::npos;) {
        rest.remove_prefix(rest.find("<heap nr=") + 1);
        ++arenas;
    }
    std::free(text);
    return arenas;
}

// Four threads allocate at once and hold what they allocated until all four
// have; then the process exits with the number of arenas malloc made.
[[noreturn]] void exit_with_arenas_after_threads_allocate() {
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&ready] {
            std::vector<std::string> held;
            for (int i = 0; i < 100; ++i) held.emplace_back(std::string(2000 + i, 'x'));
            ++ready;
            while (ready.load() < 4) std::this_thread::yield();
        });
    }
    for (auto& t : threads) t.join();
    std::_Exit(malloc_arenas());
}

}  // namespace

// Each death test below runs in a freshly started copy of this binary
// ("threadsafe" style), whose malloc has made no arena but the main one yet.
TEST(OneMallocArena, ThreadsShareTheMainArena) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            starpunk::use_one_malloc_arena();
            exit_with_arenas_after_threads_allocate();
        },
        ::testing::ExitedWithCode(1), "");
}

TEST(OneMallocArena, WithoutItEachThreadGetsAnArenaOfItsOwn) {
    // What the call above prevents (and proof that the count sees arenas).
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(exit_with_arenas_after_threads_allocate(), ::testing::ExitedWithCode(5), "");
}
#endif

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
