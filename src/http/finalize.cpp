#include "http/finalize.hpp"

#include <openssl/rand.h>

#include <array>
#include <cstdio>
#include <random>

namespace starpunk::http {

namespace {

bool sane_token(std::string_view v) {
    if (v.empty() || v.size() > 128) return false;
    for (char c : v) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '_' || c == ':' || c == '-';
        if (!ok) return false;
    }
    return true;
}

}  // namespace

void finalize_response(const Request& req, Response& res) {
    res.set_header("X-Request-ID", req.request_id);
    bool has_body = res.stream || !res.body_view().empty();
    if (has_body && !res.header("Content-Type")) res.set_header("Content-Type", "application/octet-stream");
}

std::string random_uuid() {
    // Request ids need uniqueness, not secrecy: a per-thread generator seeded
    // once from the OS CSPRNG keeps this off the syscall path.
    thread_local std::mt19937_64 gen = [] {
        std::array<unsigned char, 8> seed{};
        if (RAND_bytes(seed.data(), static_cast<int>(seed.size())) != 1) {
            std::random_device rd;
            for (auto& b : seed) b = static_cast<unsigned char>(rd());
        }
        uint64_t s = 0;
        for (auto b : seed) s = (s << 8) | b;
        return std::mt19937_64(s);
    }();
    uint64_t hi = gen();
    uint64_t lo = gen();
    hi = (hi & 0xFFFFFFFFFFFF0FFFull) | 0x0000000000004000ull;  // version 4
    lo = (lo & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // variant 10
    char buf[37];
    std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                  static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                  static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFull));
    return buf;
}

std::string choose_request_id(std::optional<std::string_view> client_value) {
    if (client_value && sane_token(*client_value)) return std::string(*client_value);
    return random_uuid();
}

}  // namespace starpunk::http
