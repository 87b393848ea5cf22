// Giving freed heap memory back to the system while the server runs (issue 11:
// resident memory < 50 MB serving 100,000 notes).
//
// glibc returns freed memory to the kernel only from the top of each arena;
// the pages of chunks freed in the middle — a burst of list pages leaves
// megabytes of them — stay resident until malloc_trim() releases them
// (measured at 100,000 notes after random page, permalink and tag requests:
// 58 MB resident before a trim, 44 MB after).
//
// MemoryTrimmer calls `trim` (malloc_trim(0) by default) every `interval` on
// its own thread, from construction until destruction. A trim of an already
// trimmed heap costs microseconds; one after a burst, a few milliseconds of
// arena locking and page faults later — negligible at one every 2 s.
// The destructor stops the thread promptly (it does not wait out the interval).
//
// use_one_malloc_arena(): glibc gives each new thread its own arena (up to 8
// per core), and what is freed in one arena serves only that arena's threads.
// The server's page cache is filled from the I/O thread and the workers, so
// with an arena each the holes left by evicted pages in one are not reused by
// the other: measured at 100,000 notes after random tag pages, a second arena
// of 14 MB of which 4.8 MB in use (52.7 MB resident); with one arena 46.5 MB.
// The threads are few (an I/O thread per core, a few workers), and allocations below
// ~1 KB come from per-thread caches that take no lock, so sharing costs
// little.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace starpunk {

// From now on every thread allocates from the main arena. Call it before the
// process starts threads (an arena already made is kept). No effect when
// another allocator replaces glibc's (sanitizer builds).
void use_one_malloc_arena();

class MemoryTrimmer {
public:
    static constexpr std::chrono::milliseconds kDefaultInterval{2000};

    explicit MemoryTrimmer(std::chrono::milliseconds interval = kDefaultInterval,
                           std::function<void()> trim = {});
    ~MemoryTrimmer();
    MemoryTrimmer(const MemoryTrimmer&) = delete;
    MemoryTrimmer& operator=(const MemoryTrimmer&) = delete;

private:
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;  // last: started once the members above exist
};

}  // namespace starpunk
