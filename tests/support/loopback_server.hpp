// A tiny HTTP/1.1 server on 127.0.0.1 for tests of outbound HTTP: one thread,
// one connection at a time, every response closes its connection.
//
// The handler receives the parsed request and returns the raw response bytes;
// std::nullopt means "never answer" (the connection is held open until the
// server is destroyed), for timeout tests.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace starpunk::testing {

class LoopbackServer {
public:
    struct Request {
        std::string method;
        std::string target;
        std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
        std::string body;

        std::string header(std::string_view name) const {
            for (const auto& [n, v] : headers)
                if (n == name) return v;
            return {};
        }
    };
    using Handler = std::function<std::optional<std::string>(const Request&)>;

    explicit LoopbackServer(Handler handler) : handler_(std::move(handler)) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) throw std::runtime_error("socket failed");
        const int one = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 16) != 0) {
            ::close(fd_);
            throw std::runtime_error("bind/listen failed");
        }
        socklen_t len = sizeof addr;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this] { run(); });
    }

    ~LoopbackServer() {
        stop_ = true;
        thread_.join();
        ::close(fd_);
    }
    LoopbackServer(const LoopbackServer&) = delete;
    LoopbackServer& operator=(const LoopbackServer&) = delete;

    uint16_t port() const { return port_; }
    std::string url(std::string_view path = "/") const {
        return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
    }
    int connections() const { return connections_; }
    std::vector<Request> requests() const {
        std::lock_guard lock(mutex_);
        return requests_;
    }

    // A complete response with Content-Length and Connection: close.
    static std::string response(int status, std::string_view body = {},
                                const std::vector<std::pair<std::string, std::string>>& headers = {}) {
        std::string out = "HTTP/1.1 " + std::to_string(status) + " X\r\n";
        for (const auto& [n, v] : headers) out += n + ": " + v + "\r\n";
        out += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
        out += body;
        return out;
    }

private:
    // Waits until `fd` is readable or the server stops; false on stop.
    bool wait_readable(int fd) const {
        while (!stop_) {
            pollfd p{fd, POLLIN, 0};
            const int r = ::poll(&p, 1, 20);
            if (r > 0) return true;
        }
        return false;
    }

    void run() {
        while (wait_readable(fd_)) {
            const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0) continue;
            ++connections_;
            serve(c);
            ::close(c);
        }
    }

    void serve(int c) {
        std::string data;
        char buf[4096];
        size_t header_end = std::string::npos;
        while (header_end == std::string::npos) {
            if (!wait_readable(c)) return;
            const ssize_t n = ::recv(c, buf, sizeof buf, 0);
            if (n <= 0) return;
            data.append(buf, static_cast<size_t>(n));
            header_end = data.find("\r\n\r\n");
        }
        Request req;
        std::string_view head(data.data(), header_end);
        size_t eol = head.find("\r\n");
        std::string_view line = head.substr(0, eol);
        const size_t sp1 = line.find(' ');
        const size_t sp2 = line.find(' ', sp1 + 1);
        req.method = std::string(line.substr(0, sp1));
        req.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
        while (eol != std::string_view::npos) {
            const size_t next = head.find("\r\n", eol + 2);
            std::string_view field = head.substr(eol + 2, next == std::string_view::npos ? std::string_view::npos : next - eol - 2);
            const size_t colon = field.find(':');
            if (colon != std::string_view::npos) {
                std::string name(field.substr(0, colon));
                for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                std::string_view value = field.substr(colon + 1);
                while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
                req.headers.emplace_back(std::move(name), std::string(value));
            }
            eol = next;
        }
        const size_t length = req.header("content-length").empty() ? 0 : std::stoul(req.header("content-length"));
        req.body = data.substr(header_end + 4);
        while (req.body.size() < length) {
            if (!wait_readable(c)) return;
            const ssize_t n = ::recv(c, buf, sizeof buf, 0);
            if (n <= 0) break;
            req.body.append(buf, static_cast<size_t>(n));
        }
        {
            std::lock_guard lock(mutex_);
            requests_.push_back(req);
        }
        const std::optional<std::string> answer = handler_(req);
        if (!answer) {  // hang until the server stops or the client gives up
            while (wait_readable(c)) {
                if (::recv(c, buf, sizeof buf, 0) <= 0) return;
            }
            return;
        }
        size_t sent = 0;
        while (sent < answer->size()) {
            const ssize_t n = ::send(c, answer->data() + sent, answer->size() - sent, MSG_NOSIGNAL);
            if (n <= 0) return;
            sent += static_cast<size_t>(n);
        }
        ::shutdown(c, SHUT_WR);
    }

    Handler handler_;
    int fd_ = -1;
    uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> connections_{0};
    mutable std::mutex mutex_;
    std::vector<Request> requests_;
    std::thread thread_;
};

}  // namespace starpunk::testing
