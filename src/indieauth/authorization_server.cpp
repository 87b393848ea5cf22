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

namespace {

const char* kind_name(TokenKind k) { return k == TokenKind::refresh ? "refresh" : "access"; }

// A family id: random, positive, never 0 (0 means "no family").
Result<int64_t> new_family() {
    auto bytes = random_bytes(8);
    if (!bytes) return std::move(bytes).error();
    uint64_t v = 0;
    for (unsigned char b : *bytes) v = (v << 8) | b;
    v &= 0x7FFFFFFFFFFFFFFFULL;
    return static_cast<int64_t>(v == 0 ? 1 : v);
}

constexpr const char* kTokenColumns =
    "id, kind, family, client_id, scope, me, created_at, expires_at, last_used_at, used_at";

// Reads a row selected with kTokenColumns; used_at goes to `used`.
TokenRecord read_token(const storage::Statement& q, std::optional<Timestamp>* used = nullptr) {
    TokenRecord r;
    r.id = q.integer(0);
    r.kind = q.text(1) == "refresh" ? TokenKind::refresh : TokenKind::access;
    r.family = q.optional_text(2) ? q.integer(2) : 0;
    r.client_id = q.text(3);
    r.scopes = split_scope(q.text(4));
    r.me = q.text(5);
    r.issued_at = parse_timestamp(q.text(6)).value_or(Timestamp{});
    r.expires_at = parse_timestamp(q.text(7)).value_or(Timestamp{});
    r.last_used_at = parse_timestamp(q.optional_text(8).value_or(""));
    if (used) *used = parse_timestamp(q.optional_text(9).value_or(""));
    return r;
}

Status delete_family_or_token(storage::Connection& c, const TokenRecord& r) {
    const bool family = r.kind == TokenKind::refresh && r.family != 0;
    auto del = c.prepare(family ? "DELETE FROM indieauth_tokens WHERE family = ?1"
                                : "DELETE FROM indieauth_tokens WHERE id = ?1");
    if (!del) return std::move(del).error();
    return (*del)->bind(1, family ? r.family : r.id).run();
}

}  // namespace

Result<TokenRecord> AuthorizationServer::insert_token(storage::Connection& c, std::string_view value, TokenKind kind,
                                                      int64_t family, const std::string& client_id,
                                                      const std::vector<std::string>& scopes, const std::string& me) {
    TokenRecord r;
    r.kind = kind;
    r.family = family;
    r.me = me;
    r.client_id = client_id;
    r.scopes = scopes;
    r.issued_at = clock_.now();
    r.expires_at = r.issued_at + (kind == TokenKind::refresh ? options_.refresh_lifetime : options_.token_lifetime);
    auto ins = c.prepare(
        "INSERT INTO indieauth_tokens (token_hash, client_id, scope, me, created_at, expires_at, kind, family) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!ins) return std::move(ins).error();
    (*ins)->bind(1, sha256_hex(value)).bind(2, r.client_id).bind(3, join_scopes(r.scopes)).bind(4, r.me);
    (*ins)->bind(5, format_db_time(r.issued_at)).bind(6, format_db_time(r.expires_at)).bind(7, kind_name(kind));
    if (family != 0) {
        (*ins)->bind(8, family);
    } else {
        (*ins)->bind_null(8);
    }
    if (auto st = (*ins)->run(); !st) return std::move(st).error();
    r.id = c.last_insert_rowid();
    return r;
}

Result<IssuedToken> AuthorizationServer::issue_on(storage::Connection& c, const std::string& client_id,
                                                  const std::vector<std::string>& scopes, const std::string& me,
                                                  int64_t family, bool refreshable) {
    IssuedToken out;
    auto access = new_secret();
    if (!access) return std::move(access).error();
    out.access_token = std::move(*access);
    auto rec = insert_token(c, out.access_token, TokenKind::access, family, client_id, scopes, me);
    if (!rec) return std::move(rec).error();
    out.record = std::move(*rec);
    if (!refreshable) return out;
    auto refresh = new_secret();
    if (!refresh) return std::move(refresh).error();
    out.refresh_token = std::move(*refresh);
    auto rrec = insert_token(c, out.refresh_token, TokenKind::refresh, family, client_id, scopes, me);
    if (!rrec) return std::move(rrec).error();
    out.refresh_record = std::move(*rrec);
    return out;
}

Result<IssuedToken> AuthorizationServer::issue_token(const Grant& g, bool refreshable) {
    int64_t family = 0;
    if (refreshable) {
        auto f = new_family();
        if (!f) return std::move(f).error();
        family = *f;
    }
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto& c = **lease;
    auto tx = storage::Transaction::begin(c);
    if (!tx) return std::move(tx).error();
    auto out = issue_on(c, g.client_id, g.scopes, g.me, family, refreshable);
    if (!out) return out;
    if (auto st = tx->commit(); !st) return std::move(st).error();
    return out;
}

Result<IssuedToken> AuthorizationServer::refresh(std::string_view refresh_token, std::string_view client_id,
                                                 const std::optional<std::vector<std::string>>& scopes) {
    constexpr const char* kUnknown = "The refresh token is invalid, expired or revoked.";
    if (!plausible_secret(refresh_token)) return refused(kUnknown);
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto& c = **lease;
    auto tx = storage::Transaction::begin(c);  // IMMEDIATE: one refresh of a family at a time
    if (!tx) return std::move(tx).error();
    auto q = c.prepare(std::string("SELECT ") + kTokenColumns + " FROM indieauth_tokens WHERE token_hash = ?1");
    if (!q) return std::move(q).error();
    (*q)->bind(1, sha256_hex(refresh_token));
    auto row = (*q)->step();
    if (!row) return std::move(row).error();
    if (!*row) return refused(kUnknown);
    std::optional<Timestamp> used;
    TokenRecord old = read_token(**q, &used);
    (*q)->reset();
    if (old.kind != TokenKind::refresh) return refused(kUnknown);  // invariant 7
    const Timestamp now = clock_.now();
    if (used) {  // invariant 8: a replay takes the family
        if (auto st = delete_family_or_token(c, old); !st) return std::move(st).error();
        if (auto st = tx->commit(); !st) return std::move(st).error();
        return refused(
            "This refresh token was already used. Every token of this authorization is revoked now; sign in again.");
    }
    if (now >= old.expires_at || old.me != options_.me) {
        if (auto st = delete_family_or_token(c, old); !st) return std::move(st).error();
        if (auto st = tx->commit(); !st) return std::move(st).error();
        return refused(kUnknown);
    }
    if (client_id != old.client_id) return refused("client_id does not match the one the refresh token was issued to.");
    std::vector<std::string> granted = old.scopes;
    if (scopes) {  // invariant 9
        for (const auto& s : *scopes) {
            if (std::find(old.scopes.begin(), old.scopes.end(), s) == old.scopes.end()) {
                return make_error(ErrorCode::unsupported,
                                  "The scope \"" + s + "\" is beyond what this refresh token was granted.");
            }
        }
        if (!scopes->empty()) granted = *scopes;
    }
    auto spend = c.prepare("UPDATE indieauth_tokens SET used_at = ?1, last_used_at = ?1 WHERE id = ?2");
    if (!spend) return std::move(spend).error();
    if (auto st = (*spend)->bind(1, format_db_time(now)).bind(2, old.id).run(); !st) return std::move(st).error();
    auto out = issue_on(c, old.client_id, granted, old.me, old.family, true);
    if (!out) return out;
    if (auto st = tx->commit(); !st) return std::move(st).error();
    return out;
}

Result<std::optional<TokenRecord>> AuthorizationServer::find_token(std::string_view token) {
    if (!plausible_secret(token)) return std::optional<TokenRecord>{};
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto& c = **lease;
    auto q = c.prepare(std::string("SELECT ") + kTokenColumns +
                       " FROM indieauth_tokens WHERE token_hash = ?1 AND kind = 'access'");
    if (!q) return std::move(q).error();
    (*q)->bind(1, sha256_hex(token));
    auto row = (*q)->step();
    if (!row) return std::move(row).error();
    if (!*row) return std::optional<TokenRecord>{};
    TokenRecord r = read_token(**q);
    (*q)->reset();
    const Timestamp now = clock_.now();
    if (r.issued_at == Timestamp{} || r.expires_at == Timestamp{} || now >= r.expires_at || r.me != options_.me) {
        auto del = c.prepare("DELETE FROM indieauth_tokens WHERE id = ?1");
        if (!del) return std::move(del).error();
        if (auto st = (*del)->bind(1, r.id).run(); !st) return std::move(st).error();
        return std::optional<TokenRecord>{};
    }
    if (!r.last_used_at || now - *r.last_used_at >= kTouchInterval) {
        auto touch = c.prepare("UPDATE indieauth_tokens SET last_used_at = ?1 WHERE id = ?2");
        if (!touch) return std::move(touch).error();
        if (auto st = (*touch)->bind(1, format_db_time(now)).bind(2, r.id).run(); !st) return std::move(st).error();
        r.last_used_at = now;
    }
    return std::optional<TokenRecord>{std::move(r)};
}

namespace {

// Deletes the token (a refresh token: its family) that `where` selects.
Result<bool> revoke_where(storage::Connection& c, const char* where, auto&& bind_value) {
    auto tx = storage::Transaction::begin(c);
    if (!tx) return std::move(tx).error();
    auto q = c.prepare(std::string("SELECT ") + kTokenColumns + " FROM indieauth_tokens WHERE " + where);
    if (!q) return std::move(q).error();
    bind_value(**q);
    auto row = (*q)->step();
    if (!row) return std::move(row).error();
    if (!*row) return false;
    TokenRecord r = read_token(**q);
    (*q)->reset();
    if (auto st = delete_family_or_token(c, r); !st) return std::move(st).error();
    if (auto st = tx->commit(); !st) return std::move(st).error();
    return true;
}

}  // namespace

Result<bool> AuthorizationServer::revoke(std::string_view token) {
    if (!plausible_secret(token)) return false;
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    const std::string hash = sha256_hex(token);
    return revoke_where(**lease, "token_hash = ?1", [&](storage::Statement& q) { q.bind(1, hash); });
}

Result<std::vector<TokenRecord>> AuthorizationServer::live_tokens(int limit) {
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto q = (*lease)->prepare(std::string("SELECT ") + kTokenColumns +
                               " FROM indieauth_tokens WHERE expires_at > ?1 AND me = ?2 AND used_at IS NULL "
                               "ORDER BY id DESC LIMIT ?3");
    if (!q) return std::move(q).error();
    (*q)->bind(1, format_db_time(clock_.now())).bind(2, options_.me).bind(3, int64_t{limit});
    std::vector<TokenRecord> out;
    auto rows = (*q)->each_row([&](const storage::Statement& r) { out.push_back(read_token(r)); });
    if (!rows) return std::move(rows).error();
    return out;
}

Result<bool> AuthorizationServer::revoke_id(int64_t id) {
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    return revoke_where(**lease, "id = ?1", [&](storage::Statement& q) { q.bind(1, id); });
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
