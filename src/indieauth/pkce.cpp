#include "indieauth/pkce.hpp"

#include <algorithm>

#include "util/crypto.hpp"

namespace starpunk::indieauth {

namespace {
bool unreserved(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}
bool pkce_text(std::string_view s) {
    return s.size() >= 43 && s.size() <= 128 && std::all_of(s.begin(), s.end(), unreserved);
}
}  // namespace

bool valid_code_verifier(std::string_view verifier) { return pkce_text(verifier); }
bool valid_code_challenge(std::string_view challenge) { return pkce_text(challenge); }

std::string s256_challenge(std::string_view verifier) { return base64url(sha256(verifier)); }

bool verify_s256(std::string_view verifier, std::string_view challenge) {
    if (!valid_code_verifier(verifier)) return false;
    return constant_time_equal(s256_challenge(verifier), challenge);
}

}  // namespace starpunk::indieauth
