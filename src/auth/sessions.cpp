#include "auth/sessions.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "util/crypto.hpp"

namespace starpunk::auth {

namespace {

constexpr size_t kTokenBytes = 32;  // 256 bits
constexpr size_t kMaxClientInfo = 256;

std::string clip(std::string_view s) {
    s = s.substr(0, kMaxClientInfo);
    // Never cut a UTF-8 sequence in half.
    while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.remove_suffix(1);
    if (!s.empty() && (static_cast<unsigned char>(s.back()) & 0x80)) s.remove_suffix(1);
    return std::string(s);
}

// A cookie value we could have issued: 43 base64url characters.
bool plausible_token(std::string_view token) {
    if (token.size() != 43) return false;
    return std::all_of(token.begin(), token.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
}

}  // namespace

std::string session_token_hash(std::string_view token) { return sha256_hex(token); }

std::string_view login_method_name(LoginMethod method) {
    switch (method) {
        case LoginMethod::dev: return "dev";
        case LoginMethod::password: return "password";
        case LoginMethod::indieauth: break;
    }
    return "indieauth";
}

SessionStore::SessionStore(std::shared_ptr<storage::ConnectionPool> pool, const Clock& clock, Options options)
    : pool_(std::move(pool)), clock_(clock), options_(std::move(options)) {}

Result<NewSession> SessionStore::create(std::string_view me, LoginMethod method, std::string_view user_agent,
                                       std::string_view ip) {
    auto bytes = random_bytes(kTokenBytes);
    if (!bytes) return std::move(bytes).error();
    NewSession out;
    out.token = base64url(*bytes);
    Timestamp now = clock_.now();
    Session& s = out.session;
    s.me = std::string(me);
    s.method = method;
    s.token_hash = session_token_hash(out.token);
    s.created_at = now;
    s.expires_at = now + std::min<std::chrono::microseconds>(options_.lifetime, options_.absolute_lifetime);

    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto stmt = (*lease)->prepare(
        "INSERT INTO sessions (session_token_hash, me, created_at, expires_at, last_used_at, user_agent, ip_address, "
        "login_method) VALUES (?1, ?2, ?3, ?4, ?3, ?5, ?6, ?7)");
    if (!stmt) return std::move(stmt).error();
    (*stmt)->bind(1, s.token_hash).bind(2, s.me).bind(3, format_db_time(now)).bind(4, format_db_time(s.expires_at));
    (*stmt)->bind(5, clip(user_agent)).bind(6, clip(ip)).bind(7, login_method_name(method));
    if (auto st = (*stmt)->run(); !st) return std::move(st).error();
    s.id = (*lease)->last_insert_rowid();
    return out;
}

Result<std::optional<Session>> SessionStore::validate(std::string_view token) {
    if (!plausible_token(token)) return std::optional<Session>{};
    std::string hash = session_token_hash(token);
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto& c = **lease;
    auto stmt = c.prepare(
        "SELECT id, me, created_at, expires_at, last_used_at, login_method FROM sessions WHERE session_token_hash = ?1");
    if (!stmt) return std::move(stmt).error();
    (*stmt)->bind(1, hash);
    auto row = (*stmt)->step();
    if (!row) return std::move(row).error();
    if (!*row) return std::optional<Session>{};
    Session s;
    s.id = (*stmt)->integer(0);
    s.me = (*stmt)->text(1);
    s.token_hash = hash;
    auto created = parse_timestamp((*stmt)->text(2));
    auto expires = parse_timestamp((*stmt)->text(3));
    auto last_used = parse_timestamp((*stmt)->optional_text(4).value_or(""));
    const std::string method = (*stmt)->optional_text(5).value_or("");
    (*stmt)->reset();

    // Invariant 6: still allowed by the configuration?
    const char* refused = nullptr;
    if (method == login_method_name(LoginMethod::indieauth) || method == login_method_name(LoginMethod::password)) {
        s.method = method == login_method_name(LoginMethod::password) ? LoginMethod::password : LoginMethod::indieauth;
        if (options_.admin_me.empty() || s.me != options_.admin_me) refused = "it was made for another ADMIN_ME";
    } else if (method == login_method_name(LoginMethod::dev)) {
        s.method = LoginMethod::dev;
        if (options_.dev_me.empty()) {
            refused = "it came from /dev/login and DEV_MODE is off";
        } else if (s.me != options_.dev_me) {
            refused = "it came from /dev/login for another DEV_ADMIN_ME";
        }
    } else {
        refused = "it predates sessions that record how they were made";
    }
    if (refused) spdlog::info("session {} refused and ended: {}", s.id, refused);

    Timestamp now = clock_.now();
    if (refused || !created || !expires || now >= *expires || now >= *created + options_.absolute_lifetime) {
        auto del = c.prepare("DELETE FROM sessions WHERE id = ?1");
        if (!del) return std::move(del).error();
        if (auto st = (*del)->bind(1, s.id).run(); !st) return std::move(st).error();
        return std::optional<Session>{};
    }
    s.created_at = *created;
    s.expires_at = *expires;
    if (!last_used || now - *last_used >= options_.touch_interval) {
        s.expires_at = std::min<Timestamp>(now + options_.lifetime, *created + options_.absolute_lifetime);
        auto touch = c.prepare("UPDATE sessions SET last_used_at = ?1, expires_at = ?2 WHERE id = ?3");
        if (!touch) return std::move(touch).error();
        (*touch)->bind(1, format_db_time(now)).bind(2, format_db_time(s.expires_at)).bind(3, s.id);
        if (auto st = (*touch)->run(); !st) return std::move(st).error();
    }
    return std::optional<Session>{std::move(s)};
}

Status SessionStore::destroy(std::string_view token) {
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto del = (*lease)->prepare("DELETE FROM sessions WHERE session_token_hash = ?1");
    if (!del) return std::move(del).error();
    return (*del)->bind(1, session_token_hash(token)).run();
}

Result<int> SessionStore::purge_expired() {
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto& c = **lease;
    Timestamp now = clock_.now();
    // Text comparison is exact for our storage format (fixed width, UTC).
    auto del = c.prepare("DELETE FROM sessions WHERE expires_at <= ?1 OR created_at <= ?2");
    if (!del) return std::move(del).error();
    (*del)->bind(1, format_db_time(now)).bind(2, format_db_time(now - options_.absolute_lifetime));
    if (auto st = (*del)->run(); !st) return std::move(st).error();
    return c.changes();
}

std::string SessionStore::csrf_token(const Session& session) const {
    return base64url(hmac_sha256(options_.secret, "csrf\n" + session.token_hash));
}


}  // namespace starpunk::auth
