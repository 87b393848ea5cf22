#include "util/memory_trim.hpp"

#include <malloc.h>

namespace starpunk {

void use_one_malloc_arena() { ::mallopt(M_ARENA_MAX, 1); }

MemoryTrimmer::MemoryTrimmer(std::chrono::milliseconds interval, std::function<void()> trim) {
    if (!trim) trim = [] { ::malloc_trim(0); };
    thread_ = std::thread([this, interval, trim = std::move(trim)] {
        std::unique_lock lock(mutex_);
        while (!wake_.wait_for(lock, interval, [this] { return stopping_; })) {
            lock.unlock();
            trim();
            lock.lock();
        }
    });
}

MemoryTrimmer::~MemoryTrimmer() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

}  // namespace starpunk
