// libsodium, initialised once per process on first use (sodium_init is
// thread-safe and idempotent; the answer is kept). False: the library could
// not be initialised and no libsodium function may be called.
#pragma once

#include <sodium.h>

namespace starpunk::auth {

inline bool sodium_ready() {
    static const bool ok = sodium_init() >= 0;
    return ok;
}

}  // namespace starpunk::auth
