#include "auth/totp.hpp"

#include <sodium.h>

#include <algorithm>

#include "auth/sessions.hpp"
#include "auth/sodium.hpp"
#include "storage/sqlite.hpp"
#include "util/crypto.hpp"
#include "util/strings.hpp"

namespace starpunk::auth {

namespace {

constexpr std::string_view kBase32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

}  // namespace

std::string base32_encode(std::string_view bytes) {
    std::string out;
    uint32_t buffer = 0;
    int bits = 0;
    for (unsigned char b : bytes) {
        buffer = (buffer << 8) | b;
        bits += 8;
        while (bits >= 5) {
            out.push_back(kBase32[(buffer >> (bits - 5)) & 31]);
            bits -= 5;
        }
    }
    if (bits > 0) out.push_back(kBase32[(buffer << (5 - bits)) & 31]);
    return out;
}

std::optional<std::string> base32_decode(std::string_view text) {
    std::string out;
    uint32_t buffer = 0;
    int bits = 0;
    for (char raw : text) {
        if (raw == ' ' || raw == '=') continue;
        char c = (raw >= 'a' && raw <= 'z') ? static_cast<char>(raw - 'a' + 'A') : raw;
        auto pos = kBase32.find(c);
        if (pos == std::string_view::npos) return std::nullopt;
        buffer = (buffer << 5) | static_cast<uint32_t>(pos);
        bits += 5;
        if (bits >= 8) {
            out.push_back(static_cast<char>((buffer >> (bits - 8)) & 0xFF));
            bits -= 8;
        }
    }
    return out;
}

std::string hotp(std::string_view key, uint64_t counter, int digits) {
    digits = std::clamp(digits, 6, 8);
    char msg[8];
    for (int i = 7; i >= 0; --i) {
        msg[i] = static_cast<char>(counter & 0xFF);
        counter >>= 8;
    }
    const std::string mac = hmac_sha1(key, std::string_view(msg, 8));
    const auto* h = reinterpret_cast<const unsigned char*>(mac.data());
    const int offset = h[19] & 0x0F;  // RFC 4226 §5.3 dynamic truncation
    const uint32_t bin = (static_cast<uint32_t>(h[offset] & 0x7F) << 24) | (static_cast<uint32_t>(h[offset + 1]) << 16) |
                         (static_cast<uint32_t>(h[offset + 2]) << 8) | static_cast<uint32_t>(h[offset + 3]);
    uint32_t mod = 1;
    for (int i = 0; i < digits; ++i) mod *= 10;
    std::string code = std::to_string(bin % mod);
    return std::string(static_cast<size_t>(digits) - code.size(), '0') + code;
}

int64_t totp_step(Timestamp t) {
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
    return seconds >= 0 ? seconds / kTotpStep.count() : (seconds - kTotpStep.count() + 1) / kTotpStep.count();
}

std::string otpauth_uri(std::string_view secret_base32, std::string_view issuer, std::string_view account) {
    return "otpauth://totp/" + percent_encode(issuer) + ":" + percent_encode(account) +
           "?secret=" + std::string(secret_base32) + "&issuer=" + percent_encode(issuer) +
           "&algorithm=SHA1&digits=6&period=30";
}

TotpStore::TotpStore(std::shared_ptr<storage::ConnectionPool> pool, const Clock& clock)
    : pool_(std::move(pool)), clock_(clock) {}

Status TotpStore::replace(const std::optional<std::string>& secret) {
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto& c = **lease;
    auto tx = storage::Transaction::begin(c);
    if (!tx) return std::move(tx).error();
    if (secret) {
        auto up = c.prepare(
            "INSERT INTO owner_totp (id, secret, last_step, updated_at) VALUES (1, ?1, -1, ?2) "
            "ON CONFLICT(id) DO UPDATE SET secret = excluded.secret, last_step = -1, updated_at = excluded.updated_at");
        if (!up) return std::move(up).error();
        if (auto st = (*up)->bind(1, *secret).bind(2, format_db_time(clock_.now())).run(); !st) return st;
    } else if (auto st = c.exec("DELETE FROM owner_totp"); !st) {
        return st;
    }
    auto end = c.prepare("DELETE FROM sessions WHERE login_method = ?1");  // invariant 4
    if (!end) return std::move(end).error();
    if (auto st = (*end)->bind(1, login_method_name(LoginMethod::password)).run(); !st) return st;
    return tx->commit();
}

Result<std::string> TotpStore::enable() {
    if (!sodium_ready()) return make_error(ErrorCode::internal, "libsodium could not be initialised");
    std::string raw(kTotpSecretBytes, '\0');
    randombytes_buf(raw.data(), raw.size());
    std::string secret = base32_encode(raw);
    sodium_memzero(raw.data(), raw.size());
    if (auto st = replace(secret); !st) return std::move(st).error();
    return secret;
}

Status TotpStore::disable() { return replace(std::nullopt); }

Result<bool> TotpStore::is_enabled() {
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto q = (*lease)->prepare("SELECT 1 FROM owner_totp WHERE id = 1");
    if (!q) return std::move(q).error();
    auto row = (*q)->step();
    if (!row) return std::move(row).error();
    const bool on = *row;
    (*q)->reset();
    return on;
}

Result<bool> TotpStore::verify(std::string_view code) {
    if (code.size() != 6 || !std::all_of(code.begin(), code.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
        return false;
    }
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto& c = **lease;
    auto q = c.prepare("SELECT secret, last_step FROM owner_totp WHERE id = 1");
    if (!q) return std::move(q).error();
    auto row = (*q)->step();
    if (!row) return std::move(row).error();
    if (!*row) return false;
    auto key = base32_decode((*q)->text(0));
    const int64_t last_step = (*q)->integer(1);
    (*q)->reset();
    if (!key || key->empty()) return false;
    const int64_t now = totp_step(clock_.now());
    std::optional<int64_t> matched;
    for (int64_t step = now - 1; step <= now + 1; ++step) {
        // Every candidate is computed and compared, matched or not (no early exit).
        const bool same = constant_time_equal(hotp(*key, static_cast<uint64_t>(step)), code);
        if (same && step > last_step && !matched) matched = step;
    }
    sodium_memzero(key->data(), key->size());
    if (!matched) return false;
    // Invariant 3: spend the step; a concurrent use of the same code loses.
    auto spend = c.prepare("UPDATE owner_totp SET last_step = ?1 WHERE id = 1 AND last_step < ?1");
    if (!spend) return std::move(spend).error();
    if (auto st = (*spend)->bind(1, *matched).run(); !st) return std::move(st).error();
    return c.changes() > 0;
}

Result<std::string> PendingSecondFactor::begin(std::string_view address) {
    auto bytes = random_bytes(32);
    if (!bytes) return std::move(bytes).error();
    std::string ticket = base64url(*bytes);
    const Timestamp now = clock_.now();
    std::lock_guard lock(mutex_);
    std::erase_if(tickets_, [now](const auto& kv) { return kv.second.expires <= now; });
    if (tickets_.size() >= kMaxPending) tickets_.erase(tickets_.begin());
    tickets_.insert_or_assign(ticket, Entry{std::string(address), now + kLifetime, 0});
    return ticket;
}

bool PendingSecondFactor::valid(std::string_view ticket, std::string_view address) {
    std::lock_guard lock(mutex_);
    auto it = tickets_.find(ticket);
    if (it == tickets_.end()) return false;
    if (it->second.expires <= clock_.now()) {
        tickets_.erase(it);
        return false;
    }
    return it->second.address == address;
}

void PendingSecondFactor::wrong_code(std::string_view ticket) {
    std::lock_guard lock(mutex_);
    auto it = tickets_.find(ticket);
    if (it != tickets_.end() && ++it->second.wrong >= kMaxWrongCodes) tickets_.erase(it);
}

void PendingSecondFactor::finish(std::string_view ticket) {
    std::lock_guard lock(mutex_);
    if (auto it = tickets_.find(ticket); it != tickets_.end()) tickets_.erase(it);
}

}  // namespace starpunk::auth
