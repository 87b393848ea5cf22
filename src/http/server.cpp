// The only translation unit that includes Beast and Asio. See server.hpp for the
// request life cycle and the shutdown contract.
#include "http/server.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>
#include <unordered_map>
#include <vector>

#include "http/conditional.hpp"
#include "http/finalize.hpp"
#include "http/framing.hpp"
#include "log/log.hpp"
#include "util/strings.hpp"

namespace starpunk::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

Method to_method(bhttp::verb v) {
    switch (v) {
        case bhttp::verb::get: return Method::get;
        case bhttp::verb::head: return Method::head;
        case bhttp::verb::post: return Method::post;
        case bhttp::verb::put: return Method::put;
        case bhttp::verb::patch: return Method::patch;
        case bhttp::verb::delete_: return Method::delete_;
        case bhttp::verb::options: return Method::options;
        default: return Method::other;
    }
}

// The clock of connection deadlines: coarse (a few ms), which is all a
// timeout of a second or more needs, and cheaper to read than the precise one.
int64_t deadline_clock_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// "Fri, 27 Nov 2026 05:00:00 GMT", recomputed at most once per second per thread.
std::string_view http_date() {
    thread_local std::time_t cached_second = 0;
    thread_local std::string cached;
    std::time_t now = std::time(nullptr);
    if (now != cached_second) {
        cached_second = now;
        cached = format_http_date(now);
    }
    return cached;
}

}  // namespace

struct Server::Impl {
    class Session;

    ServerOptions options;
    Application* app = nullptr;  // set before run()
    asio::io_context ioc;
    asio::thread_pool workers;
    tcp::acceptor acceptor;
    asio::signal_set signals;
    asio::steady_timer drain_timer;
    // Connection deadlines (Session::arm): one sweep over every connection
    // per `sweep_interval` instead of a timer armed and cancelled per read
    // and write (that was two more handler runs per request).
    asio::steady_timer sweep_timer;
    std::chrono::milliseconds sweep_interval{250};
    std::chrono::steady_clock::time_point drain_deadline;
    std::atomic<bool> stopping{false};
    std::mutex sessions_mutex;
    std::unordered_map<Session*, std::weak_ptr<Session>> sessions;

    // Accepting (see server.hpp). `connections` counts open connections (up
    // when accepted, down when a Session is destroyed); `accept_paused` is set
    // while the cap stops accepting, and whoever clears it resumes.
    std::atomic<std::size_t> connections{0};
    std::atomic<bool> accept_paused{false};
    // On the acceptor's strand only:
    asio::steady_timer accept_timer;
    std::chrono::milliseconds accept_backoff{0};
    std::uint64_t accept_failures = 0;  // since the last successful accept
    log::RepeatFilter accept_log;

    Impl(ServerOptions opts, Application* application)
        : options(std::move(opts)),
          app(application),
          ioc(static_cast<int>(options.io_threads)),
          workers(options.worker_threads),
          acceptor(asio::make_strand(ioc)),
          signals(ioc, SIGINT, SIGTERM),
          drain_timer(ioc),
          sweep_timer(ioc),
          accept_timer(acceptor.get_executor()) {
        if (options.max_connections == 0) options.max_connections = 1;
        // A deadline is noticed at most an eighth of the shortest timeout late.
        const auto shortest = std::min({options.header_timeout, options.body_timeout, options.keepalive_timeout,
                                        options.write_timeout});
        sweep_interval = std::clamp(shortest / 8, std::chrono::milliseconds(5), std::chrono::milliseconds(250));
    }

    // The executor a new connection's handlers run on: its own strand when
    // several threads run the I/O loop; with one I/O thread (the default on a
    // one-core slice) the loop itself, which already runs one handler at a
    // time — a strand would only add its lock and queue to every completion.
    asio::any_io_executor connection_executor() {
        if (options.io_threads > 1) return asio::make_strand(ioc);
        return ioc.get_executor();
    }

    void do_accept();
    void sweep_deadlines();
    bool below_connection_cap();
    void accept_failed(beast::error_code ec);
    void connection_closed();
    void begin_shutdown();
    void check_drained();
};

// One connection. All of its handlers run on its executor (its strand, or the
// single I/O thread: connection_executor()), one at a time; only handle() for
// a blocking route runs elsewhere (a worker), and its result is posted back.
class Server::Impl::Session : public std::enable_shared_from_this<Session> {
public:
    Session(Impl& server, tcp::socket socket) : server_(server), socket_(std::move(socket)) {}

    ~Session() {
        {
            std::lock_guard lock(server_.sessions_mutex);
            server_.sessions.erase(this);
        }
        server_.connection_closed();
    }

    void start() {
        {
            std::lock_guard lock(server_.sessions_mutex);
            server_.sessions.emplace(this, weak_from_this());
        }
        beast::error_code ec;
        socket_.set_option(tcp::no_delay(true), ec);
        auto ep = socket_.remote_endpoint(ec);
        if (!ec) remote_ = ep.address().to_string();
        asio::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->read_header(); });
    }

    // The sweep (any thread) found this connection's deadline passed: on the
    // connection's executor, if it still has, the pending read or write is
    // cancelled and its handler sees timed_out_.
    void post_deadline_check() {
        asio::post(socket_.get_executor(), [self = shared_from_this()] {
            const int64_t deadline = self->deadline_ns_.load(std::memory_order_relaxed);
            if (deadline == 0 || deadline > deadline_clock_ns() || self->phase_ == Phase::closed) return;
            self->deadline_ns_.store(0, std::memory_order_relaxed);
            self->timed_out_ = true;
            beast::error_code ec;
            self->socket_.cancel(ec);
        });
    }
    bool past_deadline(int64_t now) const {
        const int64_t deadline = deadline_ns_.load(std::memory_order_relaxed);
        return deadline != 0 && deadline <= now;
    }

    // Called from any thread when shutdown begins: idle connections close now,
    // busy ones close after their response.
    void post_shutdown() {
        asio::post(socket_.get_executor(), [self = shared_from_this()] {
            self->keep_alive_ = false;
            if (self->phase_ == Phase::idle) self->close();
        });
    }

private:
    enum class Phase { idle, reading_body, handling, writing, closed };

    // One deadline per connection, for the read or write about to start; every
    // completion handler disarms it first. While a handler runs there is none:
    // a slow handler is never cut short.
    void arm(std::chrono::milliseconds timeout) {
        timed_out_ = false;
        deadline_ns_.store(deadline_clock_ns() + std::chrono::nanoseconds(timeout).count(), std::memory_order_relaxed);
    }
    void disarm() { deadline_ns_.store(0, std::memory_order_relaxed); }

    void read_header() {
        if (server_.stopping) return close();
        phase_ = Phase::idle;
        // A fresh Request for every request, but the field list's and the
        // path's storage carry over (no allocation for them once grown).
        auto fields = std::move(req_.headers);
        auto path = std::move(req_.path);
        auto id = std::move(req_.request_id);
        req_ = Request{};
        fields.clear();
        path.clear();
        id.clear();
        req_.headers = std::move(fields);
        req_.path = std::move(path);
        req_.request_id = std::move(id);
        res_ = Response{};
        body_parser_.reset();
        file_parser_.reset();
        header_parser_.emplace();
        header_parser_->header_limit(server_.options.max_header_bytes);
        // The cap is the application's (plan_body), checked in on_header once
        // the header is in; the header parser itself leaves lengths alone.
        header_parser_->body_limit(boost::none);
        // The whole header within the timeout, however it trickles in.
        arm(requests_ == 0 ? server_.options.header_timeout : server_.options.keepalive_timeout);
        bhttp::async_read_header(socket_, buffer_, *header_parser_,
                                 [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                     self->disarm();
                                     self->on_header(ec);
                                 });
    }

    void on_header(beast::error_code ec) {
        start_ = std::chrono::steady_clock::now();
        if (ec == bhttp::error::header_limit) {
            fill_request_line(header_parser_->get());  // a HEAD gets its 431 without a body
            return fail_early(431, "The request's header fields are too large.");
        }
        if (ec == bhttp::error::body_limit) {
            // Beast checks a declared Content-Length against the cap while it
            // parses the header: the body is never read.
            fill_request_line(header_parser_->get());
            return fail_early(413, "The request body is larger than this server accepts.");
        }
        if (ec) {
            // A quiet close for a peer that went away, timed out or sent nothing;
            // a 400 for bytes that arrived but are not HTTP/1.1, so the client
            // learns why.
            bool malformed = ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
                             ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
            if (malformed) {
                // The request line may have been read before the error: a HEAD
                // then gets its 400 without a body.
                fill_request_line(header_parser_->get());
                return fail_early(400, "The request could not be parsed as HTTP/1.1.");
            }
            return close();
        }
        ++requests_;
        phase_ = Phase::reading_body;
        auto& parser = *header_parser_;
        if (auto problem = framing_problem_of(parser.get())) {
            // Where the body ends is unclear (RFC 9112 §6.3): 400 and close,
            // never read what follows as another request.
            fill_request_line(parser.get());
            return fail_early(400, *problem);
        }
        // The application plans the body from the request line and fields.
        fill_request_line(parser.get());
        for (const auto& f : parser.get()) req_.headers.push_back({f.name_string(), f.value()});
        const BodyPlan plan = server_.app->plan_body(req_);
        req_.headers.clear();
        const std::uint64_t cap = plan.max_bytes > 0 ? plan.max_bytes : server_.options.max_body_bytes;
        auto length = parser.content_length();
        if (length && *length > cap) {
            return fail_early(413, "The request body is larger than this server accepts.");
        }
        if (plan.to_file) {
            if (server_.options.upload_dir.empty()) return fail_early(500, "This server cannot take uploads.");
            auto file = TempFile::create(server_.options.upload_dir);
            if (!file) {
                spdlog::error("cannot spool an upload: {}", file.error().message);
                return fail_early(500, "The upload could not be stored on the server.");
            }
            const int fd = ::dup((*file)->fd());
            if (fd < 0) return fail_early(500, "The upload could not be stored on the server.");
            file_parser_.emplace(std::move(parser));
            header_parser_.reset();
            file_parser_->body_limit(cap);
            beast::file spool;
            spool.native_handle(fd);  // owned by the parser's body from here on
            beast::error_code opened;
            file_parser_->get().body().reset(std::move(spool), opened);
            if (opened) return fail_early(500, "The upload could not be stored on the server.");
            req_.body_file = std::move(*file);
            return start_body(*file_parser_);
        }
        body_parser_.emplace(std::move(parser));
        header_parser_.reset();
        body_parser_->body_limit(cap);
        start_body(*body_parser_);
    }

    template <class Parser>
    void start_body(Parser& parser) {
        if (parser.is_done()) return on_request(parser);
        auto expect = parser.get()[bhttp::field::expect];
        if (iequals(expect, "100-continue")) {
            arm(server_.options.write_timeout);
            asio::async_write(socket_, asio::buffer(std::string_view("HTTP/1.1 100 Continue\r\n\r\n")),
                              [self = shared_from_this(), &parser](beast::error_code wec, std::size_t) {
                                  self->disarm();
                                  if (wec) return self->close();
                                  self->read_body(parser);
                              });
            return;
        }
        read_body(parser);
    }

    // `parser` is one of this session's optional parsers, alive until the
    // next read_header().
    template <class Parser>
    void read_body(Parser& parser) {
        arm(server_.options.body_timeout);
        bhttp::async_read(socket_, buffer_, parser, [self = shared_from_this(), &parser](beast::error_code ec, std::size_t) {
            self->disarm();
            if (ec == bhttp::error::body_limit) {
                self->fill_request_line(parser.get());
                return self->fail_early(413, "The request body is larger than this server accepts.");
            }
            if (ec && self->timed_out_) {
                self->fill_request_line(parser.get());
                return self->fail_early(408, "The request body did not arrive in time.");
            }
            namespace errc = boost::system::errc;
            if (ec && self->req_.body_file &&
                (ec == errc::no_space_on_device || ec == errc::io_error || ec == errc::file_too_large)) {
                // Writing the spooled body failed (ENOSPC, EIO): the server's fault;
                // a full disk is 507 (the same upload succeeds once space is freed).
                spdlog::error("spooling an upload failed: {}", ec.message());
                self->fill_request_line(parser.get());
                if (ec == errc::no_space_on_device) {
                    return self->fail_early(507, "The upload could not be stored: the server's disk is full.");
                }
                return self->fail_early(500, "The upload could not be stored on the server.");
            }
            if (ec) return self->close();
            self->on_request(parser);
        });
    }

    // Fills method, target and path from a parsed header; false when the target
    // is not an origin-form path we can serve.
    template <class Fields>
    bool fill_request_line(const bhttp::request_header<Fields>& h) {
        point_request_line(h);
        req_.remote_address = remote_;
        choose_request_id(optional_field(h, "X-Request-ID"), req_.request_id);
        target_ok_ = false;
        if (req_.raw_path.empty() || req_.raw_path.front() != '/') return false;
        auto decoded = percent_decode(req_.raw_path);
        if (!decoded) return false;
        req_.path = std::move(*decoded);
        target_ok_ = true;
        return true;
    }

    // The request's views of the header: method, target, raw path, query.
    template <class Fields>
    void point_request_line(const bhttp::request_header<Fields>& h) {
        req_.method = to_method(h.method());
        req_.method_text = h.method_string();
        req_.target = h.target();
        std::string_view target = req_.target;
        size_t q = target.find('?');
        req_.raw_path = target.substr(0, q);
        req_.query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
    }

    template <class Fields>
    static std::optional<std::string_view> framing_problem_of(const bhttp::request_header<Fields>& h) {
        RequestFraming framing;
        for (auto [it, end] = h.equal_range(bhttp::field::transfer_encoding); it != end; ++it) {
            framing.transfer_encoding.push_back(it->value());
        }
        if (framing.transfer_encoding.empty()) return std::nullopt;
        framing.has_content_length = h.count(bhttp::field::content_length) > 0;
        framing.version = h.version();
        return framing_problem(framing);
    }

    template <class Fields>
    static std::optional<std::string_view> optional_field(const bhttp::request_header<Fields>& h,
                                                          std::string_view name) {
        auto it = h.find(name);
        if (it == h.end()) return std::nullopt;
        return it->value();
    }

    template <class Parser>
    void on_request(Parser& parser) {
        phase_ = Phase::handling;
        auto& msg = parser.get();
        // on_header filled the request line (id, decoded path) from this very
        // header; the parser has moved since, so only the views are taken again.
        const bool target_ok = target_ok_;
        point_request_line(msg);
        req_.headers.clear();
        req_.headers.reserve(16);
        for (const auto& f : msg) req_.headers.push_back({f.name_string(), f.value()});
        if constexpr (std::is_same_v<typename Parser::value_type::body_type, bhttp::string_body>) {
            req_.body = std::move(msg.body());
        } else {
            msg.body().close();  // the spool's data stays with req_.body_file
        }
        keep_alive_ = msg.keep_alive() && !server_.stopping;
        log::RequestScope scope(req_.request_id);
        if (!target_ok) {
            res_ = server_.app->error(req_, 400, "The request target is not a valid path.");
            return write_response();
        }
        Execution where = Execution::inline_;
        try {
            where = server_.app->prepare(req_);
        } catch (const std::exception& e) {
            spdlog::error("routing failed: {}", e.what());
            res_ = server_.app->error(req_, 500, "Something went wrong on our side.");
            return write_response();
        }
        if (where == Execution::inline_) {
            res_ = safe_handle();
            return write_response();
        }
        blocking_ = true;
        asio::post(server_.workers, [self = shared_from_this()] {
            Response res;
            {
                log::RequestScope worker_scope(self->req_.request_id);
                res = self->safe_handle();
            }
            asio::post(self->socket_.get_executor(), [self, r = std::move(res)]() mutable {
                self->res_ = std::move(r);
                self->write_response();
            });
        });
    }

    Response safe_handle() {
        try {
            return server_.app->handle(req_);
        } catch (const std::exception& e) {
            spdlog::error("handler for {} {} failed: {}", req_.method_text, req_.path, e.what());
        } catch (...) {
            spdlog::error("handler for {} {} failed with an unknown exception", req_.method_text, req_.path);
        }
        return server_.app->error(req_, 500, "Something went wrong on our side.");
    }

    // An error answered before routing; the connection closes afterwards because
    // the rest of the request (body) was not read.
    void fail_early(int status, std::string_view message) {
        phase_ = Phase::handling;
        keep_alive_ = false;
        if (req_.request_id.empty()) req_.request_id = random_uuid();
        log::RequestScope scope(req_.request_id);
        res_ = server_.app->error(req_, status, message);
        write_response();
    }

    void write_response() {
        phase_ = Phase::writing;
        server_.app->finalize(req_, res_);
        finalize_response(req_, res_);
        if (server_.stopping) keep_alive_ = false;
        bool head = req_.method == Method::head;
        bool bodiless_status = res_.status == 204 || res_.status == 304 || (res_.status >= 100 && res_.status < 200);
        arm(server_.options.write_timeout);
        if (res_.file && !head && !bodiless_status) return write_file();
        if (res_.stream && !res_.file && !head && !bodiless_status) return write_stream_header();

        // A body held in memory: we serialise the head ourselves into one
        // buffer and write head + body with one gather write. (Beast's
        // serializer hands the kernel one iovec per header field and allocates
        // a node per field; this path allocates nothing once head_ has grown.)
        std::string_view body = res_.body_view();
        // HEAD of a streamed response: its length is unknown, so none is
        // claimed; of a file, the file's length.
        std::optional<size_t> length;
        if (res_.file) length = static_cast<size_t>(res_.file->length);
        else if (!res_.stream) length = body.size();
        serialize_head(bodiless_status ? std::nullopt : length);
        if (head || bodiless_status) body = {};
        std::array<asio::const_buffer, 2> buffers{asio::buffer(head_), asio::buffer(body.data(), body.size())};
        // Asio's own completion conditions hand the kernel at most 64 KiB per
        // write; a large body (a 1 MB image) would take one reactor round per
        // 64 KiB. Offer the rest each time; the kernel takes what fits.
        auto whole_rest = [](const beast::error_code& ec, std::size_t) -> std::size_t {
            return ec ? 0 : std::size_t{1} << 30;
        };
        asio::async_write(socket_, buffers, whole_rest, [self = shared_from_this()](beast::error_code ec, std::size_t n) {
            self->disarm();
            self->bytes_ += n;
            self->finish(ec);
        });
    }

    // A file body (http/response.hpp: FileBody): the head, then the file's
    // range with sendfile — the kernel passes the file's pages to the socket,
    // nothing is copied here.
    void write_file() {
        serialize_head(static_cast<size_t>(res_.file->length));
        head_sent_ = 0;
        file_sent_ = 0;
        beast::error_code ec;
        if (!socket_.native_non_blocking()) socket_.native_non_blocking(true, ec);
        if (ec) return end_file(ec);
        send_file_part();
    }

    // As much of the head and then of the file as the socket takes now; when
    // it takes no more, waits until it is writable (the write deadline still
    // applies: the sweep cancels the wait). The head goes with MSG_MORE, so it
    // leaves in one segment with the file's first bytes.
    void send_file_part() {
        const int sock = socket_.native_handle();
        const FileBody& file = *res_.file;
        const auto last_error = [] { return beast::error_code(errno, boost::system::system_category()); };
        while (head_sent_ < head_.size()) {
            const int more = file.length > 0 ? MSG_MORE : 0;
            const ssize_t n = ::send(sock, head_.data() + head_sent_, head_.size() - head_sent_,
                                     more | MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) return wait_writable();
                return end_file(last_error());
            }
            head_sent_ += static_cast<std::size_t>(n);
            bytes_ += static_cast<std::size_t>(n);
        }
        while (file_sent_ < file.length) {
            off_t at = static_cast<off_t>(file.offset + file_sent_);
            const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(file.length - file_sent_, 1u << 30));
            const ssize_t n = ::sendfile(sock, file.fd, &at, want);
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) return wait_writable();
                return end_file(last_error());
            }
            if (n == 0) {  // the file is shorter than the head said: abort, never pad
                log::RequestScope scope(req_.request_id);
                spdlog::error("{} ended {} bytes short of the length its head gave", req_.path, file.length - file_sent_);
                return end_file(beast::error_code(EIO, boost::system::system_category()));
            }
            file_sent_ += static_cast<std::uint64_t>(n);
            bytes_ += static_cast<std::size_t>(n);
        }
        end_file({});
    }

    void wait_writable() {
        socket_.async_wait(tcp::socket::wait_write, [self = shared_from_this()](beast::error_code ec) {
            if (ec) return self->end_file(ec);
            self->send_file_part();
        });
    }

    void end_file(beast::error_code ec) {
        disarm();
        finish(ec);
    }

    // Status line, Date, the response's headers and blocks, X-Request-ID,
    // Content-Length (when given) and Connection: close (when closing) into
    // head_. CR and LF
    // in a header value are replaced by spaces (blocks were built that way):
    // no value can start a header of its own.
    void serialize_head(std::optional<size_t> content_length) {
        head_.clear();
        head_.append("HTTP/1.1 ");
        head_.append(std::to_string(res_.status));
        head_.push_back(' ');
        head_.append(reason_phrase(res_.status));
        head_.append("\r\nDate: ");
        head_.append(http_date());
        head_.append("\r\n");
        for (const auto& [name, value] : res_.headers) append_header_line(head_, name, value);
        for (std::string_view block : res_.blocks) head_.append(block);
        // A sane token or a UUID (choose_request_id): nothing to clean.
        head_.append("X-Request-ID: ");
        head_.append(req_.request_id);
        head_.append("\r\n");
        if (content_length) {
            head_.append("Content-Length: ");
            head_.append(std::to_string(*content_length));
            head_.append("\r\n");
        }
        if (!keep_alive_) head_.append("Connection: close\r\n");
        head_.append("\r\n");
    }

    void write_stream_header() {
        out_.emplace();
        auto& out = *out_;
        out.version(11);
        out.result(static_cast<unsigned>(res_.status));
        out.reason(reason_phrase(res_.status));
        out.set(bhttp::field::date, http_date());
        for (const auto& [name, value] : res_.headers) out.insert(name, value);
        for (std::string_view block : res_.blocks) {
            for_each_block_line(block, [&](std::string_view name, std::string_view value) { out.insert(name, value); });
        }
        out.insert("X-Request-ID", req_.request_id);
        out.keep_alive(keep_alive_);
        out.chunked(true);
        serializer_.emplace(out);
        bhttp::async_write_header(socket_, *serializer_, [self = shared_from_this()](beast::error_code ec, std::size_t n) {
            self->disarm();
            self->bytes_ += n;
            if (ec) return self->finish(ec);
            self->write_next_chunk();
        });
    }

    void write_next_chunk() {
        if (blocking_) {
            asio::post(server_.workers, [self = shared_from_this()] {
                auto produced = self->pull_chunk();
                asio::post(self->socket_.get_executor(),
                           [self, p = std::move(produced)]() mutable { self->send_chunk(std::move(p)); });
            });
            return;
        }
        send_chunk(pull_chunk());
    }

    Result<bool> pull_chunk() {
        log::RequestScope scope(req_.request_id);
        chunk_.clear();
        try {
            return res_.stream(chunk_);
        } catch (const std::exception& e) {
            return make_error(ErrorCode::internal, e.what());
        }
    }

    void send_chunk(Result<bool> produced) {
        if (!produced) {
            log::RequestScope scope(req_.request_id);
            spdlog::error("streamed response for {} aborted: {}", req_.path, produced.error().message);
            keep_alive_ = false;
            return finish(beast::error::timeout);  // any error: abort the transfer
        }
        auto& body = out_->body();
        if (*produced) {
            if (chunk_.empty()) return write_next_chunk();  // an empty chunk would end the body
            body.data = chunk_.data();
            body.size = chunk_.size();
            body.more = true;
        } else {
            body.data = nullptr;
            body.size = 0;
            body.more = false;
        }
        arm(server_.options.write_timeout);
        bhttp::async_write(socket_, *serializer_,
                           [self = shared_from_this(), last = !*produced](beast::error_code ec, std::size_t n) {
                               self->disarm();
                               self->bytes_ += n;
                               if (ec == bhttp::error::need_buffer) ec = {};
                               if (ec || last) return self->finish(ec);
                               self->write_next_chunk();
                           });
    }

    void finish(beast::error_code ec) {
        const auto took = std::chrono::steady_clock::now() - start_;
        server_.app->completed(req_, Completion{res_.status, bytes_, took, static_cast<bool>(ec)});
        if (server_.options.access_log) {
            log::RequestScope scope(req_.request_id);
            auto micros = std::chrono::duration_cast<std::chrono::microseconds>(took).count();
            spdlog::info("{} {} {} {}B {:.3f}ms{}", req_.method_text.empty() ? "-" : req_.method_text,
                         req_.path.empty() ? "-" : req_.path, res_.status, bytes_, static_cast<double>(micros) / 1000.0,
                         ec ? " (aborted)" : "");
        }
        bytes_ = 0;
        blocking_ = false;
        serializer_.reset();
        out_.reset();
        res_ = Response{};  // free the body now, not at the next request
        if (ec || !keep_alive_) return close();
        read_header();
    }

    void close() {
        if (phase_ == Phase::closed) return;
        phase_ = Phase::closed;
        beast::error_code ec;
        disarm();
        socket_.shutdown(tcp::socket::shutdown_send, ec);
        socket_.close(ec);
    }

    Impl& server_;
    tcp::socket socket_;
    beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<bhttp::empty_body>> header_parser_;
    std::optional<bhttp::request_parser<bhttp::string_body>> body_parser_;
    std::optional<bhttp::request_parser<bhttp::file_body>> file_parser_;
    std::optional<bhttp::response<bhttp::buffer_body>> out_;
    std::optional<bhttp::response_serializer<bhttp::buffer_body>> serializer_;
    Request req_;
    Response res_;
    std::string chunk_;
    std::string head_;  // serialised response head, reused across requests
    std::size_t head_sent_ = 0;     // a file response: bytes of head_ written
    std::uint64_t file_sent_ = 0;   // and of its file range
    std::string remote_;
    Phase phase_ = Phase::idle;
    bool keep_alive_ = true;
    bool target_ok_ = false;  // the last fill_request_line() found an origin-form path
    bool blocking_ = false;
    bool timed_out_ = false;  // the deadline cancelled the last read or write
    std::atomic<int64_t> deadline_ns_{0};  // deadline_clock_ns(); 0: none (read by the sweep)
    std::uint64_t requests_ = 0;
    std::size_t bytes_ = 0;
    std::chrono::steady_clock::time_point start_{};
};

// On the acceptor's strand.
void Server::Impl::do_accept() {
    if (stopping || !below_connection_cap()) return;
    acceptor.async_accept(connection_executor(), [this](beast::error_code ec, tcp::socket socket) {
        if (stopping) return;
        if (ec) {
            if (ec == asio::error::operation_aborted) return;
            return accept_failed(ec);
        }
        if (accept_failures > 0) {
            spdlog::info("accepting connections again after {} failed attempt(s)", accept_failures);
            accept_failures = 0;
        }
        accept_backoff = std::chrono::milliseconds(0);
        connections.fetch_add(1);
        std::make_shared<Session>(*this, std::move(socket))->start();
        do_accept();
    });
}

// On the I/O loop, every sweep_interval until shutdown: connections past
// their deadline are told (post_deadline_check). The map lock keeps each
// listed Session alive while its deadline is read (its destructor erases it
// under the same lock first).
void Server::Impl::sweep_deadlines() {
    const int64_t now = deadline_clock_ns();
    std::vector<std::shared_ptr<Session>> late;
    {
        std::lock_guard lock(sessions_mutex);
        for (auto& [ptr, weak] : sessions) {
            if (!ptr->past_deadline(now)) continue;
            if (auto s = weak.lock()) late.push_back(std::move(s));
        }
    }
    for (auto& s : late) s->post_deadline_check();
    sweep_timer.expires_after(sweep_interval);
    sweep_timer.async_wait([this](beast::error_code ec) {
        if (!ec) sweep_deadlines();
    });
}

// On the acceptor's strand: may another connection be accepted? If not,
// accepting pauses; connection_closed() resumes it.
bool Server::Impl::below_connection_cap() {
    if (connections.load() < options.max_connections) return true;
    accept_paused.store(true);
    // A connection may have closed between the load and the store, and seen
    // no pause to end: look again. Whoever clears the flag resumes.
    if (connections.load() < options.max_connections) {
        if (accept_paused.exchange(false)) return true;
        return false;  // connection_closed() cleared it and has posted do_accept()
    }
    if (auto held_back = accept_log.admit("connection limit")) {
        spdlog::warn("connection limit reached ({} open); new connections wait until one closes{}",
                     options.max_connections, log::repeated_suffix(*held_back));
    }
    return false;
}

// Any thread: a Session is gone.
void Server::Impl::connection_closed() {
    connections.fetch_sub(1);
    if (!stopping && accept_paused.exchange(false)) {
        asio::post(acceptor.get_executor(), [this] { do_accept(); });
    }
}

// On the acceptor's strand. Running out of descriptors (EMFILE, ENFILE) or
// memory does not pass by itself: retrying at once spun a core and wrote a log
// line per attempt. Wait, doubling from 10 ms to 1 s, and log the failure at
// most once per 10 s. A connection aborted before it was accepted concerns
// that connection only: go on at once.
void Server::Impl::accept_failed(beast::error_code ec) {
    ++accept_failures;
    const std::string what = ec.message();
    if (auto held_back = accept_log.admit("accept failed: " + what)) {
        spdlog::warn("accept failed: {}{}", what, log::repeated_suffix(*held_back));
    }
    if (ec == asio::error::connection_aborted) return do_accept();
    accept_backoff = std::clamp(accept_backoff * 2, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
    accept_timer.expires_after(accept_backoff);
    accept_timer.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec) do_accept();
    });
}

void Server::Impl::begin_shutdown() {
    if (stopping.exchange(true)) return;
    spdlog::info("shutting down: no new connections, finishing requests in flight");
    if (options.on_shutdown) options.on_shutdown();
    beast::error_code ec;
    acceptor.close(ec);  // a pending back-off timer finds `stopping` and accepts nothing
    std::vector<std::shared_ptr<Session>> live;
    {
        std::lock_guard lock(sessions_mutex);
        for (auto& [ptr, weak] : sessions) {
            if (auto s = weak.lock()) live.push_back(std::move(s));
        }
    }
    for (auto& s : live) s->post_shutdown();
    drain_deadline = std::chrono::steady_clock::now() + options.shutdown_grace;
    check_drained();
}

void Server::Impl::check_drained() {
    size_t left;
    {
        std::lock_guard lock(sessions_mutex);
        left = sessions.size();
    }
    if (left == 0) {
        ioc.stop();
        return;
    }
    if (std::chrono::steady_clock::now() >= drain_deadline) {
        spdlog::warn("shutdown grace period over; closing {} connection(s) still busy", left);
        ioc.stop();
        return;
    }
    drain_timer.expires_after(std::chrono::milliseconds(20));
    drain_timer.async_wait([this](beast::error_code ec) {
        if (!ec) check_drained();
    });
}

Server::Server(ServerOptions options, Application& app) : impl_(std::make_unique<Impl>(std::move(options), &app)) {}

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options), nullptr)) {}

void Server::set_application(Application& app) { impl_->app = &app; }

Server::~Server() = default;

Status Server::listen() {
    auto& a = impl_->acceptor;
    beast::error_code ec;
    auto address = asio::ip::make_address(impl_->options.host, ec);
    if (ec) return make_error(ErrorCode::invalid_input, "HOST \"" + impl_->options.host + "\" is not an IP address");
    tcp::endpoint ep(address, impl_->options.port);
    std::string where = impl_->options.host + ":" + std::to_string(impl_->options.port);
    a.open(ep.protocol(), ec);
    if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) a.bind(ep, ec);
    if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return make_error(ErrorCode::io, "cannot listen on " + where + ": " + ec.message());
    return {};
}

uint16_t Server::port() const {
    beast::error_code ec;
    auto ep = impl_->acceptor.local_endpoint(ec);
    return ec ? 0 : ep.port();
}

void Server::run() {
    auto& impl = *impl_;
    assert(impl.app != nullptr && "Server::run() needs an application (set_application)");
    impl.signals.async_wait([&impl](beast::error_code ec, int) {
        if (!ec) impl.begin_shutdown();
    });
    impl.do_accept();
    impl.sweep_deadlines();
    std::vector<std::thread> threads;
    for (unsigned i = 1; i < impl.options.io_threads; ++i) {
        threads.emplace_back([&impl] {
            log::set_thread_context("-");
            impl.ioc.run();
        });
    }
    log::set_thread_context("-");
    impl.ioc.run();
    for (auto& t : threads) t.join();
    impl.workers.join();
    spdlog::info("server stopped");
}

void Server::stop() {
    asio::post(impl_->ioc, [impl = impl_.get()] { impl->begin_shutdown(); });
}

}  // namespace starpunk::http
