// The outbound client's two guards (net/coalescing_client.hpp): identical
// concurrent GETs share one request, and at most max_threads threads are
// inside fetch() at once — beyond that, busy at once. Against the scripted
// client, with delays standing in for a slow remote server.
#include "net/coalescing_client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <thread>
#include <vector>

#include "auth/discovery.hpp"
#include "support/fake_http_client.hpp"
#include "support/notes_harness.hpp"

namespace starpunk::net {
namespace {

using namespace std::chrono_literals;
using starpunk::testing::FakeHttpClient;

constexpr const char* kUrl = "https://tokens.example/token";

HttpRequest get(std::string url, Fields headers = {}) {
    HttpRequest r;
    r.url = std::move(url);
    r.headers = std::move(headers);
    return r;
}

// Runs `n` fetches at once (released together); returns their results.
std::vector<Result<HttpResponse>> at_once(HttpClient& client, std::vector<HttpRequest> requests) {
    std::vector<std::optional<Result<HttpResponse>>> results(requests.size());
    std::latch start(static_cast<std::ptrdiff_t>(requests.size()));
    std::vector<std::thread> threads;
    for (size_t i = 0; i < requests.size(); ++i) {
        threads.emplace_back([&, i] {
            start.arrive_and_wait();
            results[i].emplace(client.fetch(requests[i]));
        });
    }
    for (auto& t : threads) t.join();
    std::vector<Result<HttpResponse>> out;
    for (auto& r : results) out.push_back(std::move(*r));
    return out;
}

TEST(CoalescingClient, IdenticalConcurrentGetsShareOneRequest) {
    FakeHttpClient fake;
    fake.on_get(kUrl, {200, R"({"me":"https://me.example/"})", {{"X-A", "1"}}, {}, {}, 300ms});
    CoalescingHttpClient client(fake, {8});
    auto results = at_once(client, std::vector<HttpRequest>(6, get(kUrl, {{"Authorization", "Bearer t"}})));
    for (const auto& r : results) {
        ASSERT_TRUE(r.ok()) << r.error().message;
        EXPECT_EQ(r->status, 200);
        EXPECT_EQ(r->body, R"({"me":"https://me.example/"})");
        EXPECT_EQ(r->headers.get("X-A").value_or(""), "1");
    }
    EXPECT_EQ(fake.count(Method::get, kUrl), 1u);
    EXPECT_EQ(client.shared_answers(), 5u);
    EXPECT_EQ(client.in_use(), 0u);
}

TEST(CoalescingClient, ErrorsAreSharedToo) {
    FakeHttpClient fake;
    FakeHttpClient::Answer down;
    down.error = make_error(ErrorCode::io, "timed out");
    down.delay = 200ms;
    fake.on_get(kUrl, down);
    CoalescingHttpClient client(fake, {4});
    for (const auto& r : at_once(client, std::vector<HttpRequest>(4, get(kUrl)))) {
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, ErrorCode::io);
    }
    EXPECT_EQ(fake.count(Method::get, kUrl), 1u);
}

TEST(CoalescingClient, DifferentHeadersOrUrlsAreDifferentRequests) {
    FakeHttpClient fake;
    fake.on_get(kUrl, {200, "{}", {}, {}, {}, 200ms});
    fake.on_get("https://other.example/", {200, "{}", {}, {}, {}, 200ms});
    CoalescingHttpClient client(fake, {8});
    auto results = at_once(client, {get(kUrl, {{"Authorization", "Bearer one"}}),
                                    get(kUrl, {{"Authorization", "Bearer two"}}), get("https://other.example/")});
    for (const auto& r : results) EXPECT_TRUE(r.ok());
    EXPECT_EQ(fake.count(Method::get, kUrl), 2u);
    EXPECT_EQ(fake.count(Method::get, "https://other.example/"), 1u);
    EXPECT_EQ(client.shared_answers(), 0u);
}

TEST(CoalescingClient, PostsAreNeverShared) {
    FakeHttpClient fake;
    fake.on_post(kUrl, {200, "{}", {}, {}, {}, 200ms});
    CoalescingHttpClient client(fake, {8});
    HttpRequest post = get(kUrl);
    post.method = Method::post;
    post.form = {{"code", "abc"}};
    at_once(client, std::vector<HttpRequest>(3, post));
    EXPECT_EQ(fake.count(Method::post, kUrl), 3u);
}

TEST(CoalescingClient, AFinishedRequestIsNotAnsweredAgain) {
    FakeHttpClient fake;
    fake.on_get(kUrl, {200, "{}", {}, {}, {}, {}});
    CoalescingHttpClient client(fake, {2});
    EXPECT_TRUE(client.fetch(get(kUrl)));
    EXPECT_TRUE(client.fetch(get(kUrl)));
    EXPECT_EQ(fake.count(Method::get, kUrl), 2u) << "single flight, not a cache";
}

// Issue 12: four garbage-token requests to a token endpoint slower than the
// timeout held both workers, and /search waited 9.5 s.
TEST(CoalescingClient, BeyondTheLimitFetchFailsAtOnceWithBusy) {
    FakeHttpClient fake;
    fake.on_get(kUrl, {200, "{}", {}, {}, {}, 500ms});
    CoalescingHttpClient client(fake, {1});
    std::thread holder([&] { EXPECT_TRUE(client.fetch(get(kUrl, {{"Authorization", "Bearer a"}}))); });
    while (client.in_use() == 0) std::this_thread::sleep_for(1ms);
    for (const char* token : {"Bearer a", "Bearer b"}) {  // waiting for the same answer needs a thread too
        const auto started = std::chrono::steady_clock::now();
        auto r = client.fetch(get(kUrl, {{"Authorization", token}}));
        EXPECT_LT(std::chrono::steady_clock::now() - started, 100ms) << "refused at once, not queued";
        EXPECT_FALSE(r.ok());
        if (r.ok()) continue;  // (no ASSERT: the holder thread must still be joined)
        EXPECT_EQ(r.error().code, ErrorCode::busy);
        EXPECT_EQ(r.error().message.find("Bearer"), std::string::npos);
    }
    holder.join();
    EXPECT_EQ(client.in_use(), 0u);
    EXPECT_TRUE(client.fetch(get(kUrl, {{"Authorization", "Bearer b"}}))) << "free again";
    EXPECT_EQ(fake.count(Method::get, kUrl), 2u);
}

TEST(CoalescingClient, NeverMoreThreadsInsideThanTheLimit) {
    FakeHttpClient fake;
    for (int i = 0; i < 8; ++i) fake.on_get(kUrl + std::to_string(i), {200, "{}", {}, {}, {}, 100ms});
    CoalescingHttpClient client(fake, {3});
    std::vector<HttpRequest> requests;
    for (int i = 0; i < 8; ++i) requests.push_back(get(kUrl + std::to_string(i)));
    size_t ok = 0, busy = 0;
    for (const auto& r : at_once(client, requests)) {
        if (r.ok()) ++ok;
        if (!r.ok() && r.error().code == ErrorCode::busy) ++busy;
    }
    EXPECT_LE(ok, 3u);
    EXPECT_GE(ok, 1u);
    EXPECT_EQ(ok + busy, 8u);
    EXPECT_EQ(fake.requests().size(), ok);
}

// Discovery through the shared client: concurrent logins and token checks for
// one profile fetch it once.
TEST(CoalescingClient, ConcurrentDiscoveriesOfOneProfileFetchItOnce) {
    FakeHttpClient fake;
    fake.on_get("https://me.example/",
                {200, "<!doctype html><title>me</title>",
                 {{"Link", "<https://auth.example/auth>; rel=\"authorization_endpoint\", "
                           "<https://tokens.example/token>; rel=\"token_endpoint\""}},
                 {},
                 {},
                 300ms});
    CoalescingHttpClient client(fake, {8});
    FakeClock clock{starpunk::testing::test_epoch()};
    auth::EndpointCache cache(clock);
    std::latch start(5);
    std::atomic<int> found{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 5; ++i) {
        threads.emplace_back([&] {
            start.arrive_and_wait();
            auto e = cache.get(client, "https://me.example/");
            if (e && e->token_endpoint == "https://tokens.example/token") ++found;
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(found.load(), 5);
    EXPECT_EQ(fake.count(Method::get, "https://me.example/"), 1u);
}

}  // namespace
}  // namespace starpunk::net
