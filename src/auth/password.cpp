#include "auth/password.hpp"

#include <sodium.h>

#include "auth/sessions.hpp"
#include "auth/sodium.hpp"
#include "storage/sqlite.hpp"

namespace starpunk::auth {

namespace {

// Invariant 4: the hash a check without a stored password is verified
// against (of a random password, made once per process at the same cost).
const std::string& dummy_hash() {
    static const std::string hash = [] {
        char out[crypto_pwhash_STRBYTES];
        unsigned char random[32];
        randombytes_buf(random, sizeof random);
        if (crypto_pwhash_str(out, reinterpret_cast<const char*>(random), sizeof random,
                              crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
            return std::string();
        }
        return std::string(out);
    }();
    return hash;
}

}  // namespace

Status check_password_rules(std::string_view password) {
    if (password.size() < kMinPasswordBytes) {
        return make_error(ErrorCode::invalid_input,
                          "The password is too short: use at least " + std::to_string(kMinPasswordBytes) + " characters.");
    }
    if (password.size() > kMaxPasswordBytes) {
        return make_error(ErrorCode::invalid_input,
                          "The password is too long: use at most " + std::to_string(kMaxPasswordBytes) + " bytes.");
    }
    if (password.find_first_of(std::string_view("\0\r\n", 3)) != std::string_view::npos) {
        return make_error(ErrorCode::invalid_input, "The password must not contain line breaks or NUL characters.");
    }
    return {};
}

Result<std::string> hash_password(std::string_view password) {
    if (auto st = check_password_rules(password); !st) return std::move(st).error();
    if (!sodium_ready()) return make_error(ErrorCode::internal, "libsodium could not be initialised");
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        return make_error(ErrorCode::internal, "the password could not be hashed (out of memory?)");
    }
    return std::string(out);
}

bool verify_password(std::string_view encoded_hash, std::string_view password) {
    if (!sodium_ready() || encoded_hash.empty() || encoded_hash.size() >= crypto_pwhash_STRBYTES) return false;
    if (password.size() > kMaxPasswordBytes) return false;
    std::string terminated(encoded_hash);  // libsodium wants a NUL-terminated string
    return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

PasswordStore::PasswordStore(std::shared_ptr<storage::ConnectionPool> pool, const Clock& clock)
    : pool_(std::move(pool)), clock_(clock) {}

Result<std::optional<std::string>> PasswordStore::stored_hash() {
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto q = (*lease)->prepare("SELECT password_hash FROM owner_password WHERE id = 1");
    if (!q) return std::move(q).error();
    auto row = (*q)->step();
    if (!row) return std::move(row).error();
    if (!*row) return std::optional<std::string>{};
    std::optional<std::string> hash = (*q)->text(0);
    (*q)->reset();
    return hash;
}

Status PasswordStore::replace(const std::optional<std::string>& hash) {
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto& c = **lease;
    auto tx = storage::Transaction::begin(c);
    if (!tx) return std::move(tx).error();
    if (hash) {
        auto up = c.prepare(
            "INSERT INTO owner_password (id, password_hash, updated_at) VALUES (1, ?1, ?2) "
            "ON CONFLICT(id) DO UPDATE SET password_hash = excluded.password_hash, updated_at = excluded.updated_at");
        if (!up) return std::move(up).error();
        if (auto st = (*up)->bind(1, *hash).bind(2, format_db_time(clock_.now())).run(); !st) return st;
    } else if (auto st = c.exec("DELETE FROM owner_password"); !st) {
        return st;
    }
    auto end = c.prepare("DELETE FROM sessions WHERE login_method = ?1");
    if (!end) return std::move(end).error();
    if (auto st = (*end)->bind(1, login_method_name(LoginMethod::password)).run(); !st) return st;
    return tx->commit();
}

Status PasswordStore::set(std::string_view password) {
    auto hash = hash_password(password);
    if (!hash) return std::move(hash).error();
    return replace(*hash);
}

Status PasswordStore::clear() { return replace(std::nullopt); }

Result<bool> PasswordStore::check(std::string_view password) {
    auto hash = stored_hash();
    if (!hash) return std::move(hash).error();
    if (!*hash) {
        (void)verify_password(dummy_hash(), password);  // invariant 4: the same work, then no
        return false;
    }
    return verify_password(**hash, password);
}

Result<bool> PasswordStore::is_set() {
    auto hash = stored_hash();
    if (!hash) return std::move(hash).error();
    return hash->has_value();
}

}  // namespace starpunk::auth

#include <spdlog/spdlog.h>

namespace starpunk::auth {

Result<PasswordAttempt> attempt_password_login(PasswordStore& store, LoginThrottle& throttle, std::string_view address,
                                               std::string_view password, bool last_factor) {
    PasswordAttempt out;
    if (auto wait = throttle.wait(address); wait.count() > 0) {
        spdlog::warn("password login from {} refused unheard: throttled for {} s more", address, wait.count());
        out.outcome = PasswordAttempt::Outcome::throttled;
        out.retry_after = wait;
        return out;
    }
    auto ok = store.check(password);
    if (!ok) return std::move(ok).error();
    if (*ok) {
        if (last_factor) throttle.succeeded(address);
        out.outcome = PasswordAttempt::Outcome::accepted;
        return out;
    }
    const int failures = throttle.failed(address);
    spdlog::warn("password login from {} failed ({} failure(s) from there, {} overall)", address, failures,
                 throttle.overall_failures());
    out.outcome = PasswordAttempt::Outcome::refused;
    return out;
}

}  // namespace starpunk::auth
