#include "auth/login_throttle.hpp"

#include <algorithm>

namespace starpunk::auth {

LoginThrottle::LoginThrottle(const Clock& clock) : LoginThrottle(clock, Options{}) {}
LoginThrottle::LoginThrottle(const Clock& clock, Options options) : clock_(clock), options_(options) {}

std::chrono::microseconds LoginThrottle::delay_after(int failures, std::chrono::seconds cap) const {
    if (failures <= 0) return std::chrono::microseconds{0};
    const int doublings = std::min(failures - 1, 30);  // 2^30 s is far past any cap
    const auto delay = std::chrono::duration_cast<std::chrono::microseconds>(options_.base) * (int64_t{1} << doublings);
    return std::min<std::chrono::microseconds>(delay, cap);
}

std::chrono::seconds LoginThrottle::wait(std::string_view address) const {
    std::lock_guard lock(mutex_);
    const Timestamp now = clock_.now();
    std::chrono::microseconds remaining{0};
    if (auto it = addresses_.find(address); it != addresses_.end() && !forgotten(it->second, now)) {
        remaining = std::max(remaining, it->second.last + delay_after(it->second.failures, options_.max_delay) - now);
    }
    if (!forgotten(overall_, now)) {
        const int beyond = overall_.failures - options_.global_allowance;
        remaining = std::max(remaining, overall_.last + delay_after(beyond, options_.global_max_delay) - now);
    }
    if (remaining <= std::chrono::microseconds{0}) return std::chrono::seconds{0};
    return std::chrono::ceil<std::chrono::seconds>(remaining);
}

int LoginThrottle::failed(std::string_view address) {
    std::lock_guard lock(mutex_);
    const Timestamp now = clock_.now();
    if (forgotten(overall_, now)) overall_.failures = 0;
    ++overall_.failures;
    overall_.last = now;
    auto it = addresses_.find(address);
    if (it == addresses_.end()) {
        if (addresses_.size() >= options_.max_addresses && !addresses_.empty()) {
            auto oldest = std::min_element(addresses_.begin(), addresses_.end(),
                                           [](const auto& a, const auto& b) { return a.second.last < b.second.last; });
            addresses_.erase(oldest);
        }
        it = addresses_.emplace(std::string(address), Count{}).first;
    } else if (forgotten(it->second, now)) {
        it->second.failures = 0;
    }
    ++it->second.failures;
    it->second.last = now;
    return it->second.failures;
}

void LoginThrottle::succeeded(std::string_view address) {
    std::lock_guard lock(mutex_);
    if (auto it = addresses_.find(address); it != addresses_.end()) addresses_.erase(it);
}

int LoginThrottle::overall_failures() const {
    std::lock_guard lock(mutex_);
    return forgotten(overall_, clock_.now()) ? 0 : overall_.failures;
}

}  // namespace starpunk::auth
