#include "storage/migrations.hpp"

#include <fmt/format.h>

#include <random>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "util/clock.hpp"

namespace starpunk::storage {

namespace {

Status add_column_if_missing(Connection& c, std::string_view table, std::string_view column, std::string_view decl) {
    auto has = column_exists(c, table, column);
    if (!has) return std::move(has).error();
    if (*has) return {};
    return c.exec(fmt::format("ALTER TABLE {} ADD COLUMN {} {}", table, column, decl));
}

Status initial_schema(Connection& c) {
    auto st = c.exec(R"sql(
        CREATE TABLE IF NOT EXISTS notes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            slug TEXT UNIQUE NOT NULL,
            file_path TEXT UNIQUE NOT NULL,
            published BOOLEAN DEFAULT 0,
            created_at TIMESTAMP NOT NULL,
            updated_at TIMESTAMP NOT NULL,
            deleted_at TIMESTAMP NULL,
            content_hash TEXT
        );
        CREATE INDEX IF NOT EXISTS idx_notes_created_at ON notes(created_at DESC);
        CREATE INDEX IF NOT EXISTS idx_notes_published ON notes(published);
        CREATE INDEX IF NOT EXISTS idx_notes_slug ON notes(slug);
        CREATE INDEX IF NOT EXISTS idx_notes_deleted_at ON notes(deleted_at);
        CREATE TABLE IF NOT EXISTS sessions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            session_token_hash TEXT UNIQUE NOT NULL,
            me TEXT NOT NULL,
            created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
            expires_at TIMESTAMP NOT NULL,
            last_used_at TIMESTAMP,
            user_agent TEXT,
            ip_address TEXT
        );
        CREATE INDEX IF NOT EXISTS idx_sessions_token_hash ON sessions(session_token_hash);
        CREATE INDEX IF NOT EXISTS idx_sessions_expires ON sessions(expires_at);
        CREATE TABLE IF NOT EXISTS auth_state (
            state TEXT PRIMARY KEY,
            created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
            expires_at TIMESTAMP NOT NULL,
            redirect_uri TEXT
        );
        CREATE INDEX IF NOT EXISTS idx_auth_state_expires ON auth_state(expires_at);
    )sql");
    if (!st) return st;
    // Older 1.x databases predate these columns.
    if (st = add_column_if_missing(c, "auth_state", "code_verifier", "TEXT"); !st) return st;
    if (st = add_column_if_missing(c, "notes", "content_hash", "TEXT"); !st) return st;
    if (st = add_column_if_missing(c, "notes", "deleted_at", "TIMESTAMP NULL"); !st) return st;
    return {};
}

Status notes_fts(Connection& c) {
    if (!fts5_available()) return {};  // search falls back to scanning files
    return c.exec(R"sql(
        CREATE VIRTUAL TABLE IF NOT EXISTS notes_fts USING fts5(
            slug UNINDEXED, title, content, tokenize='porter unicode61 remove_diacritics 2');
        CREATE TRIGGER IF NOT EXISTS notes_fts_delete AFTER DELETE ON notes BEGIN
            DELETE FROM notes_fts WHERE rowid = old.id;
        END;
    )sql");
}

// The hash an update is about to write; see notes/notes_service.cpp (write protocol).
Status notes_pending_hash(Connection& c) { return add_column_if_missing(c, "notes", "pending_hash", "TEXT NULL"); }

// The rest of an announced update (JSON: flag, tags, summary, photos, dates),
// recorded with pending_hash so that settling a replaced file finishes the
// whole change; see notes/notes_service.cpp (write protocol).
Status notes_pending_change(Connection& c) {
    return add_column_if_missing(c, "notes", "pending_change", "TEXT NULL");
}

// A note's tags in their order (NotesService::tags_of, and the summary below
// that triggers rebuild on every change of a note's tags): walked in this
// index's order instead of sorted in a temporary B-tree each time.
Status note_tags_order(Connection& c) {
    return c.exec("CREATE INDEX IF NOT EXISTS idx_note_tags_order ON note_tags(note_id, position)");
}

// A note's tags, packed in their order ("name US display", RS between tags;
// notes/rendered_store.cpp unpacks them), and whether it has photos, kept on
// the note's row so a page reads one row instead of walking note_tags, tags
// and note_photos (four B-tree descents, ~10 % of a permalink built off the
// page cache). Triggers keep both equal to the tables they summarise whoever
// writes them (notes/, an import, a hand-written SQL statement); the
// migration fills them for the notes that exist.
constexpr std::string_view kPackedTagsOf = R"sql(
    (SELECT group_concat(t.name || char(31) || t.display_name, char(30)) FROM
        (SELECT tg.name, tg.display_name FROM note_tags nt JOIN tags tg ON tg.id = nt.tag_id
         WHERE nt.note_id = {0} ORDER BY nt.position) t))sql";
constexpr std::string_view kHasPhotos = "EXISTS (SELECT 1 FROM note_photos p WHERE p.note_id = {0})";

Status notes_tags_and_photos_summary(Connection& c) {
    if (auto st = add_column_if_missing(c, "notes", "tag_list", "TEXT NULL"); !st) return st;
    if (auto st = add_column_if_missing(c, "notes", "has_photos", "INTEGER NOT NULL DEFAULT 0"); !st) return st;
    const auto tags = [](std::string_view note) { return fmt::format(fmt::runtime(kPackedTagsOf), note); };
    const auto photos = [](std::string_view note) { return fmt::format(fmt::runtime(kHasPhotos), note); };
    return c.exec(fmt::format(R"sql(
        UPDATE notes SET tag_list = {0}, has_photos = {1};
        CREATE TRIGGER IF NOT EXISTS note_tags_summary_insert AFTER INSERT ON note_tags BEGIN
            UPDATE notes SET tag_list = {2} WHERE id = new.note_id;
        END;
        CREATE TRIGGER IF NOT EXISTS note_tags_summary_delete AFTER DELETE ON note_tags BEGIN
            UPDATE notes SET tag_list = {3} WHERE id = old.note_id;
        END;
        CREATE TRIGGER IF NOT EXISTS note_tags_summary_update AFTER UPDATE ON note_tags BEGIN
            UPDATE notes SET tag_list = {3} WHERE id = old.note_id;
            UPDATE notes SET tag_list = {2} WHERE id = new.note_id;
        END;
        CREATE TRIGGER IF NOT EXISTS tags_summary_update AFTER UPDATE OF name, display_name ON tags BEGIN
            UPDATE notes SET tag_list = {0} WHERE id IN (SELECT note_id FROM note_tags WHERE tag_id = new.id);
        END;
        CREATE TRIGGER IF NOT EXISTS note_photos_summary_insert AFTER INSERT ON note_photos BEGIN
            UPDATE notes SET has_photos = 1 WHERE id = new.note_id;
        END;
        CREATE TRIGGER IF NOT EXISTS note_photos_summary_delete AFTER DELETE ON note_photos BEGIN
            UPDATE notes SET has_photos = {4} WHERE id = old.note_id;
        END;
        CREATE TRIGGER IF NOT EXISTS note_photos_summary_update AFTER UPDATE OF note_id ON note_photos BEGIN
            UPDATE notes SET has_photos = {4} WHERE id = old.note_id;
            UPDATE notes SET has_photos = 1 WHERE id = new.note_id;
        END;
    )sql",
                              tags("notes.id"), photos("notes.id"), tags("new.note_id"), tags("old.note_id"),
                              photos("old.note_id")));
}

// StarPunk 1.x wrote timestamps in several textual forms ("… 09:00:00.000000",
// "…T08:00:00", "+00:00" suffixes); lists sort on the text, so bring them all
// to the one storage form (util/clock.hpp). Unparseable values are left alone.
Status normalise_timestamps(Connection& c) {
    for (std::string_view column : {"created_at", "updated_at", "deleted_at"}) {
        std::vector<std::pair<int64_t, std::string>> changes;
        auto q = c.prepare(fmt::format("SELECT id, {0} FROM notes WHERE {0} IS NOT NULL", column));
        if (!q) return std::move(q).error();
        auto rows = (*q)->each_row([&](const storage::Statement& r) {
            std::string text = r.text(1);
            if (auto t = parse_timestamp(text)) {
                std::string normal = format_db_time(*t);
                if (normal != text) changes.emplace_back(r.integer(0), std::move(normal));
            }
        });
        if (!rows) return std::move(rows).error();
        auto upd = c.prepare(fmt::format("UPDATE notes SET {} = ?2 WHERE id = ?1", column));
        if (!upd) return std::move(upd).error();
        for (const auto& [id, value] : changes) {
            if (auto st = (*upd)->bind(1, id).bind(2, value).run(); !st) return st;
        }
    }
    return {};
}

// How a session was made ('indieauth' or 'dev'), so a session ends when the
// configuration that allowed it changes (auth/sessions.hpp, invariant 6).
// Sessions made before have none and are refused when presented: the admin
// logs in once more after the upgrade.
Status sessions_login_method(Connection& c) {
    return add_column_if_missing(c, "sessions", "login_method", "TEXT NULL");
}

// Categories as tags (notes/note_tags.hpp): one row per tag (its normalised
// name, unique, and the spelling first written), one row per note and tag.
// Purging a note drops its links; a tag without notes stays (harmless, and
// reused if the tag comes back).
Status note_tags(Connection& c) {
    return c.exec(R"sql(
        CREATE TABLE IF NOT EXISTS tags (
            id INTEGER PRIMARY KEY,
            name TEXT UNIQUE NOT NULL,
            display_name TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS note_tags (
            note_id INTEGER NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
            tag_id INTEGER NOT NULL REFERENCES tags(id),
            position INTEGER NOT NULL,
            PRIMARY KEY (note_id, tag_id)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS idx_note_tags_tag ON note_tags(tag_id, note_id);
    )sql");
}

// A post's summary, when a Micropub client sends one beside its content
// (micropub/post_model.hpp); NULL for every other note.
Status notes_summary(Connection& c) { return add_column_if_missing(c, "notes", "summary", "TEXT NULL"); }

// The owner's password (auth/password.hpp): one row at most, the Argon2id
// encoded hash only.
Status owner_password(Connection& c) {
    return c.exec(R"sql(
        CREATE TABLE IF NOT EXISTS owner_password (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            password_hash TEXT NOT NULL,
            updated_at TIMESTAMP NOT NULL
        );
    )sql");
}

// Each note's rendered HTML, title and excerpt (notes/rendered_store.hpp): a
// derived copy, valid only while content_hash and format match the note's, so
// readers never run Markdown. Dropped with the note's row (trigger, like FTS).
Status note_html(Connection& c) {
    return c.exec(R"sql(
        CREATE TABLE IF NOT EXISTS note_html (
            note_id INTEGER PRIMARY KEY,
            content_hash TEXT NOT NULL,
            format INTEGER NOT NULL,
            title TEXT NOT NULL,
            name TEXT NULL,
            excerpt TEXT NOT NULL,
            html TEXT NOT NULL
        );
        CREATE TRIGGER IF NOT EXISTS note_html_purge AFTER DELETE ON notes BEGIN
            DELETE FROM note_html WHERE note_id = old.id;
        END;
    )sql");
}

// The built-in IndieAuth server (indieauth/authorization_server.hpp): codes
// and access tokens, each stored only as the SHA-256 of its value.
Status indieauth_server(Connection& c) {
    return c.exec(R"sql(
        CREATE TABLE IF NOT EXISTS indieauth_codes (
            code_hash TEXT PRIMARY KEY,
            client_id TEXT NOT NULL,
            redirect_uri TEXT NOT NULL,
            code_challenge TEXT NOT NULL,
            scope TEXT NOT NULL,
            me TEXT NOT NULL,
            created_at TIMESTAMP NOT NULL,
            expires_at TIMESTAMP NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS indieauth_tokens (
            id INTEGER PRIMARY KEY,
            token_hash TEXT UNIQUE NOT NULL,
            client_id TEXT NOT NULL,
            scope TEXT NOT NULL,
            me TEXT NOT NULL,
            created_at TIMESTAMP NOT NULL,
            expires_at TIMESTAMP NOT NULL,
            last_used_at TIMESTAMP NULL
        );
        CREATE INDEX IF NOT EXISTS idx_indieauth_tokens_expires ON indieauth_tokens(expires_at);
    )sql");
}

// Issue 13, continued (the name says what is in it). Refresh tokens live in indieauth_tokens beside the
// access tokens (kind = 'refresh', stored hashed like them); every token issued
// from one authorization shares a random `family`, so a replayed refresh token
// or its revocation takes the whole family; `used_at` marks a refresh token
// already rotated (kept until it expires, to recognise a replay). Tokens
// issued before this migration have kind 'access' and no family.
Status refresh_tokens_totp_login_next(Connection& c) {
    if (auto st = add_column_if_missing(c, "indieauth_tokens", "kind", "TEXT NOT NULL DEFAULT 'access'"); !st) return st;
    if (auto st = add_column_if_missing(c, "indieauth_tokens", "family", "INTEGER NULL"); !st) return st;
    if (auto st = add_column_if_missing(c, "indieauth_tokens", "used_at", "TIMESTAMP NULL"); !st) return st;
    if (auto st = c.exec("CREATE INDEX IF NOT EXISTS idx_indieauth_tokens_family ON indieauth_tokens(family)"); !st)
        return st;
    // Where a login through an outside IndieAuth server continues afterwards
    // (auth/indieauth.hpp invariant 6): a pending authorization request.
    if (auto st = add_column_if_missing(c, "auth_state", "after_login", "TEXT NULL"); !st) return st;
    // TOTP as the password login's second factor (auth/totp.hpp): one row at
    // most, the base32 secret and the last step a code was accepted for.
    return c.exec(R"sql(
        CREATE TABLE IF NOT EXISTS owner_totp (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            secret TEXT NOT NULL,
            last_step INTEGER NOT NULL DEFAULT -1,
            updated_at TIMESTAMP NOT NULL
        );
    )sql");
}

// Photos (issue 14). `media`: one row per stored image, named by the SHA-256
// of its stored (re-encoded) bytes; `path` is relative to DATA_PATH/media.
// `media_variants`: its narrower copies (srcset). `note_photos`: a note's
// photos in order — an uploaded image (media_id set, url its site path) or a
// URL given by a Micropub client (media_id NULL) — with alt text.
Status media_tables(Connection& c) {
    return c.exec(R"sql(
        CREATE TABLE IF NOT EXISTS media (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            hash TEXT UNIQUE NOT NULL,
            path TEXT UNIQUE NOT NULL,
            type TEXT NOT NULL,
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            bytes INTEGER NOT NULL,
            created_at TIMESTAMP NOT NULL
        );
        CREATE TABLE IF NOT EXISTS media_variants (
            media_id INTEGER NOT NULL REFERENCES media(id) ON DELETE CASCADE,
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            path TEXT UNIQUE NOT NULL,
            hash TEXT NOT NULL,
            bytes INTEGER NOT NULL,
            PRIMARY KEY (media_id, width)
        );
    )sql");
}

// A note's photos, in order (notes/note_photos.hpp; owned by notes/): either
// an image stored by media/ (media_id set; url is its site path
// "/media/YYYY/MM/<hash>.<ext>") or a URL a Micropub client gave (media_id
// NULL; an absolute http(s) URL, never fetched), each with its alt text.
// Purging a note drops its photo rows; a media row in use cannot be deleted.
Status note_photos(Connection& c) {
    return c.exec(R"sql(
        CREATE TABLE IF NOT EXISTS note_photos (
            note_id INTEGER NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            media_id INTEGER NULL REFERENCES media(id),
            url TEXT NOT NULL,
            alt TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (note_id, position)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS idx_note_photos_media ON note_photos(media_id) WHERE media_id IS NOT NULL;
    )sql");
}

bool is_busy(const Error& e) {
    return e.message.find("(sqlite 5)") != std::string::npos || e.message.find("database is locked") != std::string::npos;
}

Result<MigrationReport> try_once(const std::string& path, const MigrationOptions& options) {
    auto conn = Connection::open(path, {options.busy_timeout_seconds});
    if (!conn) return std::move(conn).error();
    Connection& c = **conn;
    auto tx = Transaction::begin(c);
    if (!tx) return std::move(tx).error();
    auto st = c.exec(R"sql(
        CREATE TABLE IF NOT EXISTS schema_migrations (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            migration_name TEXT UNIQUE NOT NULL,
            applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
        ))sql");
    if (!st) return std::move(st).error();
    std::set<std::string> done;
    {
        auto q = c.prepare("SELECT migration_name FROM schema_migrations");
        if (!q) return std::move(q).error();
        auto rows = (*q)->each_row([&](const storage::Statement& r) { done.insert(r.text(0)); });
        if (!rows) return std::move(rows).error();
    }
    MigrationReport report;
    for (const auto& m : migrations()) {
        if (done.contains(m.name)) continue;
        if (st = c.exec("SAVEPOINT migration"); !st) return std::move(st).error();
        st = m.apply(c);
        if (st) {
            auto ins = c.prepare("INSERT INTO schema_migrations (migration_name) VALUES (?1)");
            if (!ins) return std::move(ins).error();
            st = (*ins)->bind(1, m.name).run();
        }
        if (!st) {
            (void)c.exec("ROLLBACK TO migration");
            return make_error(st.error().code,
                              fmt::format("migration {} failed: {}. Nothing was changed; restore from a backup or "
                                          "report this with the message above.",
                                          m.name, st.error().message));
        }
        if (st = c.exec("RELEASE migration"); !st) return std::move(st).error();
        report.applied.push_back(m.name);
    }
    if (auto committed = tx->commit(); !committed) return std::move(committed).error();
    return report;
}

}  // namespace

const std::vector<Migration>& migrations() {
    static const std::vector<Migration> list = {
        {"001_initial_schema", initial_schema},
        {"002_notes_fts", notes_fts},
        {"003_notes_pending_hash", notes_pending_hash},
        {"004_normalise_timestamps", normalise_timestamps},
        {"005_sessions_login_method", sessions_login_method},
        {"006_note_tags", note_tags},
        {"007_notes_summary", notes_summary},
        {"008_owner_password", owner_password},
        {"009_indieauth_server", indieauth_server},
        {"010_media", media_tables},
        {"011_refresh_tokens_totp_login_next", refresh_tokens_totp_login_next},
        {"012_note_html", note_html},
        {"013_note_photos", note_photos},
        {"014_notes_pending_change", notes_pending_change},
        {"015_note_tags_order", note_tags_order},
        {"016_notes_tags_and_photos_summary", notes_tags_and_photos_summary},
    };
    return list;
}

bool fts5_available() {
    static const bool available = [] {
        auto conn = Connection::open(":memory:", {});
        if (!conn) return false;
        return (*conn)->exec("CREATE VIRTUAL TABLE t USING fts5(x)").ok();
    }();
    return available;
}

Result<MigrationReport> run_migrations(const std::string& database_path, const MigrationOptions& options) {
    thread_local std::mt19937 rng{std::random_device{}()};
    auto delay = options.first_delay;
    std::chrono::milliseconds waited{0};
    for (int attempt = 1;; ++attempt) {
        auto r = try_once(database_path, options);
        if (r) {
            r->attempts = attempt;
            return r;
        }
        if (!is_busy(r.error()) || attempt >= options.attempts || waited >= options.max_total_wait) {
            return std::move(r).error();
        }
        // Exponential backoff with full jitter: sleep in [delay/2, delay].
        std::uniform_int_distribution<long> jitter(delay.count() / 2, delay.count());
        auto sleep_for = std::chrono::milliseconds(jitter(rng));
        std::this_thread::sleep_for(sleep_for);
        waited += sleep_for;
        delay = std::min(delay * 2, options.max_total_wait);
    }
}

}  // namespace starpunk::storage
