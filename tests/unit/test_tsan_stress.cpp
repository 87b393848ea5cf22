// The concurrent parts driven hard from many threads at once: the page cache
// (pages, entries, invalidation), note writes with readers and the caches that
// follow them (listings, rendered notes, pages), and the HTTP server with
// concurrent clients whose writes invalidate what other requests are reading.
// Written for ThreadSanitizer (tsan_tests in tests/CMakeLists.txt, which fails
// on the first report), and run in the ordinary unit suite too: each test also
// checks that what the threads saw is right (no page under another key, no
// stale page kept after a write, no lost note or request), so it fails when
// the locking or the generation checks are broken even where TSan is absent.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "feeds/feed_cache.hpp"
#include "feeds/feed_service.hpp"
#include "http/server.hpp"
#include "metrics/metrics.hpp"
#include "notes/changes.hpp"
#include "notes/note_renderer.hpp"
#include "render/engine.hpp"
#include "support/loopback_client.hpp"
#include "support/notes_harness.hpp"
#include "web/page_cache.hpp"

namespace starpunk {
namespace {

using namespace std::chrono_literals;
using notes::Visibility;

std::string page_body(const std::string& key, uint64_t generation) {
    return "page " + key + " built at " + std::to_string(generation) + std::string(200, '.');
}
std::string entry_html(int64_t id) { return "<article id=\"" + std::to_string(id) + "\"></article>"; }

// spdlog's registry is a function-local static of the (uninstrumented) shared
// library: TSan cannot see its initialisation guard, so threads' first log
// calls would look like a race on it. Create it before any thread starts.
void touch_logger() { (void)spdlog::default_logger_raw(); }

TEST(PageCacheStress, ManyThreadsStoreFindAppendEntriesAndInvalidate) {
    notes::NoteChanges changes;
    // Small enough that the clock evicts all the time.
    web::PageCache cache(changes, 16u << 10);
    // Every other round asks for one of a few hot pages (kept: they fit and
    // the clock spares them), the others sweep more pages than fit (evicting
    // all the time). Hits then come from every thread's own rounds, not only
    // from threads that happen to run at once (on a loaded 2-core machine
    // each thread may run its rounds alone).
    constexpr int kThreads = 4, kRounds = 1500, kHotKeys = 4, kKeys = 60, kIds = 12;
    std::atomic<int> wrong_pages{0}, wrong_entries{0}, over_budget{0}, hits{0}, entry_hits{0};
    std::atomic<bool> done{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kRounds; ++i) {
                const std::string key = i % 2 == 0 ? "/hot" + std::to_string((i / 2 + t) % kHotKeys)
                                                   : "/p" + std::to_string((i * 7 + t) % kKeys);
                if (auto page = cache.find(key)) {
                    ++hits;
                    // A page is only ever found under the key it was built for.
                    if (page->body->rfind("page " + key + " built at ", 0) != 0) ++wrong_pages;
                } else {
                    const uint64_t gen = cache.generation();
                    cache.store(key, web::make_cached_page(200, page_body(key, gen), 0), gen);
                }
                const int64_t id = 1 + (i + t) % kIds;
                cache.store_entry(id, entry_html(id), cache.generation());
                const std::vector<int64_t> ids = {id, 1 + (id % kIds), 1 + ((id + 1) % kIds)};
                std::string out = "head|";
                if (cache.append_entries(ids, '\n', out)) {
                    ++entry_hits;
                    if (out != "head|" + entry_html(ids[0]) + "\n" + entry_html(ids[1]) + "\n" + entry_html(ids[2]))
                        ++wrong_entries;
                } else if (out != "head|") {
                    ++wrong_entries;  // a miss leaves `out` as it was
                }
                if (cache.bytes() > 16u << 10) ++over_budget;
            }
        });
    }
    // A writer: every publish empties the cache while the others fill it.
    std::thread writer([&] {
        while (!done.load()) {
            changes.publish();
            std::this_thread::sleep_for(1ms);
        }
    });
    for (auto& th : threads) th.join();
    done = true;
    writer.join();
    EXPECT_EQ(wrong_pages.load(), 0);
    EXPECT_EQ(wrong_entries.load(), 0);
    EXPECT_EQ(over_budget.load(), 0);
    EXPECT_GT(hits.load(), 0) << "the test must exercise hits, not only misses";
    EXPECT_GT(entry_hits.load(), 0);
    // A page built before the last write is refused; one built after is kept.
    const uint64_t before = cache.generation();
    changes.publish();
    cache.store("/late", web::make_cached_page(200, page_body("/late", before), 0), before);
    EXPECT_EQ(cache.find("/late"), nullptr);
    cache.store("/late", web::make_cached_page(200, page_body("/late", cache.generation()), 0), cache.generation());
    EXPECT_NE(cache.find("/late"), nullptr);
}

// What a home page shows: the ids of the newest published notes with their
// rendered HTML, built the way the site builds it (listing, rows, renderer).
struct Site {
    render::InProcessMarkdown engine;  // first: the harness's write gate uses it
    testing::NotesHarness h;
    std::unique_ptr<notes::NoteRenderer> renderer;
    std::unique_ptr<web::PageCache> pages;

    Site()
        : h(testing::NotesHarness::Options{
              .pool_size = 4, .render = [this](std::string_view c) { return notes::render_for_write(engine, c); }}) {}
    std::string start() {
        if (auto e = h.start(); !e.empty()) return e;
        renderer = std::make_unique<notes::NoteRenderer>(h.svc(), engine,
                                                         notes::NoteRenderer::Options{.cache_bytes = 4u << 10});
        pages = std::make_unique<web::PageCache>(h.svc().changes(), 64u << 10);
        return {};
    }
    // The page built from the database now; errors as text (never equal to a page).
    std::string build_home() {
        auto listing = h.svc().published_listing("", 10, 0, false);
        if (!listing || !*listing) return "<listing failed>";
        auto rows = h.svc().notes_by_ids((*listing)->ids);
        if (!rows) return "<rows failed: " + rows.error().message + ">";
        std::string out = "total " + std::to_string((*listing)->total) + "\n";
        for (const auto& n : *rows) {
            auto r = renderer->render(n);
            if (!r) return "<render failed: " + r.error().message + ">";
            out += n.slug + ": " + (*r)->html;
        }
        return out;
    }
    // The home page from the cache, or built and offered to it (as the site does:
    // the generation is read before the database).
    std::string home() {
        if (auto page = pages->find("/")) return *page->body;
        const uint64_t gen = pages->generation();
        std::string body = build_home();
        // Widens the window in which a write can land between the database
        // read and the store (what the generation check is for).
        std::this_thread::sleep_for(200us);
        if (body.starts_with("total ")) pages->store("/", web::make_cached_page(200, body, 0), gen);
        return body;
    }
};

// The total a page shows ("total N" on its first line), or -1.
int64_t total_on(const std::string& body) {
    if (!body.starts_with("total ")) return -1;
    return std::stoll(body.substr(6, body.find('\n') - 6));
}

// Published notes are only ever added here (drafts are created, deleted and
// restored beside them, and published notes are edited), so the published
// total only grows: a page read after the k-th create returned must show a
// total of at least k. A page built before a write but kept after it (the
// generation check of PageCache::store broken) shows less.
TEST(NoteWritesStress, WritersAndReadersThroughTheCachesNeverSeeAPageOlderThanAFinishedWrite) {
    touch_logger();
    Site site;
    ASSERT_EQ(site.start(), "");
    constexpr int kWriters = 2, kNotesEach = 12;
    std::atomic<int> write_errors{0}, read_errors{0}, stale_reads{0}, reads{0};
    std::atomic<int64_t> published_done{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> readers;
    for (int r = 0; r < 2; ++r) {
        readers.emplace_back([&] {
            while (!stop.load()) {
                const int64_t at_least = published_done.load();
                const int64_t total = total_on(site.home());
                ++reads;
                if (total < 0) ++read_errors;
                else if (total < at_least) ++stale_reads;
                auto page = site.h.svc().list(Visibility::published, 5, 0);
                if (!page) ++read_errors;
            }
        });
    }
    std::vector<std::thread> writers;
    std::mutex kept_mutex;
    std::set<int64_t> kept;  // published at the end
    for (int w = 0; w < kWriters; ++w) {
        writers.emplace_back([&, w] {
            for (int i = 0; i < kNotesEach; ++i) {
                const std::string text = "# Note " + std::to_string(w) + "-" + std::to_string(i) + "\n\n*body*";
                auto n = site.h.svc().create(notes::NewNote{.content = text, .tags = {"w" + std::to_string(w)}});
                if (!n) {
                    ++write_errors;
                    continue;
                }
                ++published_done;
                {
                    std::lock_guard lock(kept_mutex);
                    kept.insert(n->id);
                }
                if (!site.h.svc().update(n->id, notes::NoteChange{.content = text + " edited"})) ++write_errors;
                auto draft = site.h.svc().create(notes::NewNote{.content = text + " draft", .published = false});
                if (!draft) {
                    ++write_errors;
                    continue;
                }
                if (!site.h.svc().soft_delete(draft->id) || !site.h.svc().restore(draft->id) ||
                    !site.h.svc().soft_delete(draft->id))
                    ++write_errors;
            }
        });
    }
    for (auto& th : writers) th.join();
    // Let the readers run on the final state for a moment.
    std::this_thread::sleep_for(50ms);
    stop = true;
    for (auto& th : readers) th.join();

    EXPECT_EQ(write_errors.load(), 0);
    EXPECT_EQ(read_errors.load(), 0);
    EXPECT_EQ(stale_reads.load(), 0) << "pages older than a write that had returned, of " << reads.load();
    EXPECT_GT(reads.load(), 0);
    // Whatever the cache holds now is what the database says now.
    EXPECT_EQ(site.home(), site.build_home());
    EXPECT_EQ(total_on(site.home()), kWriters * kNotesEach);
    auto all = site.h.svc().list(Visibility::published, 1000, 0);
    ASSERT_TRUE(all);
    std::set<int64_t> listed;
    for (const auto& n : all->notes) listed.insert(n.id);
    EXPECT_EQ(listed, kept);
    auto report = site.h.svc().check();
    ASSERT_TRUE(report);
    EXPECT_TRUE(report->ok());
}

size_t count_of(const std::string& text, std::string_view what) {
    size_t n = 0;
    for (size_t at = 0; (at = text.find(what, at)) != std::string::npos; at += what.size()) ++n;
    return n;
}

// The feed cache under the same load: readers find or build each format while
// writers publish notes. A feed read after the k-th create returned has at
// least k items (the feed holds up to 50, more than are created here).
TEST(FeedCacheStress, ReadersOfEveryFormatNeverGetAFeedOlderThanAFinishedWrite) {
    touch_logger();
    Site site;
    ASSERT_EQ(site.start(), "");
    feeds::Settings settings;
    settings.site_url = "https://blog.example";
    settings.site_name = "Blog";
    settings.author_name = "Ada";
    auto service = std::make_shared<const feeds::FeedService>(&site.h.svc(), site.renderer.get(), settings,
                                                               site.h.clock);
    feeds::FeedCache cache(service, site.h.svc().changes(), feeds::kDefaultFeedCacheBytes, 0ns);
    constexpr int kCreates = 16;
    std::atomic<int64_t> published_done{0};
    std::atomic<int> errors{0}, stale{0}, reads{0}, generated{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> readers;
    for (int r = 0; r < 3; ++r) {
        readers.emplace_back([&, r] {
            const feeds::Format format = r == 0 ? feeds::Format::rss : r == 1 ? feeds::Format::atom : feeds::Format::json;
            const std::string_view item = r == 0 ? "<item>" : r == 1 ? "<entry>" : "\"content_html\"";
            while (!stop.load()) {
                const int64_t at_least = published_done.load();
                auto feed = cache.find(format);
                if (!feed) {
                    auto built = cache.build(format);
                    if (!built) {
                        ++errors;
                        continue;
                    }
                    if (built->generated) ++generated;
                    feed = built->feed;
                }
                ++reads;
                if (!feed->body) ++errors;  // far below the cap: the body is kept
                else if (static_cast<int64_t>(count_of(*feed->body, item)) < at_least) ++stale;
            }
        });
    }
    std::thread writer([&] {
        for (int i = 0; i < kCreates; ++i) {
            auto n = site.h.svc().create(notes::NewNote{.content = "Feed item " + std::to_string(i)});
            if (!n) {
                ++errors;
                continue;
            }
            ++published_done;
            if (!site.h.svc().update(n->id, notes::NoteChange{.content = "Feed item " + std::to_string(i) + " edited"}))
                ++errors;
            std::this_thread::sleep_for(2ms);
        }
    });
    writer.join();
    std::this_thread::sleep_for(50ms);
    stop = true;
    for (auto& th : readers) th.join();
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(stale.load(), 0) << "of " << reads.load() << " reads";
    EXPECT_GT(generated.load(), 3) << "feeds were rebuilt after writes";
    auto rss = cache.find(feeds::Format::rss);
    ASSERT_NE(rss, nullptr);
    auto fresh = service->render_whole(feeds::Format::rss);
    ASSERT_TRUE(fresh);
    EXPECT_EQ(*rss->body, *fresh);
}

// --- the server with concurrent clients -------------------------------------

// A small site on the real server: GET / from the page cache on the I/O thread
// (inline_when), else built on a worker; POST /note creates a note on a
// worker, which invalidates the cached page; every response is counted in the
// metrics hub from the I/O threads, and every SQL statement from the workers.
class CachedSiteApp final : public http::Application {
public:
    explicit CachedSiteApp(Site& site, metrics::Metrics& m) : site_(site), metrics_(m) {
        http::Route home{http::Method::get, "/", 0, http::Execution::blocking, [this](http::Request& req) {
                             if (req.prepared)
                                 return http::html_response(
                                     200, *std::static_pointer_cast<const web::CachedPage>(req.prepared)->body);
                             return http::html_response(200, site_.home());
                         }};
        home.inline_when = [this](http::Request& req) {
            auto page = site_.pages->find("/");
            if (!page) return false;
            req.prepared = page;
            return true;
        };
        router_.add(std::move(home));
        router_.add({http::Method::post, "/note", 0, http::Execution::blocking, [this](http::Request& req) {
                         auto n = site_.h.svc().create(notes::NewNote{.content = req.body});
                         if (!n) return http::text_response(500, n.error().message);
                         return http::text_response(201, n->slug);
                     }});
    }
    http::Execution prepare(http::Request& req) override {
        auto m = router_.match(req.method, req.raw_path);
        if (m.outcome != http::RouteMatch::Outcome::found) return http::Execution::inline_;
        req.route = m.route;
        if (m.route->inline_when && m.route->inline_when(req)) return http::Execution::inline_;
        return m.route->execution;
    }
    http::Response handle(http::Request& req) override {
        if (!req.route) return error(req, 404, "none");
        return req.route->handler(req);
    }
    http::Response error(const http::Request&, int status, std::string_view message) override {
        return http::text_response(status, std::string(message));
    }
    void completed(const http::Request& req, const http::Completion& done) override {
        metrics::RequestInfo info;
        info.method = req.method_text;
        info.route = req.route ? std::string_view(req.route->pattern) : std::string_view("unmatched");
        info.request_id = req.request_id;
        info.status = done.status;
        info.bytes = done.bytes;
        info.took = done.took;
        info.aborted = done.aborted;
        metrics_.request(info);
    }

private:
    Site& site_;
    metrics::Metrics& metrics_;
    http::Router router_;
};

std::string get_home(uint16_t port) { return starpunk::testing::get(port, "/"); }
std::string post_note(uint16_t port, const std::string& text) {
    return starpunk::testing::round_trip(port, "POST /note HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: text/plain\r\n"
                          "Content-Length: " + std::to_string(text.size()) + "\r\n\r\n" + text);
}
std::string body_of(const std::string& response) {
    auto at = response.find("\r\n\r\n");
    return at == std::string::npos ? std::string() : response.substr(at + 4);
}

TEST(ServerStress, ConcurrentClientsWhileWritesInvalidateTheCachedPage) {
    touch_logger();
    Site site;
    ASSERT_EQ(site.start(), "");
    metrics::Metrics m(metrics::Settings{});
    http::ServerOptions opts;
    opts.port = 0;
    opts.access_log = false;
    opts.io_threads = 2;
    opts.worker_threads = 2;
    CachedSiteApp app(site, m);
    http::Server server(opts, app);
    ASSERT_TRUE(server.listen());
    std::thread running([&] { server.run(); });
    const uint16_t port = server.port();

    constexpr int kReaders = 3, kReadsEach = 40, kCreates = 15;
    std::atomic<int> bad_reads{0}, stale_reads{0}, bad_writes{0};
    std::atomic<int64_t> created{0};  // 201s received
    std::vector<std::thread> clients;
    for (int r = 0; r < kReaders; ++r) {
        clients.emplace_back([&] {
            for (int i = 0; i < kReadsEach; ++i) {
                const int64_t at_least = created.load();
                const std::string res = get_home(port);
                const int64_t total = total_on(body_of(res));
                if (!res.starts_with("HTTP/1.1 200") || total < 0) ++bad_reads;
                else if (total < at_least) ++stale_reads;  // a page from before a write that was answered
            }
        });
    }
    std::vector<std::string> slugs;
    clients.emplace_back([&] {
        for (int i = 0; i < kCreates; ++i) {
            const std::string res = post_note(port, "Posted note number " + std::to_string(i));
            if (!res.starts_with("HTTP/1.1 201")) {
                ++bad_writes;
                continue;
            }
            slugs.push_back(body_of(res));
            ++created;
        }
    });
    for (auto& c : clients) c.join();
    // After the last write returned, the page served (cached or not) shows it.
    const std::string last = body_of(get_home(port));
    server.stop();
    running.join();

    EXPECT_EQ(bad_reads.load(), 0);
    EXPECT_EQ(stale_reads.load(), 0);
    EXPECT_EQ(bad_writes.load(), 0);
    EXPECT_TRUE(last.starts_with("total " + std::to_string(kCreates) + "\n")) << last.substr(0, 80);
    ASSERT_FALSE(slugs.empty());
    EXPECT_NE(last.find(slugs.back() + ": "), std::string::npos) << "the newest note is on the page";
    // Every response was counted once, from both I/O threads.
    EXPECT_EQ(m.requests().total(), static_cast<uint64_t>(kReaders * kReadsEach + kCreates + 1));
}

}  // namespace
}  // namespace starpunk
