// Helpers for tests of random secrets (tokens, tickets).
#pragma once

#include <string>

namespace starpunk::testing {

// `secret` with its first character changed — always changed: replacing it
// with a fixed letter left it equal whenever the secret began with that
// letter (1 run in 64 of a base64url token).
inline std::string with_first_char_changed(std::string secret) {
    if (!secret.empty()) secret[0] = secret[0] == 'x' ? 'y' : 'x';
    return secret;
}

}  // namespace starpunk::testing
