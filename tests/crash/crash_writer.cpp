// Crash-test writer (SPEC §2.3: "After any crash (kill -9 at any instant) and
// restart, there is never a row whose file is missing or whose hash does not
// match, and never a half-written file under a final name").
//
//   starpunk_crash_writer DATA_DIR SEED [--max-ops N]
//       Start up like the server (migrations, NotesService::recover()), then
//       create, update, soft-delete, restore and purge notes through
//       NotesService with the real file system until killed (or N ops).
//       Prints "op <n> <kind>" after each completed operation. Exits 4 if an
//       operation fails: no faults are injected, so a failure is a bug.
//
//   starpunk_crash_writer DATA_DIR --verify
//       Start-up repair and verification: migrations, recover(), check(),
//       PRAGMA integrity_check, and the search index against every note's file.
//       Prints each problem and a summary line
//         verify: notes=… bad=… orphans=… stale_tmp_removed=… settled=… index_mismatch=… integrity=…
//       Exit 1 when check() reports any problem other than
//       "orphan file (no database row)" (allowed by the protocol: a crash
//       between the file's rename and the row's insert), when the index
//       disagrees with a file, or when SQLite's integrity check fails; else 0.
//       Before the summary it prints the state of the step note (below):
//         state: row=0
//         state: row=1 deleted=0|1 published=0|1 content_hash=H pending=none|H file=<sha256 of the file>|missing tags=a,b
//       (timestamps left out: they differ between runs).
//
//   starpunk_crash_writer DATA_DIR --prepare OP
//   starpunk_crash_writer DATA_DIR --one OP
//       The deterministic campaign's halves (crash_steps.py). --prepare sets up
//       the data directory for OP with fixed content: nothing for create; the
//       step note (slug "crash-step", content A, draft, tag "alpha") for update
//       and delete; the step note soft-deleted for restore and purge. --one
//       starts up like the server, then performs exactly OP once on the step
//       note (create: content A as "crash-step"; update: content B, published,
//       tags "beta"; delete = soft delete; restore; purge), between two marker
//       calls access("/crash-step: begin") and access("/crash-step: end") that
//       bound the operation's system calls in an strace log, then prints
//       "done OP". Exit 4 if the operation fails.
//
// The drivers are crash_kill9.py and crash_steps.py beside this file.
#include <unistd.h>

#include <algorithm>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "notes/notes_service.hpp"
#include "storage/fs.hpp"
#include "storage/migrations.hpp"
#include "storage/pool.hpp"
#include "util/clock.hpp"
#include "util/crypto.hpp"

using namespace starpunk;

namespace {

struct Env {
    std::shared_ptr<storage::ConnectionPool> pool;
    std::unique_ptr<notes::NotesService> service;
};

int start(const std::string& data, Env& env) {
    const std::string db = data + "/starpunk.db";
    auto m = storage::run_migrations(db);
    if (!m) {
        std::fprintf(stderr, "migrations failed: %s\n", m.error().message.c_str());
        return 2;
    }
    storage::ConnectionPool::Options po;
    po.path = db;
    po.size = 2;
    auto pool = storage::ConnectionPool::open(po);
    if (!pool) {
        std::fprintf(stderr, "pool: %s\n", pool.error().message.c_str());
        return 2;
    }
    env.pool = *pool;
    env.service = std::make_unique<notes::NotesService>(env.pool, storage::posix_fs(), system_clock(),
                                                        notes::NotesService::Options{data + "/notes"});
    return 0;
}

void say(const std::string& line) {
    std::string l = line + "\n";
    (void)!::write(1, l.data(), l.size());  // unbuffered: the process may die any moment
}

// A random live or trashed note id, or 0.
int64_t pick(Env& env, bool trash, std::mt19937_64& rng) {
    auto lease = env.pool->acquire();
    if (!lease) return 0;
    auto stmt = (*lease)->prepare(trash ? "SELECT id FROM notes WHERE deleted_at IS NOT NULL ORDER BY id"
                                        : "SELECT id FROM notes WHERE deleted_at IS NULL ORDER BY id");
    if (!stmt) return 0;
    std::vector<int64_t> ids;
    while (true) {
        auto row = (*stmt)->step();
        if (!row || !*row) break;
        ids.push_back((*stmt)->integer(0));
    }
    (*stmt)->reset();
    if (ids.empty()) return 0;
    return ids[std::uniform_int_distribution<size_t>(0, ids.size() - 1)(rng)];
}

std::string content(std::mt19937_64& rng) {
    static const std::vector<std::string> words = {
        "note", "crash", "kill", "fsync", "rename", "Crème", "brûlée", "Привет", "мир", "你好", "IndieWeb",
        "micropub", "feed", "slug", "**bold**", "[link](https://example.com)", "# Heading", "-", "&", "🎉"};
    auto r = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    if (r(0, 30) == 0) return "🎉🚀✨";  // no slug characters: timestamp fallback
    std::string out;
    int n = r(1, 40);
    for (int i = 0; i < n; ++i) {
        out += words[static_cast<size_t>(r(0, static_cast<int>(words.size()) - 1))];
        out += (r(0, 8) == 0) ? "\n\n" : " ";
    }
    if (r(0, 4) == 0) out += std::string(static_cast<size_t>(r(1000, 200'000)), 'x');  // wider write windows
    out += "\nseq " + std::to_string(rng());
    return out;
}

int write_loop(const std::string& data, uint64_t seed, long max_ops) {
    Env env;
    if (int rc = start(data, env)) return rc;
    auto rec = env.service->recover();
    if (!rec) {
        std::fprintf(stderr, "recover failed: %s\n", rec.error().message.c_str());
        return 3;
    }
    say("started");
    std::mt19937_64 rng(seed);
    auto fail = [](const char* what, const Error& e) {
        std::fprintf(stderr, "%s failed: %s\n", what, e.message.c_str());
        return 4;
    };
    for (long op = 1; max_ops < 0 || op <= max_ops; ++op) {
        int dice = std::uniform_int_distribution<int>(0, 99)(rng);
        std::string kind;
        if (dice < 55) {
            notes::NewNote n;
            n.content = content(rng);
            n.published = dice % 5 != 0;
            if (dice % 4 == 0) {
                static const char* slugs[] = {"crash-test", "Hello World", "admin", "x"};
                n.custom_slug = slugs[std::uniform_int_distribution<int>(0, 3)(rng)];
            }
            auto r = env.service->create(n);
            if (!r) return fail("create", r.error());
            kind = "create " + r->slug;
        } else if (dice < 80) {
            int64_t id = pick(env, false, rng);
            if (id == 0) continue;
            notes::NoteChange change;
            if (dice % 5 != 0) change.content = content(rng);
            if (dice % 3 == 0) change.published = dice % 2 == 0;
            auto r = env.service->update(id, change);
            if (!r) return fail("update", r.error());
            kind = "update " + std::to_string(id);
        } else if (dice < 90) {
            int64_t id = pick(env, false, rng);
            if (id == 0) continue;
            auto r = env.service->soft_delete(id);
            if (!r) return fail("soft_delete", r.error());
            kind = "delete " + std::to_string(id);
        } else if (dice < 94) {
            int64_t id = pick(env, true, rng);
            if (id == 0) continue;
            auto r = env.service->restore(id);
            if (!r) return fail("restore", r.error());
            kind = "restore " + std::to_string(id);
        } else {
            int64_t id = pick(env, true, rng);
            if (id == 0) continue;
            auto r = env.service->purge(id);
            if (!r) return fail("purge", r.error());
            kind = "purge " + std::to_string(id);
        }
        say("op " + std::to_string(op) + " " + kind);
    }
    return 0;
}

constexpr const char* kStepSlug = "crash-step";
constexpr const char* kStepContentA = "Crash step note, **content A**.\n\nThe state before an update.\n";
constexpr const char* kStepContentB =
    "Crash step note, content B: the update's new text, longer than A so the file grows.\n\n"
    "Second paragraph of B.\n";

// The step note's state as one line (see the header comment).
std::string step_state(Env& env) {
    auto n = env.service->get_by_slug(kStepSlug);
    if (!n) return n.error().code == ErrorCode::not_found ? "row=0" : "row=? error=" + n.error().message;
    std::string file = "missing";
    if (auto abs = env.service->absolute_path(*n)) {
        if (auto bytes = storage::posix_fs().read_file(*abs)) file = sha256_hex(*bytes);
    }
    std::vector<std::string> names;
    if (auto tags = env.service->tags_of(n->id)) {
        for (const auto& t : *tags) names.push_back(t.name);
    } else {
        names.push_back("?error");
    }
    std::sort(names.begin(), names.end());
    std::string tags;
    for (const auto& t : names) tags += (tags.empty() ? "" : ",") + t;
    return "row=1 deleted=" + std::string(n->is_deleted() ? "1" : "0") + " published=" + (n->published ? "1" : "0") +
           " content_hash=" + n->content_hash + " pending=" + n->pending_hash.value_or("none") + " file=" + file +
           " tags=" + (tags.empty() ? "-" : tags);
}

bool known_op(const std::string& op) {
    return op == "create" || op == "update" || op == "delete" || op == "restore" || op == "purge";
}

int prepare(const std::string& data, const std::string& op) {
    Env env;
    if (int rc = start(data, env)) return rc;
    if (op == "create") return 0;
    notes::NewNote n;
    n.content = kStepContentA;
    n.custom_slug = kStepSlug;
    n.slug_policy = notes::CustomSlugPolicy::reject;
    n.published = false;
    n.tags = {"alpha"};
    auto created = env.service->create(n);
    if (!created) {
        std::fprintf(stderr, "prepare: create failed: %s\n", created.error().message.c_str());
        return 4;
    }
    if (op == "restore" || op == "purge") {
        if (auto d = env.service->soft_delete(created->id); !d) {
            std::fprintf(stderr, "prepare: soft_delete failed: %s\n", d.error().message.c_str());
            return 4;
        }
    }
    return 0;
}

int one(const std::string& data, const std::string& op) {
    Env env;
    if (int rc = start(data, env)) return rc;
    if (auto rec = env.service->recover(); !rec) {
        std::fprintf(stderr, "recover failed: %s\n", rec.error().message.c_str());
        return 3;
    }
    int64_t id = 0;
    if (op != "create") {
        auto n = env.service->get_by_slug(kStepSlug);
        if (!n) {
            std::fprintf(stderr, "no step note (run --prepare %s first): %s\n", op.c_str(), n.error().message.c_str());
            return 3;
        }
        id = n->id;
    }
    // The markers bound the operation in an strace log; their result does not matter.
    (void)::access("/crash-step: begin", F_OK);
    std::optional<Error> failed;
    if (op == "create") {
        notes::NewNote n;
        n.content = kStepContentA;
        n.custom_slug = kStepSlug;
        n.slug_policy = notes::CustomSlugPolicy::reject;
        n.published = false;
        n.tags = {"alpha"};
        if (auto r = env.service->create(n); !r) failed = r.error();
    } else if (op == "update") {
        notes::NoteChange change;
        change.content = kStepContentB;
        change.published = true;
        change.tags = std::vector<std::string>{"beta"};
        if (auto r = env.service->update(id, change); !r) failed = r.error();
    } else if (op == "delete") {
        if (auto r = env.service->soft_delete(id); !r) failed = r.error();
    } else if (op == "restore") {
        if (auto r = env.service->restore(id); !r) failed = r.error();
    } else {
        if (auto r = env.service->purge(id); !r) failed = r.error();
    }
    (void)::access("/crash-step: end", F_OK);
    if (failed) {
        std::fprintf(stderr, "%s failed: %s\n", op.c_str(), failed->message.c_str());
        return 4;
    }
    say("done " + op);
    return 0;
}

int verify(const std::string& data) {
    Env env;
    if (int rc = start(data, env)) return rc;
    auto rec = env.service->recover();
    if (!rec) {
        std::printf("PROBLEM recover failed: %s\n", rec.error().message.c_str());
        std::printf("verify: notes=? bad=1 orphans=? stale_tmp_removed=? settled=? index_mismatch=? integrity=?\n");
        return 1;
    }
    auto report = env.service->check();
    if (!report) {
        std::printf("PROBLEM check failed: %s\n", report.error().message.c_str());
        return 1;
    }
    long bad = 0, orphans = 0;
    for (const auto& p : report->problems) {
        if (p.problem == "orphan file (no database row)") {
            ++orphans;
            continue;
        }
        ++bad;
        std::printf("PROBLEM note=%s file=%s: %s\n", p.slug.c_str(), p.file_path.c_str(), p.problem.c_str());
    }

    auto lease = env.pool->acquire();
    if (!lease) return 1;
    std::string integrity;
    {
        auto stmt = (*lease)->prepare("PRAGMA integrity_check");
        if (!stmt) return 1;
        while (true) {
            auto row = (*stmt)->step();
            if (!row || !*row) break;
            if (!integrity.empty()) integrity += "; ";
            integrity += (*stmt)->text(0);
        }
        (*stmt)->reset();
    }
    if (integrity != "ok") std::printf("PROBLEM integrity_check: %s\n", integrity.c_str());

    // The search index says what the files say (kept in step on create/update,
    // settled by recover()).
    long index_mismatch = 0;
    if (storage::fts5_available()) {
        auto stmt = (*lease)->prepare(
            "SELECT n.id, n.slug, n.file_path, n.content_hash, f.content FROM notes n "
            "LEFT JOIN notes_fts f ON f.rowid = n.id ORDER BY n.id");
        if (!stmt) return 1;
        struct Row {
            notes::Note note;
            std::optional<std::string> indexed;
        };
        std::vector<Row> rows;
        while (true) {
            auto row = (*stmt)->step();
            if (!row || !*row) break;
            Row r;
            r.note.id = (*stmt)->integer(0);
            r.note.slug = (*stmt)->text(1);
            r.note.file_path = (*stmt)->text(2);
            r.note.content_hash = (*stmt)->text(3);
            r.indexed = (*stmt)->optional_text(4);
            rows.push_back(std::move(r));
        }
        (*stmt)->reset();
        for (const auto& r : rows) {
            auto c = env.service->read_content(r.note);
            if (!c) continue;  // already counted by check()
            if (!r.indexed || *r.indexed != *c) {
                ++index_mismatch;
                std::printf("PROBLEM note=%s: search index %s\n", r.note.slug.c_str(),
                            r.indexed ? "holds other content than the file" : "has no entry");
            }
        }
        auto extra = (*lease)->prepare("SELECT COUNT(*) FROM notes_fts WHERE rowid NOT IN (SELECT id FROM notes)");
        if (extra && *(*extra)->step() && (*extra)->integer(0) > 0) {
            index_mismatch += (*extra)->integer(0);
            std::printf("PROBLEM search index has %lld entries without a note\n",
                        static_cast<long long>((*extra)->integer(0)));
        }
        if (extra) (*extra)->reset();
    }

    std::printf("state: %s\n", step_state(env).c_str());
    std::printf("verify: notes=%lld bad=%ld orphans=%ld stale_tmp_removed=%d settled=%d index_mismatch=%ld integrity=%s\n",
                static_cast<long long>(report->notes_checked), bad, orphans, rec->stale_temp_files_removed,
                rec->pending_updates_settled, index_mismatch, integrity == "ok" ? "ok" : "FAILED");
    return (bad > 0 || index_mismatch > 0 || integrity != "ok") ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr,
                     "usage: %s DATA_DIR SEED [--max-ops N] | DATA_DIR --verify | DATA_DIR --prepare|--one "
                     "create|update|delete|restore|purge\n",
                     argv[0]);
        return 2;
    }
    const std::string data = argv[1];
    const std::string second = argv[2];
    if (second == "--verify") return verify(data);
    if (second == "--prepare" || second == "--one") {
        const std::string op = argc >= 4 ? argv[3] : "";
        if (!known_op(op)) {
            std::fprintf(stderr, "%s needs an operation: create, update, delete, restore or purge\n", second.c_str());
            return 2;
        }
        return second == "--prepare" ? prepare(data, op) : one(data, op);
    }
    long max_ops = -1;
    if (argc >= 5 && std::string(argv[3]) == "--max-ops") max_ops = std::atol(argv[4]);
    return write_loop(data, std::strtoull(second.c_str(), nullptr, 10), max_ops);
}
