// The feed cache (feeds/feed_cache.hpp, issue 11): finished feeds per change
// generation — the same bytes as a fresh rendering, answered without the
// database, dropped by every kind of write and by another process's commit,
// bounded by its cap (larger feeds keep only their validator and stream) —
// and the feed routes that answer from it (web/feed_response.hpp).
#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "feeds/feed_cache.hpp"
#include "feeds/feed_service.hpp"
#include "http/conditional.hpp"
#include "notes/note_renderer.hpp"
#include "render/engine.hpp"
#include "storage/sqlite.hpp"
#include "support/notes_harness.hpp"
#include "support/site_harness.hpp"
#include "web/feed_response.hpp"
#include "web/handlers/handlers.hpp"

namespace starpunk::feeds {
namespace {

using namespace std::chrono_literals;

constexpr Format kFormats[] = {Format::rss, Format::atom, Format::json};

struct FeedCacheTest : ::testing::Test {
    testing::NotesHarness h;
    render::InProcessMarkdown markdown;
    std::unique_ptr<notes::NoteRenderer> renderer;
    std::shared_ptr<const FeedService> service;

    void SetUp() override {
        ASSERT_EQ(h.start(), "");
        renderer = std::make_unique<notes::NoteRenderer>(h.svc(), markdown);
        Settings s;
        s.site_url = "https://blog.example";
        s.site_name = "Blog";
        s.author_name = "Ada";
        s.max_items = 10;
        service = std::make_shared<const FeedService>(&h.svc(), renderer.get(), s, h.clock);
    }

    // external_check 0: every lookup polls (the tests below need no sleeping).
    std::unique_ptr<FeedCache> cache(size_t cap = kDefaultFeedCacheBytes, std::chrono::nanoseconds check = 0ns) {
        return std::make_unique<FeedCache>(service, h.svc().changes(), cap, check);
    }

    notes::Note add(const std::string& slug, const std::string& content, bool published = true) {
        notes::NewNote n;
        n.content = content;
        n.custom_slug = slug;
        n.published = published;
        n.created_at = h.clock.now();
        h.clock.advance(60s);
        auto note = h.svc().create(n);
        EXPECT_TRUE(note.ok()) << (note.ok() ? "" : note.error().message);
        return note.ok() ? *note : notes::Note{};
    }

    std::string fresh(Format f) {
        auto whole = service->render_whole(f);
        EXPECT_TRUE(whole.ok());
        return whole.ok() ? *whole : std::string();
    }

    uint64_t pool_acquires() {
        auto s = h.pool->stats();
        return s.hits + s.misses;
    }

    // Builds `f`, then returns the body the cache now holds (checked to be it).
    std::string cached_body(FeedCache& c, Format f) {
        auto built = c.build(f);
        EXPECT_TRUE(built.ok());
        if (!built.ok() || !built->feed->body) return "<no body>";
        return *built->feed->body;
    }
};

TEST_F(FeedCacheTest, BytesAndValidatorEqualAFreshRenderingInEveryFormat) {
    for (int i = 0; i < 4; ++i) add("n" + std::to_string(i), "# Title " + std::to_string(i) + "\n\nSome *text* & more.");
    auto c = cache();
    for (Format f : kFormats) {
        EXPECT_EQ(c->find(f), nullptr) << "nothing before the first build";
        auto built = c->build(f);
        ASSERT_TRUE(built.ok()) << built.error().message;
        EXPECT_TRUE(built->generated);
        EXPECT_FALSE(static_cast<bool>(built->stream));
        ASSERT_NE(built->feed->body, nullptr);
        EXPECT_EQ(*built->feed->body, fresh(f));
        EXPECT_EQ(built->feed->etag, service->prepare(f)->etag);
        EXPECT_EQ(built->feed->format, f);
        EXPECT_EQ(c->find(f), built->feed) << "the same entry, not a copy";
        auto again = c->build(f);
        ASSERT_TRUE(again.ok());
        EXPECT_FALSE(again->generated) << "a current entry is not built twice";
        EXPECT_EQ(again->feed, built->feed);
    }
}

TEST_F(FeedCacheTest, ALookupReadsNoNoteAndUsesNoPooledConnection) {
    auto a = add("a", "Alpha");
    auto c = cache();
    ASSERT_TRUE(c->build(Format::rss).ok());
    ASSERT_TRUE(h.fs().remove(*h.svc().absolute_path(a)).ok());  // rendering it again would fail
    const uint64_t before = pool_acquires();
    for (int i = 0; i < 100; ++i) {
        auto entry = c->find(Format::rss);
        ASSERT_NE(entry, nullptr);
        EXPECT_TRUE(http::etag_matches(entry->etag, entry->etag));
    }
    EXPECT_EQ(pool_acquires(), before) << "a cached feed is answered without a database query";
}

TEST_F(FeedCacheTest, EveryKindOfWriteDropsEveryFormat) {
    auto a = add("a", "Alpha");
    auto b = add("b", "Bravo");
    auto c = cache();
    struct Step {
        std::string what;
        std::function<void()> write;
        bool changes_feed;
    };
    std::vector<Step> steps = {
        {"create", [&] { add("c", "Charlie"); }, true},
        {"create a draft", [&] { add("d", "A draft", false); }, false},
        {"update", [&] { ASSERT_TRUE(h.svc().update(a.id, {std::string("Alpha, edited"), std::nullopt}).ok()); }, true},
        {"unpublish", [&] { ASSERT_TRUE(h.svc().update(b.id, {std::nullopt, false}).ok()); }, true},
        {"publish", [&] { ASSERT_TRUE(h.svc().update(b.id, {std::nullopt, true}).ok()); }, true},
        {"soft delete", [&] { ASSERT_TRUE(h.svc().soft_delete(a.id).ok()); }, true},
        {"restore", [&] { ASSERT_TRUE(h.svc().restore(a.id).ok()); }, true},
        {"purge", [&] {
             ASSERT_TRUE(h.svc().soft_delete(b.id).ok());
             ASSERT_TRUE(h.svc().purge(b.id).ok());
         }, true},
    };
    for (const auto& step : steps) {
        std::vector<std::string> before;
        for (Format f : kFormats) before.push_back(cached_body(*c, f));
        h.clock.advance(1s);
        step.write();
        for (size_t i = 0; i < 3; ++i) {
            EXPECT_EQ(c->find(kFormats[i]), nullptr) << step.what << ": format " << i << " still cached";
            std::string after = cached_body(*c, kFormats[i]);
            EXPECT_EQ(after, fresh(kFormats[i])) << step.what;
            if (step.changes_feed) {
                EXPECT_NE(after, before[i]) << step.what;
            }
        }
    }
}

TEST_F(FeedCacheTest, AnotherProcessesCommitIsSeenByTheNextLookup) {
    add("a", "Alpha");
    auto c = cache();
    ASSERT_TRUE(c->build(Format::atom).ok());
    ASSERT_NE(c->find(Format::atom), nullptr);
    // starpunk import in another process: a commit on a connection of its own,
    // which this process's NotesService never announces.
    auto other = storage::Connection::open(h.db_path, {});
    ASSERT_TRUE(other);
    ASSERT_TRUE((*other)->exec("UPDATE notes SET published = 0"));
    EXPECT_EQ(c->find(Format::atom), nullptr);
    auto rebuilt = c->build(Format::atom);
    ASSERT_TRUE(rebuilt.ok());
    EXPECT_EQ(rebuilt->feed->body->find("/note/a"), std::string::npos);
}

TEST_F(FeedCacheTest, AnExternalCommitWaitsAtMostTheCheckInterval) {
    add("a", "Alpha");
    auto c = cache(kDefaultFeedCacheBytes, 50ms);
    ASSERT_TRUE(c->build(Format::rss).ok());
    ASSERT_NE(c->find(Format::rss), nullptr);  // polls now: the next poll is due in 50 ms
    auto other = storage::Connection::open(h.db_path, {});
    ASSERT_TRUE(other);
    ASSERT_TRUE((*other)->exec("UPDATE notes SET published = 0"));
    std::this_thread::sleep_for(60ms);
    EXPECT_EQ(c->find(Format::rss), nullptr);
}

TEST_F(FeedCacheTest, ALargerFeedKeepsOnlyItsValidatorAndStreamsTheSameBytes) {
    for (int i = 0; i < 8; ++i) add("n" + std::to_string(i), "Note " + std::to_string(i) + " " + std::string(3000, 'z'));
    auto c = cache(/*cap=*/8 * 1024);
    for (Format f : kFormats) {
        auto built = c->build(f);
        ASSERT_TRUE(built.ok()) << built.error().message;
        EXPECT_EQ(built->feed->body, nullptr) << "over the cap: no bytes kept";
        ASSERT_TRUE(static_cast<bool>(built->stream));
        std::string streamed, chunk;
        size_t largest = 0;
        while (true) {
            chunk.clear();
            auto more = built->stream(chunk);
            ASSERT_TRUE(more.ok());
            if (!*more) break;
            streamed += chunk;
            largest = std::max(largest, chunk.size());
        }
        EXPECT_EQ(streamed, fresh(f));
        EXPECT_LT(largest, 8u * 1024u + kChunkBytes + 4000u) << "at most the cap plus one chunk at once";
        auto entry = c->find(f);
        ASSERT_NE(entry, nullptr) << "the validator is kept";
        EXPECT_EQ(entry->etag, service->prepare(f)->etag);
        EXPECT_EQ(entry->body, nullptr);
    }
}

TEST_F(FeedCacheTest, EveryEntryCarriesWhatTheOwnerDerivesFromIt) {
    add("a", "Alpha");
    for (size_t cap : {kDefaultFeedCacheBytes, size_t{64}}) {  // bytes kept, and only the validator
        int calls = 0;
        FeedCache c(service, h.svc().changes(), cap, 0ns, [&](const CachedFeed& entry) {
            ++calls;
            return "derived from " + entry.etag;
        });
        for (Format f : kFormats) {
            auto built = c.build(f);
            ASSERT_TRUE(built.ok());
            EXPECT_EQ(built->feed->derived, "derived from " + built->feed->etag);
            EXPECT_EQ(c.find(f)->derived, built->feed->derived);
        }
        EXPECT_EQ(calls, 3) << "once per entry built";
        add("b" + std::to_string(cap), "Beta");  // a write: the next entries are new
        auto again = c.build(Format::rss);
        ASSERT_TRUE(again.ok());
        EXPECT_EQ(again->feed->derived, "derived from " + again->feed->etag);
        EXPECT_EQ(calls, 4);
    }
}

TEST_F(FeedCacheTest, ConcurrentMissesBuildOnce) {
    for (int i = 0; i < 5; ++i) add("n" + std::to_string(i), "Note " + std::to_string(i));
    auto c = cache();
    std::atomic<int> generated{0};
    std::vector<std::shared_ptr<const CachedFeed>> got(8);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < got.size(); ++t) {
        threads.emplace_back([&, t] {
            auto built = c->build(Format::rss);
            if (built.ok()) {
                got[t] = built->feed;
                if (built->generated) ++generated;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(generated.load(), 1);
    for (const auto& g : got) EXPECT_EQ(g, got[0]);
}

TEST_F(FeedCacheTest, AFailedBuildKeepsNothing) {
    auto a = add("a", "Alpha");
    auto c = cache();
    ASSERT_TRUE(h.fs().remove(*h.svc().absolute_path(a)).ok());
    auto built = c->build(Format::rss);
    ASSERT_FALSE(built.ok());
    EXPECT_NE(built.error().message.find("(a)"), std::string::npos) << built.error().message;
    EXPECT_EQ(c->find(Format::rss), nullptr);
}

// ------------------------------------------------------------------ routes

struct FeedCacheRoutes : FeedCacheTest {
    std::unique_ptr<testing::SiteServices> services;
    std::shared_ptr<web::Site> site;
    std::shared_ptr<web::SiteFeeds> feeds;
    std::deque<std::string> keep;

    void SetUp() override {
        FeedCacheTest::SetUp();
        services = std::make_unique<testing::SiteServices>(h);
        site = services->site(testing::SiteServices::default_config());
        feeds = web::make_site_feeds(*site);
        add("one", "Note one");
    }

    http::Request request(std::vector<std::pair<std::string, std::string>> headers = {}) {
        http::Request req;
        req.method = http::Method::get;
        req.method_text = "GET";
        req.path = "/feed.xml";
        for (auto& [k, v] : headers) {
            keep.push_back(k);
            std::string_view name = keep.back();
            keep.push_back(v);
            req.headers.push_back({name, keep.back()});
        }
        return req;
    }
};

TEST_F(FeedCacheRoutes, TheProbeSendsOnlyWhatIsInMemoryInline) {
    auto req = request();
    EXPECT_FALSE(web::feed_is_cached(*feeds, req, Format::rss)) << "not built yet: a worker builds it";
    auto handler = web::handlers::feed_rss(site, feeds);
    auto first = handler(req);
    ASSERT_EQ(first.status, 200);
    EXPECT_FALSE(static_cast<bool>(first.stream));
    ASSERT_NE(first.shared_body, nullptr) << "the cached bytes, shared";

    auto again = request();
    ASSERT_TRUE(web::feed_is_cached(*feeds, again, Format::rss));
    ASSERT_NE(again.prepared, nullptr);
    auto second = handler(again);
    EXPECT_EQ(second.status, 200);
    EXPECT_EQ(second.shared_body, first.shared_body) << "served without a copy";
    EXPECT_EQ(second.header("ETag"), first.header("ETag"));

    auto conditional = request({{"If-None-Match", std::string(*first.header("ETag"))}});
    ASSERT_TRUE(web::feed_is_cached(*feeds, conditional, Format::rss));
    const uint64_t before = pool_acquires();
    auto not_modified = handler(conditional);
    EXPECT_EQ(not_modified.status, 304);
    EXPECT_TRUE(not_modified.body_view().empty());
    EXPECT_EQ(pool_acquires(), before);

    add("two", "Note two");  // the next request sees it
    auto after = request({{"If-None-Match", std::string(*first.header("ETag"))}});
    EXPECT_FALSE(web::feed_is_cached(*feeds, after, Format::rss));
    auto changed = handler(after);
    EXPECT_EQ(changed.status, 200);
    EXPECT_NE(changed.body_view().find("/note/two"), std::string_view::npos);
    EXPECT_NE(changed.header("ETag"), first.header("ETag"));
}

TEST_F(FeedCacheRoutes, NegotiatedProbeUsesTheAcceptedFormat) {
    auto handler = web::handlers::feed_negotiated(site, feeds);
    auto json_req = request({{"Accept", "application/feed+json"}});
    auto json = handler(json_req);
    ASSERT_EQ(json.status, 200);
    EXPECT_EQ(json.header("Vary").value_or(""), "Accept");

    auto cached = request({{"Accept", "application/feed+json"}});
    ASSERT_TRUE(web::feed_is_cached(*feeds, cached, std::nullopt));
    auto from_memory = handler(cached);
    EXPECT_EQ(from_memory.header("Content-Type").value_or(""), "application/feed+json; charset=utf-8");
    EXPECT_EQ(from_memory.shared_body, json.shared_body);
    EXPECT_EQ(from_memory.header("Vary").value_or(""), "Accept");

    auto rss = request({{"Accept", "application/rss+xml"}});
    EXPECT_FALSE(web::feed_is_cached(*feeds, rss, std::nullopt)) << "RSS was never built";
    auto refused = request({{"Accept", "text/html"}});
    EXPECT_FALSE(web::feed_is_cached(*feeds, refused, std::nullopt));
    EXPECT_EQ(handler(refused).status, 406);
}

TEST_F(FeedCacheRoutes, AFeedOverTheCapIsStreamedAndItsValidatorStillAnswers304) {
    for (int i = 0; i < 6; ++i) add("big" + std::to_string(i), std::string(4000, 'q'));
    auto small = web::make_site_feeds(*site, /*max_body_bytes=*/4096);
    auto handler = web::handlers::feed_atom(site, small);
    auto req = request();
    auto res = handler(req);
    ASSERT_EQ(res.status, 200);
    ASSERT_TRUE(static_cast<bool>(res.stream)) << "larger than the cap: streamed";
    std::string body, chunk;
    while (true) {
        chunk.clear();
        auto more = res.stream(chunk);
        ASSERT_TRUE(more.ok());
        if (!*more) break;
        body += chunk;
    }
    auto whole = small->service->render_whole(Format::atom);
    ASSERT_TRUE(whole.ok());
    EXPECT_TRUE(body == *whole) << "the streamed document differs from a fresh rendering";

    auto again = request();
    EXPECT_FALSE(web::feed_is_cached(*small, again, Format::atom)) << "no bytes in memory: a worker streams it";
    auto streamed_again = handler(again);
    EXPECT_TRUE(static_cast<bool>(streamed_again.stream));
    EXPECT_EQ(streamed_again.header("ETag"), res.header("ETag"));

    auto conditional = request({{"If-None-Match", std::string(*res.header("ETag"))}});
    ASSERT_TRUE(web::feed_is_cached(*small, conditional, Format::atom)) << "the validator answers inline";
    EXPECT_EQ(handler(conditional).status, 304);
}

}  // namespace
}  // namespace starpunk::feeds
