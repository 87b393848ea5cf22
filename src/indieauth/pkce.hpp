// PKCE (RFC 7636) as the built-in IndieAuth server requires it: S256 only.
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace starpunk::indieauth {

// A code_verifier RFC 7636 §4.1 allows: 43..128 characters of
// [A-Z a-z 0-9 - . _ ~].
bool valid_code_verifier(std::string_view verifier);
// A code_challenge a client may send: the same alphabet and lengths (an S256
// challenge is 43 base64url characters).
bool valid_code_challenge(std::string_view challenge);
// BASE64URL(SHA-256(verifier)) without padding.
std::string s256_challenge(std::string_view verifier);
// True when `verifier` is valid and its S256 challenge equals `challenge`
// (compared in constant time).
bool verify_s256(std::string_view verifier, std::string_view challenge);

}  // namespace starpunk::indieauth
