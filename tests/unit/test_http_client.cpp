// Outbound HTTP (net/http_client.hpp): the address and scheme policy, limits
// (size, redirects, time) and the plumbing (headers, forms, final URL), against
// an in-process server on 127.0.0.1. Nothing here leaves the machine: refused
// addresses are refused before any socket exists.
#include "net/http_client.hpp"
#include "util/strings.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "support/loopback_server.hpp"

namespace starpunk::net {
namespace {

using namespace std::chrono_literals;
using starpunk::testing::LoopbackServer;

Policy loopback_policy() { return Policy::outbound(true); }

// ---------------------------------------------------------------------------
// Address classification

TEST(HttpClientPolicy, ClassifiesIpLiterals) {
    struct Case {
        const char* ip;
        AddressClass want;
    };
    const Case cases[] = {
        {"93.184.216.34", AddressClass::global},
        {"8.8.8.8", AddressClass::global},
        {"127.0.0.1", AddressClass::loopback},
        {"127.255.0.9", AddressClass::loopback},
        {"10.0.0.1", AddressClass::private_use},
        {"172.16.0.1", AddressClass::private_use},
        {"172.31.255.255", AddressClass::private_use},
        {"172.32.0.1", AddressClass::global},
        {"192.168.1.1", AddressClass::private_use},
        {"100.64.0.1", AddressClass::private_use},
        {"169.254.169.254", AddressClass::link_local},
        {"224.0.0.1", AddressClass::multicast},
        {"0.0.0.0", AddressClass::unspecified},
        {"255.255.255.255", AddressClass::reserved},
        {"192.0.2.1", AddressClass::reserved},
        {"::1", AddressClass::loopback},
        {"[::1]", AddressClass::loopback},
        {"::", AddressClass::unspecified},
        {"fc00::1", AddressClass::unique_local},
        {"fd12:3456::1", AddressClass::unique_local},
        {"fe80::1", AddressClass::link_local},
        {"febf::1", AddressClass::link_local},
        {"fec0::1", AddressClass::unique_local},
        {"ff02::1", AddressClass::multicast},
        {"2001:db8::1", AddressClass::reserved},
        {"2606:4700::1111", AddressClass::global},
        {"::ffff:127.0.0.1", AddressClass::loopback},
        {"::ffff:10.1.2.3", AddressClass::private_use},
        {"::ffff:8.8.8.8", AddressClass::global},
        {"::127.0.0.1", AddressClass::loopback},
        {"64:ff9b::a00:1", AddressClass::private_use},
        {"2002:c0a8:0101::1", AddressClass::private_use},  // 6to4 of 192.168.1.1
        {"2002:0808:0808::1", AddressClass::global},
    };
    for (const auto& c : cases) {
        auto got = classify_ip_literal(c.ip);
        ASSERT_TRUE(got.has_value()) << c.ip;
        EXPECT_EQ(*got, c.want) << c.ip << " is " << describe(*got);
    }
    EXPECT_FALSE(classify_ip_literal("example.com"));
    EXPECT_FALSE(classify_ip_literal(""));
    EXPECT_FALSE(classify_ip_literal("127.1"));  // inet_pton is strict: not a literal we accept
}

TEST(HttpClientPolicy, ClassifiesSocketAddressesAsCurlHandsThemOver) {
    sockaddr_in v4{};
    v4.sin_family = AF_INET;
    ::inet_pton(AF_INET, "192.168.0.10", &v4.sin_addr);
    EXPECT_EQ(classify_address(reinterpret_cast<const sockaddr*>(&v4)), AddressClass::private_use);

    sockaddr_in6 v6{};
    v6.sin6_family = AF_INET6;
    ::inet_pton(AF_INET6, "::ffff:127.0.0.1", &v6.sin6_addr);
    EXPECT_EQ(classify_address(reinterpret_cast<const sockaddr*>(&v6)), AddressClass::loopback);
    ::inet_pton(AF_INET6, "2a00:1450::1", &v6.sin6_addr);
    EXPECT_EQ(classify_address(reinterpret_cast<const sockaddr*>(&v6)), AddressClass::global);

    sockaddr unix_like{};
    unix_like.sa_family = AF_UNIX;
    EXPECT_EQ(classify_address(&unix_like), AddressClass::reserved);
    EXPECT_EQ(classify_address(nullptr), AddressClass::reserved);
}

TEST(HttpClientPolicy, WhichClassesAreAllowed) {
    EXPECT_TRUE(address_allowed(AddressClass::global, false));
    for (auto c : {AddressClass::loopback, AddressClass::private_use, AddressClass::link_local, AddressClass::unique_local}) {
        EXPECT_FALSE(address_allowed(c, false)) << describe(c);
        EXPECT_TRUE(address_allowed(c, true)) << describe(c);
    }
    for (auto c : {AddressClass::multicast, AddressClass::unspecified, AddressClass::reserved}) {
        EXPECT_FALSE(address_allowed(c, true)) << describe(c);
    }
}

TEST(HttpClientPolicy, CheckUrl) {
    const Policy strict;
    EXPECT_TRUE(check_url("https://example.com/x?y=1", strict).ok());
    EXPECT_TRUE(check_url("HTTPS://Example.com", strict).ok());
    for (const char* bad : {"http://example.com/", "ftp://example.com/", "file:///etc/passwd", "gopher://x/",
                            "https://user:pw@example.com/", "https:///nohost", "example.com", "",
                            "https://127.0.0.1/", "https://[::1]/", "https://10.0.0.1/", "https://[fe80::1]/"}) {
        auto st = check_url(bad, strict);
        EXPECT_FALSE(st.ok()) << bad;
        if (!st.ok()) {
            EXPECT_EQ(st.error().code, ErrorCode::io) << bad;
        }
    }
    const Policy loose = loopback_policy();
    EXPECT_TRUE(check_url("http://127.0.0.1:8000/", loose).ok());
    EXPECT_TRUE(check_url("http://[::1]/", loose).ok());
    EXPECT_FALSE(check_url("ftp://127.0.0.1/", loose).ok());
    EXPECT_FALSE(check_url("http://0.0.0.0/", loose).ok());
    EXPECT_FALSE(check_url("http://224.0.0.1/", loose).ok());
}

TEST(HttpClientPolicy, EncodingAndLogForms) {
    EXPECT_EQ(form_urlencode({{"a b", "c&d=e"}, {"me", "https://x.example/?q=1"}, {"u", "é~._-"}}),
              "a+b=c%26d%3De&me=https%3A%2F%2Fx.example%2F%3Fq%3D1&u=%C3%A9~._-");
    EXPECT_EQ(form_urlencode({}), "");
    EXPECT_EQ(starpunk::percent_encode("a b+/"), "a%20b%2B%2F");
    EXPECT_EQ(starpunk::percent_encode("\xC3\xA9~._-"), "%C3%A9~._-");
    EXPECT_EQ(url_for_log("https://user:pw@Example.com:8443/p/a?token=SECRET#frag"), "https://Example.com:8443/p/a");
    EXPECT_EQ(url_for_log("not a url"), "(invalid URL)");
    EXPECT_EQ(user_agent().rfind("StarPunk/", 0), 0u);
}

TEST(HttpClientPolicy, HeadersAreCaseInsensitiveAndKeepRepeats) {
    Headers h;
    h.add("Link", "<a>; rel=x");
    h.add("content-type", "text/html");
    h.add("LINK", "<b>; rel=y");
    EXPECT_EQ(h.get("Content-Type").value_or(""), "text/html");
    EXPECT_EQ(h.get("link").value_or(""), "<a>; rel=x");
    auto links = h.get_all("Link");
    ASSERT_EQ(links.size(), 2u);
    EXPECT_EQ(links[1], "<b>; rel=y");
    EXPECT_FALSE(h.get("Location"));
}

// ---------------------------------------------------------------------------
// Refusals through the real client (no socket is ever opened for them)

TEST(HttpClientRefuses, PlainHttpUnlessAllowed) {
    LoopbackServer server([](const auto&) { return LoopbackServer::response(200, "hi"); });
    CurlHttpClient client;  // production default: https only, public addresses only
    auto r = client.fetch({Method::get, server.url("/"), {}, {}});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::io);
    EXPECT_NE(r.error().message.find("http"), std::string::npos) << r.error().message;
    EXPECT_EQ(server.connections(), 0);
}

TEST(HttpClientRefuses, LoopbackPrivateAndLinkLocalLiterals) {
    CurlHttpClient client;
    for (const char* url : {"https://127.0.0.1/", "https://10.1.2.3/", "https://192.168.1.1/", "https://169.254.169.254/latest",
                            "https://172.16.5.4/", "https://[::1]/", "https://[fc00::1]/", "https://[fe80::1]/",
                            "https://[::ffff:127.0.0.1]/", "https://0.0.0.0/", "https://[::]/"}) {
        const auto start = std::chrono::steady_clock::now();
        auto r = client.fetch({Method::get, url, {}, {}});
        ASSERT_FALSE(r) << url;
        EXPECT_EQ(r.error().code, ErrorCode::io) << url;
        EXPECT_NE(r.error().message.find("refused"), std::string::npos) << url << ": " << r.error().message;
        EXPECT_LT(std::chrono::steady_clock::now() - start, 1s) << url;  // refused, not attempted
    }
}

// The authoritative check runs on the address curl is about to connect to, so
// a host NAME that resolves to loopback (the shape of a DNS-rebinding attack)
// is refused too, and the server never sees a connection.
TEST(HttpClientRefuses, NamesResolvingToLoopbackAtConnectTime) {
    LoopbackServer server([](const auto&) { return LoopbackServer::response(200, "hi"); });
    Policy p;
    p.allow_http = true;  // scheme allowed, addresses still public-only
    CurlHttpClient client(p);
    const std::string port = std::to_string(server.port());
    for (const std::string& url : std::vector<std::string>{"http://localhost:" + port + "/", "http://127.0.0.1:" + port + "/",
                                  "http://[::ffff:127.0.0.1]:" + port + "/"}) {
        auto r = client.fetch({Method::get, url, {}, {}});
        ASSERT_FALSE(r) << url;
        EXPECT_NE(r.error().message.find("loopback"), std::string::npos) << url << ": " << r.error().message;
    }
    EXPECT_EQ(server.connections(), 0);
}

TEST(HttpClientRefuses, HeaderInjection) {
    CurlHttpClient client(loopback_policy());
    auto r = client.fetch({Method::get, "http://127.0.0.1:1/", {{"X-A", "b\r\nX-Evil: 1"}}, {}});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
}

TEST(HttpClientRefuses, ErrorMessagesNeverCarryTheQueryString) {
    CurlHttpClient client(loopback_policy());
    // Nothing listens on port 1: connection refused, on loopback only.
    auto r = client.fetch({Method::get, "http://127.0.0.1:1/verify?access_token=SECRETTOKEN", {}, {}});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message.find("SECRETTOKEN"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("GET http://127.0.0.1:1/verify"), std::string::npos) << r.error().message;
}

// ---------------------------------------------------------------------------
// Talking to a loopback server (allowed by the insecure policy)

TEST(HttpClient, GetReturnsStatusHeadersBodyAndFinalUrl) {
    LoopbackServer server([](const LoopbackServer::Request& req) {
        return LoopbackServer::response(
            req.target == "/profile" ? 200 : 404, "<p>hello</p>",
            {{"Content-Type", "text/html"}, {"Link", "<https://a.example/auth>; rel=\"authorization_endpoint\""},
             {"link", "<https://a.example/token>; rel=\"token_endpoint\""}});
    });
    CurlHttpClient client(loopback_policy());
    auto r = client.fetch({Method::get, server.url("/profile"), {{"Accept", "text/html"}}, {}});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "<p>hello</p>");
    EXPECT_EQ(r->final_url, server.url("/profile"));
    EXPECT_EQ(r->headers.get("content-type").value_or(""), "text/html");
    EXPECT_EQ(r->headers.get_all("LINK").size(), 2u);

    auto requests = server.requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].method, "GET");
    EXPECT_EQ(requests[0].header("accept"), "text/html");
    EXPECT_EQ(requests[0].header("user-agent"), user_agent());

    auto missing = client.fetch({Method::get, server.url("/nothing"), {}, {}});
    ASSERT_TRUE(missing) << missing.error().message;  // a 404 is an answer, not an error
    EXPECT_EQ(missing->status, 404);
}

TEST(HttpClient, PostSendsAnUrlencodedForm) {
    LoopbackServer server([](const auto&) { return LoopbackServer::response(200, "{\"me\":\"x\"}"); });
    CurlHttpClient client(loopback_policy());
    auto r = client.fetch({Method::post, server.url("/auth"), {{"Accept", "application/json"}},
                           {{"grant_type", "authorization_code"}, {"code", "a b&c"}, {"big", std::string(3000, 'x')}}});
    ASSERT_TRUE(r) << r.error().message;
    auto requests = server.requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].method, "POST");
    EXPECT_EQ(requests[0].header("content-type"), "application/x-www-form-urlencoded");
    EXPECT_EQ(requests[0].header("expect"), "");  // no 100-continue round trip
    EXPECT_EQ(requests[0].body, "grant_type=authorization_code&code=a+b%26c&big=" + std::string(3000, 'x'));
}

TEST(HttpClient, FollowsRelativeRedirectsAndReportsTheFinalUrl) {
    LoopbackServer server([](const LoopbackServer::Request& req) -> std::optional<std::string> {
        if (req.target == "/start") return LoopbackServer::response(301, "", {{"Location", "/middle?x=1"}});
        if (req.target == "/middle?x=1") return LoopbackServer::response(302, "", {{"Location", "end"}});
        return LoopbackServer::response(200, "arrived");
    });
    CurlHttpClient client(loopback_policy());
    auto r = client.fetch({Method::get, server.url("/start"), {}, {}});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->body, "arrived");
    EXPECT_EQ(r->final_url, server.url("/end"));
    EXPECT_EQ(server.requests().size(), 3u);
}

TEST(HttpClient, RedirectLimit) {
    LoopbackServer server([](const LoopbackServer::Request& req) {
        const int n = std::stoi(req.target.substr(3));  // "/r/<n>"
        if (n == 0) return LoopbackServer::response(200, "done");
        return LoopbackServer::response(302, "", {{"Location", "/r/" + std::to_string(n - 1)}});
    });
    CurlHttpClient client(loopback_policy());
    auto five = client.fetch({Method::get, server.url("/r/5"), {}, {}});
    ASSERT_TRUE(five) << five.error().message;
    EXPECT_EQ(five->body, "done");

    auto six = client.fetch({Method::get, server.url("/r/6"), {}, {}});
    ASSERT_FALSE(six);
    EXPECT_EQ(six.error().code, ErrorCode::io);
    EXPECT_NE(six.error().message.find("too many redirects"), std::string::npos) << six.error().message;
    EXPECT_EQ(server.requests().size(), 6u + 6u);  // 6 hops for the first, 6 before giving up
}

TEST(HttpClient, EveryRedirectHopIsCheckedAgain) {
    LoopbackServer server([](const LoopbackServer::Request& req) {
        if (req.target == "/ftp") return LoopbackServer::response(302, "", {{"Location", "ftp://127.0.0.1/x"}});
        if (req.target == "/file") return LoopbackServer::response(302, "", {{"Location", "file:///etc/passwd"}});
        return LoopbackServer::response(302, "", {{"Location", "http://0.0.0.0:1/"}});
    });
    CurlHttpClient client(loopback_policy());
    for (const char* path : {"/ftp", "/file", "/unspecified"}) {
        auto r = client.fetch({Method::get, server.url(path), {}, {}});
        ASSERT_FALSE(r) << path;
        EXPECT_EQ(r.error().code, ErrorCode::io);
    }
}

TEST(HttpClient, SeeOtherTurnsPostIntoGetAndCrossOriginDropsCredentials) {
    std::string other_origin;
    LoopbackServer server([&other_origin](const LoopbackServer::Request& req) {
        if (req.target == "/post") return LoopbackServer::response(303, "", {{"Location", "/after"}});
        if (req.target == "/after") return LoopbackServer::response(307, "", {{"Location", other_origin + "/elsewhere"}});
        return LoopbackServer::response(200, "ok");
    });
    other_origin = "http://localhost:" + std::to_string(server.port());  // same server, another origin
    CurlHttpClient client(loopback_policy());
    auto r = client.fetch({Method::post, server.url("/post"), {{"Authorization", "Bearer SECRET"}}, {{"a", "b"}}});
    ASSERT_TRUE(r) << r.error().message;
    auto requests = server.requests();
    ASSERT_EQ(requests.size(), 3u);
    EXPECT_EQ(requests[0].method, "POST");
    EXPECT_EQ(requests[1].method, "GET");
    EXPECT_EQ(requests[1].body, "");
    EXPECT_EQ(requests[1].header("authorization"), "Bearer SECRET");  // same origin: kept
    EXPECT_EQ(requests[2].header("authorization"), "");               // other origin: dropped
    EXPECT_EQ(r->final_url, other_origin + "/elsewhere");
}

TEST(HttpClient, ResponseSizeCap) {
    LoopbackServer server([](const LoopbackServer::Request& req) -> std::optional<std::string> {
        if (req.target == "/exact") return LoopbackServer::response(200, std::string(1000, 'a'));
        if (req.target == "/announced") return LoopbackServer::response(200, std::string(5000, 'a'));
        // No Content-Length: the body ends when the connection closes.
        return "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + std::string(200000, 'b');
    });
    Policy p = loopback_policy();
    p.max_body_bytes = 1000;
    CurlHttpClient client(p);
    auto exact = client.fetch({Method::get, server.url("/exact"), {}, {}});
    ASSERT_TRUE(exact) << exact.error().message;
    EXPECT_EQ(exact->body.size(), 1000u);
    for (const char* path : {"/announced", "/streamed"}) {
        auto r = client.fetch({Method::get, server.url(path), {}, {}});
        ASSERT_FALSE(r) << path;
        EXPECT_EQ(r.error().code, ErrorCode::io);
        EXPECT_NE(r.error().message.find("larger than 1000 bytes"), std::string::npos) << r.error().message;
    }
}

TEST(HttpClient, TimesOutOnAServerThatNeverAnswers) {
    LoopbackServer server([](const auto&) -> std::optional<std::string> { return std::nullopt; });
    Policy p = loopback_policy();
    p.timeout = 300ms;
    CurlHttpClient client(p);
    const auto start = std::chrono::steady_clock::now();
    auto r = client.fetch({Method::get, server.url("/slow"), {}, {}});
    const auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::io);
    EXPECT_NE(r.error().message.find("timed out"), std::string::npos) << r.error().message;
    EXPECT_LT(took, 5s);
}

TEST(HttpClient, ConcurrentFetchesFromManyThreads) {
    LoopbackServer server([](const LoopbackServer::Request& req) { return LoopbackServer::response(200, req.target); });
    CurlHttpClient client(loopback_policy());
    std::atomic<int> good{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 5; ++i) {
                const std::string path = "/t" + std::to_string(t) + "/" + std::to_string(i);
                auto r = client.fetch({Method::get, server.url(path), {}, {}});
                if (r && r->body == path) ++good;
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(good.load(), 20);
}

}  // namespace
}  // namespace starpunk::net
