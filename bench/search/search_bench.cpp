// Search benchmark (SPEC §7, §14: p99 < 20 ms on 100,000 notes, including a
// term present in every note).
//
//   search_bench populate <dir> <count>       generate a corpus (rows + files, no
//                                             per-note fsync: setup only), then
//                                             time SearchService::rebuild()
//   search_bench query <dir> [iterations]     query latency, FTS5 mode: each
//                                             query cold (result cache off: every
//                                             call ranks) and warm (cache on)
//   search_bench fallback <dir> [iterations]  the same queries in fallback mode
//                                             (file scan; informational)
// Prints one "name value unit" line per figure; bench/search/run.sh drives it.
//
// The corpus: note i starts "Note <i> …" (so "note" is in every note), has
// 40–90 words drawn with a skewed distribution from ~1,900 made-up words, and
// "benchmark" in every 10th note, "zebra" in every 1,000th. 10% are drafts,
// 1% deleted.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "notes/notes_service.hpp"
#include "search/search_service.hpp"
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
    auto pool = storage::ConnectionPool::open({dir + "/starpunk.db", 4, 10.0, {}});
    if (!pool) throw std::runtime_error(pool.error().message);
    Env e{*pool, nullptr};
    e.notes = std::make_unique<notes::NotesService>(e.pool, fs, system_clock(),
                                                    notes::NotesService::Options{dir + "/notes", 1 << 20});
    return e;
}

std::vector<std::string> vocabulary() {
    static const char* syllables[] = {"ka", "lo", "mi", "ne", "ru", "sa", "te", "vo", "zi", "po", "da", "fe"};
    std::vector<std::string> words;
    for (auto a : syllables)
        for (auto b : syllables) {
            words.push_back(std::string(a) + b);
            for (auto c : syllables) words.push_back(std::string(a) + b + c);
        }
    return words;
}

std::string body(int i, std::mt19937& rng, const std::vector<std::string>& words) {
    std::uniform_real_distribution<double> u(0, 1);
    std::string s = "Note " + std::to_string(i) + " about " + words[static_cast<size_t>(u(rng) * 50)] + "\n\n";
    int n = 40 + static_cast<int>(u(rng) * 50);
    for (int k = 0; k < n; ++k) {
        double x = u(rng);
        s += words[static_cast<size_t>(x * x * x * static_cast<double>(words.size() - 1))];
        s += k % 12 == 11 ? ".\n" : " ";
    }
    if (i % 10 == 0) s += " A benchmark paragraph.";
    if (i % 1000 == 0) s += " A zebra crossed.";
    return s;
}

double ms(Steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * static_cast<double>(v.size())))];
}

int populate(const std::string& dir, int count) {
    Env e = open(dir);
    {
        auto lease = e.pool->acquire();
        storage::Connection& c = **lease;
        (void)c.exec("BEGIN");
        auto ins = c.prepare(
            "INSERT INTO notes (slug, file_path, published, created_at, updated_at, deleted_at, content_hash) "
            "VALUES (?1,?2,?3,?4,?4,?5,?6)");
        auto base = system_clock().now() - std::chrono::hours(24 * 365 * 3);
        std::mt19937 rng(42);
        auto words = vocabulary();
        for (int i = 0; i < count; ++i) {
            Timestamp t = base + std::chrono::minutes(15) * i;
            std::string slug = "note-" + std::to_string(i);
            std::string content = body(i, rng, words);
            auto ymd = std::chrono::year_month_day{std::chrono::floor<std::chrono::days>(t)};
            char rel[64];
            std::snprintf(rel, sizeof rel, "%04d/%02u/", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()));
            std::string path = std::string(rel) + slug + ".md";
            std::string abs = dir + "/notes/" + path;
            (void)storage::posix_fs().create_dirs(storage::parent_dir(abs));
            auto f = storage::posix_fs().create_file(abs);
            (void)(*f)->append(content);
            (void)(*f)->close();
            (*ins)->bind(1, slug).bind(2, path).bind(3, i % 10 == 5 ? 0 : 1).bind(4, format_db_time(t));
            if (i % 100 == 7) {
                (*ins)->bind(5, format_db_time(t));
            } else {
                (*ins)->bind_null(5);
            }
            (void)(*ins)->bind(6, sha256_hex(content)).run();
        }
        (void)c.exec("COMMIT");
    }
    std::printf("populated %d notes\n", count);
    auto s = search::SearchService::open(*e.notes, {});
    if (!s || (*s)->mode() != search::Mode::fts) {
        std::fprintf(stderr, "no FTS5\n");
        return 1;
    }
    auto t0 = Steady::now();
    auto r = (*s)->rebuild();
    if (!r) {
        std::fprintf(stderr, "rebuild failed: %s\n", r.error().message.c_str());
        return 1;
    }
    std::printf("reindex_notes %lld\nreindex_time %.0f ms\n", static_cast<long long>(r->indexed), ms(Steady::now() - t0));
    return 0;
}

struct Case {
    const char* name;
    const char* q;
    bool admin;
    int64_t offset;
};

const Case kCases[] = {
    {"every_note", "note", false, 0},          // the term in every note
    {"every_note_admin", "note", true, 0},     // ... with drafts
    {"every_note_page5", "note", false, 80},   // ... fifth page
    {"every_two_terms", "note about", false, 0},
    {"common_10pct", "benchmark", false, 0},
    {"rare_0.1pct", "zebra", false, 0},
    {"two_terms", "benchmark zebra", false, 0},
    {"no_match", "xylophone", false, 0},
    {"punctuation", "\"", false, 0},          // unusable: answered with a hint, no lookup
    // Syntax (search/query.hpp), against every_note above as the baseline:
    {"phrase_10pct", "\"a benchmark paragraph\"", false, 0},  // a phrase in 10% (positions compared)
    {"or_every_note", "note OR benchmark", false, 0},
    {"not_every_note", "note -benchmark", false, 0},     // 90% of the notes
    {"or_rare", "zebra OR xylophone", false, 0},
    {"prefix_every_note", "not*", false, 0},             // expands to "note"
    {"prefix_13_words", "kal*", false, 0},               // kalo + the 12 kaloXX words, ~all notes
};

int run_queries(const std::string& dir, int iterations, bool fallback) {
    Env e = open(dir);
    for (bool cached : {false, true}) {
        if (fallback && cached) break;
        search::SearchService::Options o;
        o.force_fallback = fallback;
        o.cache_entries = cached ? 64 : 0;
        auto s = search::SearchService::open(*e.notes, o);
        if (!s) return 1;
        const char* label = fallback ? "fallback" : cached ? "warm" : "cold";
        for (const auto& c : kCases) {
            std::vector<double> lat;
            int64_t total = 0;
            bool exact = true;
            int runs = iterations;
            // A fallback scan for a rare word reads every file: a few runs say enough.
            if (fallback && std::string(c.name) != "every_note" && std::string(c.name) != "every_note_page5") {
                runs = std::min(iterations, 3);
            }
            for (int i = 0; i < runs + 1; ++i) {
                auto t0 = Steady::now();
                auto r = (*s)->search({c.q, c.admin, 20, c.offset});
                double took = ms(Steady::now() - t0);
                if (!r) {
                    std::fprintf(stderr, "%s: %s\n", c.name, r.error().message.c_str());
                    return 1;
                }
                total = r->total;
                exact = r->total_exact;
                if (i > 0) lat.push_back(took);  // the first run warms the page cache
            }
            std::printf("%s_%s_p50 %.3f ms\n%s_%s_p99 %.3f ms\n%s_%s_max %.3f ms\n%s_%s_total %lld%s\n", label, c.name,
                        percentile(lat, 50), label, c.name, percentile(lat, 99), label, c.name, percentile(lat, 100),
                        label, c.name, static_cast<long long>(total), exact ? "" : "+");
        }
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: search_bench populate|query|fallback <dir> [count|iterations]\n");
        return 2;
    }
    std::string cmd = argv[1], dir = argv[2];
    int n = argc > 3 ? std::stoi(argv[3]) : 0;
    try {
        if (cmd == "populate") return populate(dir, n > 0 ? n : 100000);
        if (cmd == "query") return run_queries(dir, n > 0 ? n : 200, false);
        if (cmd == "fallback") return run_queries(dir, n > 0 ? n : 20, true);
    } catch (const std::exception& ex) {
        std::fprintf(stderr, "%s\n", ex.what());
        return 1;
    }
    return 2;
}
