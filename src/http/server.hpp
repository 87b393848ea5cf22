// The HTTP/1.1 server on Boost.Beast/Asio. This header is deliberately free of
// Beast and Asio: only server.cpp pays for them.
//
// Accepting: at most max_connections connections are open at once; at the cap
// the server stops accepting (new connections wait in the kernel's listen
// backlog) until one closes. When accept() itself fails — EMFILE/ENFILE when
// descriptors run out — it is retried after a back-off (10 ms doubling to 1 s),
// never at once, and the failure is logged at most once per 10 s with a count
// of the repeats; the first success after failures is logged too.
//
// Request life cycle, per connection (its handlers one at a time: a strand
// each with several I/O threads, the I/O loop itself with one):
//   1. read the header (header timeout on a fresh connection, keep-alive idle
//      timeout between requests); over max_header_bytes -> 431 and close;
//      bytes that are not HTTP/1.1 -> 400 and close (without a body when the
//      request line said HEAD);
//   2. a Transfer-Encoding other than exactly one `chunked`, or one together
//      with a Content-Length, or in HTTP/1.0 -> 400 and close (http/framing.hpp:
//      where the body ends would be ambiguous); a declared Content-Length over
//      cap -> 413 and close without reading the body; otherwise read the body
//      (body timeout), a chunked body that grows past the cap -> 413 and
//      close. The cap and where the body goes come from
//      Application::plan_body(), asked once the header is in: max_body_bytes
//      and memory (Request::body) unless it says otherwise; a body planned
//      `to_file` is written to an unlinked temporary file in upload_dir as it
//      arrives (Request::body_file), so memory does not grow with it;
//   3. Application::prepare() routes it on the I/O thread; inline routes are
//      handled right there, blocking ones on the worker pool, whose result is
//      posted back to the connection's executor;
//   4. Application::finalize() (the site's headers) and finalize_response()
//      (a Content-Type fallback) run, the response is written with the
//      request's X-Request-ID (chunked when it streams), one access-log line is
//      written, and the connection waits for the next request or closes.
// Shutdown (SIGTERM/SIGINT or stop()): stop accepting, close idle connections,
// let in-flight requests finish (their connections then close), exit run() when
// none are left or after shutdown_grace, whichever comes first.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "http/request.hpp"
#include "http/response.hpp"
#include "http/router.hpp"
#include "util/result.hpp"

namespace starpunk::http {

// What the server knows about a finished response.
struct Completion {
    int status = 0;
    std::uint64_t bytes = 0;           // bytes written (head and body)
    std::chrono::nanoseconds took{};   // from the first byte of the request to the last of the response
    bool aborted = false;              // the transfer failed before the response was complete
};

// Where a request's body goes and how large it may be, decided from the
// request line and header fields before any of the body is read.
struct BodyPlan {
    std::uint64_t max_bytes = 0;  // 0: ServerOptions::max_body_bytes
    bool to_file = false;         // spool into an unlinked temp file (Request::body_file)
};

class Application {
public:
    virtual ~Application() = default;
    // Called on the I/O thread once the header is read: `head` has method,
    // target, path and header fields (no body, no route). Must not block.
    virtual BodyPlan plan_body(const Request& head) {
        (void)head;
        return {};
    }
    // Routes `req` (sets req.route and req.params) and says where handle() must
    // run. Called on an I/O thread: must not block.
    virtual Execution prepare(Request& req) = 0;
    // Produces the response. Called on the I/O thread for inline routes and on a
    // worker thread for blocking ones. An escaping exception becomes a 500.
    virtual Response handle(Request& req) = 0;
    // The response for an error found before or around routing (400, 408, 413,
    // 431, 500, 503). `req` may be only partly filled (path may be empty).
    virtual Response error(const Request& req, int status, std::string_view message) = 0;
    // Adds the application's own headers (security headers, caching policy)
    // to every response, handler-made or the server's own error, just before
    // the server's finalize_response(). Called once per response.
    virtual void finalize(const Request& req, Response& res) {
        (void)req;
        (void)res;
    }
    // Told once per response after its last byte was written or the transfer
    // failed (metrics). Called on an I/O thread: must be cheap and not block.
    virtual void completed(const Request& req, const Completion& done) {
        (void)req;
        (void)done;
    }
};

struct ServerOptions {
    std::string host = "127.0.0.1";
    uint16_t port = 8000;                 // 0 = any free port (see Server::port())
    unsigned io_threads = 1;
    unsigned worker_threads = 2;
    std::uint64_t max_body_bytes = 10ull * 1024 * 1024;
    // Where bodies planned `to_file` are spooled (must exist; files there are
    // unlinked at creation). Empty: such bodies are refused with 500.
    std::string upload_dir;
    std::uint32_t max_header_bytes = 16 * 1024;
    std::chrono::milliseconds header_timeout{10'000};
    std::chrono::milliseconds body_timeout{60'000};
    std::chrono::milliseconds keepalive_timeout{30'000};
    std::chrono::milliseconds write_timeout{30'000};
    std::chrono::milliseconds shutdown_grace{10'000};
    std::size_t max_connections = 10'000;  // open at once (>= 1); see "Accepting" above
    bool access_log = true;
    // Called once, on an I/O thread, when shutdown begins (signal or stop()),
    // before connections drain: e.g. telling the service manager STOPPING=1.
    // Must not block.
    std::function<void()> on_shutdown;
};

class Server {
public:
    Server(ServerOptions options, Application& app);
    // Two-phase start, for a caller that needs the bound port before it can
    // build its application (links on the real port): construct, listen(),
    // then set_application() before run().
    explicit Server(ServerOptions options);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds and listens. Error (io) when the address is unusable or taken.
    Status listen();
    // The bound port (useful with port 0). Valid after listen() succeeded.
    uint16_t port() const;
    // Sets the application (not thread-safe; before run(), never during it).
    void set_application(Application& app);
    // Serves until stop() or SIGTERM/SIGINT, then drains (see above) and returns.
    // Precondition: an application was given (constructor or set_application).
    void run();
    // Begins a graceful shutdown. Thread-safe; may be called more than once.
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace starpunk::http
