// Storage benchmark (issue 3): durable create latency and throughput, and the
// cost of start-up recovery and `check` on a large corpus.
//
//   storage_bench create <dir> <count>     durable creates through NotesService
//   storage_bench populate <dir> <count>   bulk-generate a corpus (same layout
//                                          and rows, no per-note fsync: setup only)
//   storage_bench recover <dir>            time NotesService::recover()
//   storage_bench check <dir>              time NotesService::check()
// Prints one "name value unit" line per figure; bench/storage/run.sh drives it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "notes/notes_service.hpp"
#include "storage/fs.hpp"
#include "storage/migrations.hpp"
#include "util/crypto.hpp"

using namespace starpunk;
using Steady = std::chrono::steady_clock;

namespace {

struct Env {
    std::shared_ptr<storage::ConnectionPool> pool;
    std::unique_ptr<notes::NotesService> notes;
};

Env open(const std::string& dir) {
    auto& fs = storage::posix_fs();
    (void)fs.create_dirs(dir + "/notes");
    auto m = storage::run_migrations(dir + "/starpunk.db");
    if (!m) throw std::runtime_error(m.error().message);
    auto pool = storage::ConnectionPool::open({dir + "/starpunk.db", 2, 10.0, {}});
    if (!pool) throw std::runtime_error(pool.error().message);
    Env e{*pool, nullptr};
    e.notes = std::make_unique<notes::NotesService>(e.pool, fs, system_clock(),
                                                    notes::NotesService::Options{dir + "/notes", 1 << 20});
    return e;
}

std::string body(int i) {
    return "Note number " + std::to_string(i) +
           " about benchmarks, storage and the durability of small text files.\n\nSecond paragraph with a few "
           "more words so the file is a realistic size for a short note.";
}

double ms(Steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * static_cast<double>(v.size())))];
}

int create(const std::string& dir, int count) {
    Env e = open(dir);
    std::vector<double> lat;
    auto start = Steady::now();
    for (int i = 0; i < count; ++i) {
        auto t0 = Steady::now();
        auto r = e.notes->create({body(i), "", true, std::nullopt, notes::CustomSlugPolicy::fall_back});
        if (!r) {
            std::fprintf(stderr, "create failed: %s\n", r.error().message.c_str());
            return 1;
        }
        lat.push_back(ms(Steady::now() - t0));
    }
    double total = ms(Steady::now() - start);
    std::printf("create_p50 %.3f ms\ncreate_p99 %.3f ms\ncreate_max %.3f ms\ncreate_throughput %.1f notes/s\n",
                percentile(lat, 50), percentile(lat, 99), percentile(lat, 100), count / (total / 1000.0));
    return 0;
}

int populate(const std::string& dir, int count) {
    Env e = open(dir);
    auto lease = e.pool->acquire();
    storage::Connection& c = **lease;
    (void)c.exec("BEGIN");
    auto ins = c.prepare(
        "INSERT INTO notes (slug, file_path, published, created_at, updated_at, content_hash) VALUES (?1,?2,1,?3,?3,?4)");
    auto fts = c.prepare("INSERT INTO notes_fts (rowid, slug, title, content) VALUES (last_insert_rowid(), ?1, ?2, ?3)");
    auto base = system_clock().now() - std::chrono::hours(24 * 365 * 3);
    for (int i = 0; i < count; ++i) {
        Timestamp t = base + std::chrono::minutes(15) * i;
        std::string slug = "bulk-note-" + std::to_string(i);
        std::string content = body(i);
        auto ymd = std::chrono::year_month_day{std::chrono::floor<std::chrono::days>(t)};
        char rel[64];
        std::snprintf(rel, sizeof rel, "%04d/%02u/", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()));
        std::string path = std::string(rel) + slug + ".md";
        std::string abs = dir + "/notes/" + path;
        (void)storage::posix_fs().create_dirs(storage::parent_dir(abs));
        auto f = storage::posix_fs().create_file(abs);
        (void)(*f)->append(content);
        (void)(*f)->close();
        (void)(*ins)->bind(1, slug).bind(2, path).bind(3, format_db_time(t)).bind(4, sha256_hex(content)).run();
        if (storage::fts5_available()) (void)(*fts)->bind(1, slug).bind(2, "Note").bind(3, content).run();
    }
    (void)c.exec("COMMIT");
    std::printf("populated %d notes\n", count);
    return 0;
}

int timed(const std::string& dir, bool check) {
    auto t0 = Steady::now();
    Env e = open(dir);
    double open_ms = ms(Steady::now() - t0);
    auto t1 = Steady::now();
    if (check) {
        auto r = e.notes->check();
        if (!r) return 1;
        std::printf("check_notes %lld\ncheck_problems %zu\ncheck_time %.1f ms\n", static_cast<long long>(r->notes_checked),
                    r->problems.size(), ms(Steady::now() - t1));
    } else {
        auto r = e.notes->recover();
        if (!r) return 1;
        std::printf("open_and_migrate %.1f ms\nrecover_time %.1f ms\nrecover_orphans %zu\n", open_ms,
                    ms(Steady::now() - t1), r->orphan_files.size());
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: storage_bench create|populate|recover|check <dir> [count]\n");
        return 2;
    }
    std::string cmd = argv[1], dir = argv[2];
    int count = argc > 3 ? std::stoi(argv[3]) : 1000;
    if (cmd == "create") return create(dir, count);
    if (cmd == "populate") return populate(dir, count);
    if (cmd == "recover") return timed(dir, false);
    if (cmd == "check") return timed(dir, true);
    return 2;
}
