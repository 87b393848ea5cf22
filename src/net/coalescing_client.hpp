// The HttpClient every outbound call of the server goes through: it wraps the
// real client (CurlHttpClient) and protects the worker pool from slow or dead
// remote servers.
//
// Invariants:
//   1. At most `max_threads` threads are inside fetch() at once — making a
//      request or waiting for an identical one (2.). Beyond that, fetch()
//      fails at once with ErrorCode::busy, never waits: so outbound calls hold
//      at most that many workers however slow the remote server is, and
//      requests that need no outbound call always find a free worker.
//   2. Identical concurrent GETs (same URL, same header fields, no form) share
//      one request: the first thread makes it, the others wait for its answer
//      and get a copy (single flight). Token verifications of one token and
//      discoveries of one profile URL thus reach the remote server once,
//      however many requests ask at the same moment. POSTs are never shared.
//   3. Requests are keyed by a SHA-256 of their URL and header fields: no
//      token is kept in the table of requests in flight.
// Errors: the wrapped client's, plus busy (invariant 1).
// Thread-safety: fetch() may be called concurrently; the wrapped client must
// allow that too.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "net/http_client.hpp"

namespace starpunk::net {

class CoalescingHttpClient final : public HttpClient {
public:
    struct Options {
        std::size_t max_threads = 1;  // >= 1
    };

    // `inner` must outlive this client.
    CoalescingHttpClient(HttpClient& inner, Options options);

    Result<HttpResponse> fetch(const HttpRequest& request) override;

    // Threads inside fetch() now; requests answered from another's (since start). For tests.
    std::size_t in_use() const;
    std::size_t shared_answers() const;

private:
    struct Flight {
        std::mutex mutex;
        std::condition_variable done_cv;
        bool done = false;
        std::optional<Result<HttpResponse>> result;
    };
    Result<HttpResponse> fetch_shared(const HttpRequest& request);

    HttpClient& inner_;
    Options options_;
    mutable std::mutex mutex_;
    std::size_t in_use_ = 0;
    std::size_t shared_answers_ = 0;
    std::map<std::string, std::shared_ptr<Flight>, std::less<>> flights_;  // key: SHA-256 of the request
};

}  // namespace starpunk::net
