// Cryptographic primitives (OpenSSL 3). All functions are thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "util/result.hpp"

namespace starpunk {

// Raw 32-byte SHA-256 digest.
std::string sha256(std::string_view data);
// Lowercase hex SHA-256 (the notes' content_hash format).
std::string sha256_hex(std::string_view data);
// Raw HMAC-SHA-256.
std::string hmac_sha256(std::string_view key, std::string_view data);
// Raw HMAC-SHA-1 (RFC 2104; what RFC 4226/6238 one-time passwords use).
std::string hmac_sha1(std::string_view key, std::string_view data);
// `n` bytes from the OS CSPRNG; an error only if OpenSSL cannot seed.
Result<std::string> random_bytes(size_t n);
// Base64url without padding (RFC 4648 §5).
std::string base64url(std::string_view bytes);
// Constant-time equality (length is not secret).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace starpunk
