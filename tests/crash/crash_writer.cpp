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
//
// The driver is crash_kill9.py beside this file.
#include <unistd.h>

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

    std::printf("verify: notes=%lld bad=%ld orphans=%ld stale_tmp_removed=%d settled=%d index_mismatch=%ld integrity=%s\n",
                static_cast<long long>(report->notes_checked), bad, orphans, rec->stale_temp_files_removed,
                rec->pending_updates_settled, index_mismatch, integrity == "ok" ? "ok" : "FAILED");
    return (bad > 0 || index_mismatch > 0 || integrity != "ok") ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s DATA_DIR SEED [--max-ops N] | %s DATA_DIR --verify\n", argv[0], argv[0]);
        return 2;
    }
    const std::string data = argv[1];
    const std::string second = argv[2];
    if (second == "--verify") return verify(data);
    long max_ops = -1;
    if (argc >= 5 && std::string(argv[3]) == "--max-ops") max_ops = std::atol(argv[4]);
    return write_loop(data, std::strtoull(second.c_str(), nullptr, 10), max_ops);
}
