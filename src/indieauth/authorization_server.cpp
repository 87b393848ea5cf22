#include "indieauth/authorization_server.hpp"

#include <algorithm>

#include "indieauth/authorization_request.hpp"
#include "indieauth/pkce.hpp"
#include "storage/sqlite.hpp"
#include "util/crypto.hpp"

namespace starpunk::indieauth {

namespace {

constexpr size_t kSecretBytes = 32;
constexpr std::chrono::seconds kTouchInterval{60};

Result<std::string> new_secret() {
    auto bytes = random_bytes(kSecretBytes);
    if (!bytes) return std::move(bytes).error();
    return base64url(*bytes);
}

bool plausible_secret(std::string_view s) {
    return s.size() == 43 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
           });
}

Error refused(std::string description) { return make_error(ErrorCode::invalid_input, std::move(description)); }

}  // namespace

AuthorizationServer::AuthorizationServer(std::shared_ptr<storage::ConnectionPool> pool, const Clock& clock,
                                         Options options)
    : pool_(std::move(pool)), clock_(clock), options_(std::move(options)) {}

Result<std::string> AuthorizationServer::issue_code(const Grant& g) {
    auto code = new_secret();
    if (!code) return code;
    const Timestamp now = clock_.now();
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto ins = (*lease)->prepare(
        "INSERT INTO indieauth_codes (code_hash, client_id, redirect_uri, code_challenge, scope, me, created_at, "
        "expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!ins) return std::move(ins).error();
    (*ins)->bind(1, sha256_hex(*code)).bind(2, g.client_id).bind(3, g.redirect_uri).bind(4, g.code_challenge);
    (*ins)->bind(5, join_scopes(g.scopes)).bind(6, g.me).bind(7, format_db_time(now));
    (*ins)->bind(8, format_db_time(now + options_.code_lifetime));
    if (auto st = (*ins)->run(); !st) return std::move(st).error();
    return code;
}

Result<Grant> AuthorizationServer::redeem_code(std::string_view code, std::string_view client_id,
                                               std::string_view redirect_uri, std::string_view code_verifier) {
    if (!plausible_secret(code)) return refused("The authorization code is invalid, expired or already used.");
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto del = (*lease)->prepare(
        "DELETE FROM indieauth_codes WHERE code_hash = ?1 "
        "RETURNING client_id, redirect_uri, code_challenge, scope, me, expires_at");
    if (!del) return std::move(del).error();
    (*del)->bind(1, sha256_hex(code));
    auto row = (*del)->step();
    if (!row) return std::move(row).error();
    if (!*row) return refused("The authorization code is invalid, expired or already used.");
    Grant g;
    g.client_id = (*del)->text(0);
    g.redirect_uri = (*del)->text(1);
    g.code_challenge = (*del)->text(2);
    g.scopes = split_scope((*del)->text(3));
    g.me = (*del)->text(4);
    auto expires = parse_timestamp((*del)->text(5));
    if (auto st = (*del)->step(); !st) return std::move(st).error();  // finishes the statement (commits the delete)

    if (!expires || clock_.now() >= *expires) return refused("The authorization code is invalid, expired or already used.");
    if (client_id != g.client_id) return refused("client_id does not match the one the code was issued to.");
    if (redirect_uri != g.redirect_uri) return refused("redirect_uri does not match the one the code was issued for.");
    if (code_verifier.empty()) return refused("code_verifier is missing.");
    if (!verify_s256(code_verifier, g.code_challenge)) return refused("code_verifier does not match the code_challenge.");
    return g;
}

Result<IssuedToken> AuthorizationServer::issue_token(const Grant& g) {
    auto token = new_secret();
    if (!token) return std::move(token).error();
    IssuedToken out;
    out.access_token = std::move(*token);
    TokenRecord& r = out.record;
    r.me = g.me;
    r.client_id = g.client_id;
    r.scopes = g.scopes;
    r.issued_at = clock_.now();
    r.expires_at = r.issued_at + options_.token_lifetime;
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto ins = (*lease)->prepare(
        "INSERT INTO indieauth_tokens (token_hash, client_id, scope, me, created_at, expires_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!ins) return std::move(ins).error();
    (*ins)->bind(1, sha256_hex(out.access_token)).bind(2, r.client_id).bind(3, join_scopes(r.scopes)).bind(4, r.me);
    (*ins)->bind(5, format_db_time(r.issued_at)).bind(6, format_db_time(r.expires_at));
    if (auto st = (*ins)->run(); !st) return std::move(st).error();
    r.id = (*lease)->last_insert_rowid();
    return out;
}

Result<std::optional<TokenRecord>> AuthorizationServer::find_token(std::string_view token) {
    if (!plausible_secret(token)) return std::optional<TokenRecord>{};
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto& c = **lease;
    auto q = c.prepare(
        "SELECT id, client_id, scope, me, created_at, expires_at, last_used_at FROM indieauth_tokens "
        "WHERE token_hash = ?1");
    if (!q) return std::move(q).error();
    (*q)->bind(1, sha256_hex(token));
    auto row = (*q)->step();
    if (!row) return std::move(row).error();
    if (!*row) return std::optional<TokenRecord>{};
    TokenRecord r;
    r.id = (*q)->integer(0);
    r.client_id = (*q)->text(1);
    r.scopes = split_scope((*q)->text(2));
    r.me = (*q)->text(3);
    auto issued = parse_timestamp((*q)->text(4));
    auto expires = parse_timestamp((*q)->text(5));
    auto last = parse_timestamp((*q)->optional_text(6).value_or(""));
    (*q)->reset();
    const Timestamp now = clock_.now();
    if (!issued || !expires || now >= *expires || r.me != options_.me) {
        auto del = c.prepare("DELETE FROM indieauth_tokens WHERE id = ?1");
        if (!del) return std::move(del).error();
        if (auto st = (*del)->bind(1, r.id).run(); !st) return std::move(st).error();
        return std::optional<TokenRecord>{};
    }
    r.issued_at = *issued;
    r.expires_at = *expires;
    r.last_used_at = last;
    if (!last || now - *last >= kTouchInterval) {
        auto touch = c.prepare("UPDATE indieauth_tokens SET last_used_at = ?1 WHERE id = ?2");
        if (!touch) return std::move(touch).error();
        if (auto st = (*touch)->bind(1, format_db_time(now)).bind(2, r.id).run(); !st) return std::move(st).error();
        r.last_used_at = now;
    }
    return std::optional<TokenRecord>{std::move(r)};
}

Result<bool> AuthorizationServer::revoke(std::string_view token) {
    if (!plausible_secret(token)) return false;
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto del = (*lease)->prepare("DELETE FROM indieauth_tokens WHERE token_hash = ?1");
    if (!del) return std::move(del).error();
    if (auto st = (*del)->bind(1, sha256_hex(token)).run(); !st) return std::move(st).error();
    return (*lease)->changes() > 0;
}

Result<std::vector<TokenRecord>> AuthorizationServer::live_tokens(int limit) {
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto q = (*lease)->prepare(
        "SELECT id, client_id, scope, me, created_at, expires_at, last_used_at FROM indieauth_tokens "
        "WHERE expires_at > ?1 AND me = ?2 ORDER BY id DESC LIMIT ?3");
    if (!q) return std::move(q).error();
    (*q)->bind(1, format_db_time(clock_.now())).bind(2, options_.me).bind(3, int64_t{limit});
    std::vector<TokenRecord> out;
    while (true) {
        auto row = (*q)->step();
        if (!row) return std::move(row).error();
        if (!*row) break;
        TokenRecord r;
        r.id = (*q)->integer(0);
        r.client_id = (*q)->text(1);
        r.scopes = split_scope((*q)->text(2));
        r.me = (*q)->text(3);
        r.issued_at = parse_timestamp((*q)->text(4)).value_or(Timestamp{});
        r.expires_at = parse_timestamp((*q)->text(5)).value_or(Timestamp{});
        r.last_used_at = parse_timestamp((*q)->optional_text(6).value_or(""));
        out.push_back(std::move(r));
    }
    return out;
}

Result<bool> AuthorizationServer::revoke_id(int64_t id) {
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto del = (*lease)->prepare("DELETE FROM indieauth_tokens WHERE id = ?1");
    if (!del) return std::move(del).error();
    if (auto st = (*del)->bind(1, id).run(); !st) return std::move(st).error();
    return (*lease)->changes() > 0;
}

Result<int> AuthorizationServer::purge_expired() {
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto& c = **lease;
    const std::string now = format_db_time(clock_.now());
    int gone = 0;
    for (std::string_view sql : {"DELETE FROM indieauth_codes WHERE expires_at <= ?1",
                                 "DELETE FROM indieauth_tokens WHERE expires_at <= ?1"}) {
        auto del = c.prepare(sql);
        if (!del) return std::move(del).error();
        if (auto st = (*del)->bind(1, now).run(); !st) return std::move(st).error();
        gone += c.changes();
    }
    return gone;
}

}  // namespace starpunk::indieauth
