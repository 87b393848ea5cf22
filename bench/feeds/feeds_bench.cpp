// Feeds benchmark (SPEC §14: constant memory per request whatever the corpus;
// 10,000 notes generate a 50-item feed as fast as 100 notes do).
//
//   feeds_bench populate <dir> <count> <note_bytes>   generate a corpus: rows +
//                       files (no per-note fsync: setup only) + search index,
//                       so `starpunk serve` starts on it without rebuilding
//   feeds_bench measure <dir> [iterations] [cold_iterations]
//                                                     in-process feed requests
//
// `measure` runs what the server does for one request — FeedService::prepare()
// (metadata query, ETag), then every chunk pulled into one reused string —
// for each format, `iterations` times, in two renderer states:
//   * warm: NoteRenderer with its default cache (after the first request the
//     50 items are cache hits, as on a live site);
//   * cold: a one-entry renderer cache, so every item of every request is read
//     from disk, hash-checked and rendered from Markdown.
// Memory is counted by interposing malloc/calloc/realloc/free (every
// allocation in the process: C++, SQLite, cmark-gfm, gumbo): per request the
// peak of live heap bytes above the level at the start of the request, and
// the total bytes allocated. Prints "name value unit" lines.
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "feeds/feed_service.hpp"
#include "notes/note_renderer.hpp"
#include "render/engine.hpp"
#include "notes/notes_service.hpp"
#include "search/search_service.hpp"
#include "storage/fs.hpp"
#include "storage/migrations.hpp"
#include "util/crypto.hpp"

// ---------------------------------------------------------------- heap accounting

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void __libc_free(void*);
void* __libc_memalign(size_t, size_t);
}

namespace {
std::atomic<long long> g_live{0};
std::atomic<long long> g_peak{0};
std::atomic<long long> g_total{0};

void note_alloc(void* p) {
    if (!p) return;
    auto n = static_cast<long long>(malloc_usable_size(p));
    long long live = g_live.fetch_add(n, std::memory_order_relaxed) + n;
    g_total.fetch_add(n, std::memory_order_relaxed);
    long long peak = g_peak.load(std::memory_order_relaxed);
    while (live > peak && !g_peak.compare_exchange_weak(peak, live, std::memory_order_relaxed)) {
    }
}
void note_free(void* p) {
    if (p) g_live.fetch_sub(static_cast<long long>(malloc_usable_size(p)), std::memory_order_relaxed);
}
}  // namespace

extern "C" {
void* malloc(size_t n) {
    void* p = __libc_malloc(n);
    note_alloc(p);
    return p;
}
void* calloc(size_t a, size_t b) {
    void* p = __libc_calloc(a, b);
    note_alloc(p);
    return p;
}
void* realloc(void* old, size_t n) {
    note_free(old);
    void* p = __libc_realloc(old, n);
    if (p) {
        note_alloc(p);
    } else if (old && n) {
        note_alloc(old);  // failed: the old block is still there
    }
    return p;
}
void free(void* p) {
    note_free(p);
    __libc_free(p);
}
void* memalign(size_t align, size_t n) {
    void* p = __libc_memalign(align, n);
    note_alloc(p);
    return p;
}
void* aligned_alloc(size_t align, size_t n) { return memalign(align, n); }
int posix_memalign(void** out, size_t align, size_t n) {
    void* p = memalign(align, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}
}

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

// A Markdown note of about `bytes` bytes: a heading, then paragraphs with
// emphasis, links, code, ampersands and angle brackets (all of which feeds
// must escape), and a list now and then.
std::string body(int i, size_t bytes, std::mt19937& rng) {
    static const char* words[] = {"river", "lantern", "copper", "meadow", "signal", "harbour", "quartz", "ember",
                                  "willow", "orbit", "saffron", "tundra", "velvet", "cobalt", "juniper", "drift"};
    std::uniform_int_distribution<int> w(0, 15), kind(0, 19);
    std::string s = "# Note " + std::to_string(i) + ": " + words[w(rng)] + " & " + words[w(rng)] + "\n\n";
    int sentence = 0;
    while (s.size() < bytes) {
        switch (kind(rng)) {
            case 0: s += "*" + std::string(words[w(rng)]) + "* "; break;
            case 1: s += "[" + std::string(words[w(rng)]) + "](https://example.com/" + words[w(rng)] + "?a=1&b=2) "; break;
            case 2: s += "`a < b && c > d` "; break;
            case 3: s += "fish & chips "; break;
            default: s += std::string(words[w(rng)]) + " ";
        }
        if (++sentence % 12 == 0) s += ".\n";
        if (sentence % 60 == 0) s += "\n";
        if (sentence % 240 == 0) s += "- one item\n- another item\n\n";
    }
    return s;
}

double ms(Steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

int populate(const std::string& dir, int count, size_t bytes) {
    Env e = open(dir);
    {
        auto lease = e.pool->acquire();
        storage::Connection& c = **lease;
        (void)c.exec("BEGIN");
        auto ins = c.prepare(
            "INSERT INTO notes (slug, file_path, published, created_at, updated_at, content_hash) "
            "VALUES (?1,?2,1,?3,?3,?4)");
        auto base = system_clock().now() - std::chrono::hours(24 * 365 * 2);
        std::mt19937 rng(7);
        for (int i = 0; i < count; ++i) {
            Timestamp t = base + std::chrono::minutes(30) * i;
            std::string slug = "note-" + std::to_string(i);
            std::string content = body(i, bytes, rng);
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
        }
        (void)c.exec("COMMIT");
    }
    auto s = search::SearchService::open(*e.notes, {});
    if (s && (*s)->mode() == search::Mode::fts) (void)(*s)->rebuild();
    std::printf("populated %d notes of ~%zu bytes\n", count, bytes);
    return 0;
}

struct Figures {
    std::vector<double> ms;
    long long peak_bytes = 0;   // max over requests of (peak live - live at start)
    long long alloc_bytes = 0;  // mean bytes allocated per request
    size_t body_bytes = 0;
    size_t items = 0;
};

Figures run(const std::shared_ptr<const feeds::FeedService>& svc, feeds::Format format, int iterations) {
    Figures f;
    long long total_alloc = 0;
    for (int i = 0; i < iterations + 1; ++i) {  // the first one warms caches: not counted
        long long live0 = g_live.load();
        g_peak.store(live0);
        long long total0 = g_total.load();
        auto t0 = Steady::now();
        size_t body = 0, items = 0;
        {
            auto feed = svc->prepare(format);
            if (!feed) throw std::runtime_error(feed.error().message);
            items = feed->notes.size();
            auto source = feeds::FeedService::stream(svc, std::move(*feed));
            std::string chunk;
            while (true) {
                chunk.clear();
                auto more = source(chunk);
                if (!more) throw std::runtime_error(more.error().message);
                if (!*more) break;
                body += chunk.size();
            }
        }
        auto t1 = Steady::now();
        if (i == 0) continue;
        f.ms.push_back(ms(t1 - t0));
        f.peak_bytes = std::max(f.peak_bytes, g_peak.load() - live0);
        total_alloc += g_total.load() - total0;
        f.body_bytes = body;
        f.items = items;
    }
    f.alloc_bytes = total_alloc / iterations;
    std::sort(f.ms.begin(), f.ms.end());
    return f;
}

int measure(const std::string& dir, int iterations, int cold_iterations) {
    Env e = open(dir);
    long long corpus = 0;
    {
        auto lease = e.pool->acquire();
        auto stmt = (**lease).prepare("SELECT COUNT(*) FROM notes WHERE deleted_at IS NULL AND published = 1");
        (void)(*stmt)->step();
        corpus = (*stmt)->integer(0);
        (*stmt)->reset();
    }
    std::printf("corpus %lld notes\n", corpus);

    feeds::Settings settings;
    settings.site_url = "https://bench.example";
    settings.site_name = "Bench";
    settings.author_name = "Bench";
    settings.max_items = 50;
    render::InProcessMarkdown markdown;
    for (bool cold : {false, true}) {
        notes::NoteRenderer renderer(*e.notes, markdown, {.cache_bytes = cold ? 1u : 64u << 20});
        auto svc = std::make_shared<const feeds::FeedService>(e.notes.get(), &renderer, settings);
        for (feeds::Format format : {feeds::Format::rss, feeds::Format::atom, feeds::Format::json}) {
            Figures f = run(svc, format, cold ? cold_iterations : iterations);
            std::string name = std::string(cold ? "cold_" : "warm_") + std::string(feeds::format_info(format).name);
            double mean = 0;
            for (double v : f.ms) mean += v;
            mean /= static_cast<double>(f.ms.size());
            std::printf("%s_items %zu\n%s_body %zu bytes\n", name.c_str(), f.items, name.c_str(), f.body_bytes);
            std::printf("%s_p50 %.3f ms\n%s_mean %.3f ms\n", name.c_str(), f.ms[f.ms.size() / 2], name.c_str(), mean);
            std::printf("%s_peak_heap %lld bytes\n%s_allocated %lld bytes\n", name.c_str(), f.peak_bytes, name.c_str(),
                        f.alloc_bytes);
        }
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        std::string cmd = argc > 1 ? argv[1] : "";
        if (cmd == "populate" && argc == 5) return populate(argv[2], std::atoi(argv[3]), std::strtoul(argv[4], nullptr, 10));
        if (cmd == "measure" && argc >= 3) {
            int iterations = argc > 3 ? std::max(1, std::atoi(argv[3])) : 200;
            return measure(argv[2], iterations, argc > 4 ? std::max(1, std::atoi(argv[4])) : std::max(1, iterations / 20));
        }
    } catch (const std::exception& ex) {
        std::fprintf(stderr, "feeds_bench: %s\n", ex.what());
        return 1;
    }
    std::fprintf(stderr, "usage: feeds_bench populate <dir> <count> <note_bytes> | measure <dir> [iterations] [cold_iterations]\n");
    return 2;
}
