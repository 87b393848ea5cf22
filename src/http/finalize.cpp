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

void finalize_response(const Request&, Response& res) {
    bool has_body = res.stream || (res.file && res.file->length > 0) || !res.body_view().empty();
    if (has_body && !res.header("Content-Type")) res.set_header("Content-Type", "application/octet-stream");
}

namespace {

// 36 characters of a random UUID v4 into `out`.
void write_random_uuid(std::string& out) {
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
    // 8-4-4-4-12 lowercase hex digits, written directly (snprintf cost more
    // than the rest of a cached response's bookkeeping).
    static constexpr char kHex[] = "0123456789abcdef";
    out.assign(36, '-');
    std::size_t at = 0;
    auto put = [&](uint64_t v, int digits) {
        for (int i = digits - 1; i >= 0; --i) out[at++] = kHex[(v >> (4 * i)) & 0xF];
    };
    put(hi >> 32, 8);
    ++at;
    put((hi >> 16) & 0xFFFF, 4);
    ++at;
    put(hi & 0xFFFF, 4);
    ++at;
    put(lo >> 48, 4);
    ++at;
    put(lo & 0xFFFFFFFFFFFFull, 12);
}

}  // namespace

std::string random_uuid() {
    std::string out;
    write_random_uuid(out);
    return out;
}

void choose_request_id(std::optional<std::string_view> client_value, std::string& out) {
    if (client_value && sane_token(*client_value)) {
        out.assign(*client_value);
    } else {
        write_random_uuid(out);
    }
}

std::string choose_request_id(std::optional<std::string_view> client_value) {
    std::string out;
    choose_request_id(client_value, out);
    return out;
}

}  // namespace starpunk::http
