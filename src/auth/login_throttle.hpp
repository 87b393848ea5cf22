// Failed password logins slow down exponentially, per client address and
// overall (issue 13). In memory: a restart forgets, which costs an attacker a
// restart they cannot cause.
//
// Rules (n = failures counted so far):
//   1. Per address: after its n-th failure, the address is heard again only
//      once min(base * 2^(n-1), max_delay) has passed since that failure.
//   2. Overall: the first `global_allowance` failures (from anywhere) are
//      free; after the n-th, every address waits
//      min(base * 2^(n - global_allowance - 1), global_max_delay). A cap well
//      below the per-address one keeps a flood from locking the owner out for
//      long, while still bounding guesses from many addresses.
//   3. A success forgets its address's failures (not the overall count); a
//      counter with no failure for `forget_after` starts again from zero.
//   4. At most `max_addresses` addresses are remembered; when full, the one
//      whose last failure is oldest goes.
// An attempt made while waiting is refused without checking the password, so
// it neither counts nor reveals anything.
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "util/clock.hpp"

namespace starpunk::auth {

class LoginThrottle {
public:
    struct Options {
        std::chrono::seconds base{1};
        std::chrono::seconds max_delay{15 * 60};
        int global_allowance = 20;
        std::chrono::seconds global_max_delay{60};
        std::chrono::seconds forget_after{60 * 60};
        std::size_t max_addresses = 10000;
    };

    explicit LoginThrottle(const Clock& clock);
    LoginThrottle(const Clock& clock, Options options);

    // How long `address` must still wait before an attempt is heard (zero:
    // now), rounded up to whole seconds (for Retry-After).
    std::chrono::seconds wait(std::string_view address) const;
    // Records a failed attempt from `address`; returns its failure count.
    int failed(std::string_view address);
    // Forgets `address`'s failures.
    void succeeded(std::string_view address);
    // Failures counted overall (rule 2), for logs and tests.
    int overall_failures() const;

private:
    struct Count {
        int failures = 0;
        Timestamp last{};
    };
    std::chrono::microseconds delay_after(int failures, std::chrono::seconds cap) const;
    bool forgotten(const Count& c, Timestamp now) const { return now - c.last >= options_.forget_after; }

    const Clock& clock_;
    Options options_;
    mutable std::mutex mutex_;
    std::map<std::string, Count, std::less<>> addresses_;
    Count overall_;
};

}  // namespace starpunk::auth
