#include "render/isolated.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "render/worker.hpp"

extern char** environ;

namespace starpunk::render {

using Clock = std::chrono::steady_clock;

struct IsolatedMarkdown::Worker {
    pid_t pid = -1;
    int fd = -1;

    bool running() const { return pid > 0; }

    // SIGKILL (if still running), reap, close: the slot is empty again.
    // Returns the wait status (0 when there was no process).
    int stop() {
        if (fd >= 0) ::close(fd);
        fd = -1;
        int status = 0;
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
        }
        pid = -1;
        return status;
    }
    ~Worker() { stop(); }

    // An idle worker that can be read from (EOF) or hung up has died.
    bool died_while_idle() const {
        pollfd p{fd, POLLIN, 0};
        return ::poll(&p, 1, 0) != 0;
    }
};

namespace {

// Why a worker ended mid-request, from its wait status.
std::string_view reason(int status) {
    if (WIFSIGNALED(status)) {
        switch (WTERMSIG(status)) {
            case SIGPROF: return "it needed more CPU time than allowed";
            case SIGKILL: return "it took too long";
            case SIGABRT:
            case SIGSEGV:
            case SIGBUS: return "it needed more memory than allowed";
            default: break;
        }
    }
    return "the render worker failed";
}

int remaining_ms(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, INT_MAX));
}

// Waits until fd is ready for `events` or the deadline passes.
bool wait_for(int fd, short events, Clock::time_point deadline) {
    for (;;) {
        pollfd p{fd, events, 0};
        int r = ::poll(&p, 1, remaining_ms(deadline));
        if (r < 0 && errno == EINTR) continue;
        return r > 0 && (p.revents & events) != 0;
    }
}

// Sends (or receives) exactly `size` bytes before the deadline; false on
// EOF, error or timeout. Non-blocking calls and poll(), so a worker that stops
// reading or writing can never hold the caller past the deadline.
bool transfer_until(bool sending, int fd, char* p, std::size_t size, Clock::time_point deadline) {
    while (size > 0) {
        ssize_t n = sending ? ::send(fd, p, size, MSG_NOSIGNAL | MSG_DONTWAIT) : ::recv(fd, p, size, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!wait_for(fd, sending ? POLLOUT : POLLIN, deadline)) return false;
            continue;
        }
        if (n <= 0) return false;
        p += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}
bool send_until(int fd, const void* data, std::size_t size, Clock::time_point deadline) {
    return transfer_until(true, fd, const_cast<char*>(static_cast<const char*>(data)), size, deadline);
}
bool recv_until(int fd, void* data, std::size_t size, Clock::time_point deadline) {
    return transfer_until(false, fd, static_cast<char*>(data), size, deadline);
}

// Starts `<exe> render-worker <max_memory_bytes>` on one end of a socketpair.
Status spawn(const std::string& exe, std::size_t max_memory_bytes, pid_t& pid, int& fd) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        return make_error(ErrorCode::io, fmt::format("render worker: socketpair: {}", std::strerror(errno)));
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, sv[1], 0);
    // stdout is not used; stderr is the server's (a sanitizer's report, or
    // cmark's "calloc returned null pointer" when the memory cap is hit).
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int s : {SIGPROF, SIGPIPE, SIGTERM, SIGINT, SIGHUP}) sigaddset(&defaults, s);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    std::string memory = std::to_string(max_memory_bytes);
    char* argv[] = {const_cast<char*>(exe.c_str()), const_cast<char*>("render-worker"), memory.data(), nullptr};
    int rc = ::posix_spawn(&pid, exe.c_str(), &actions, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(sv[1]);
    if (rc != 0) {
        ::close(sv[0]);
        pid = -1;
        return make_error(ErrorCode::io, fmt::format("render worker: cannot start {}: {}", exe, std::strerror(rc)));
    }
    fd = sv[0];
    return {};
}

}  // namespace

Result<std::string> current_executable() {
    std::string path(PATH_MAX, '\0');
    ssize_t n = ::readlink("/proc/self/exe", path.data(), path.size());
    if (n <= 0) return make_error(ErrorCode::io, fmt::format("/proc/self/exe: {}", std::strerror(errno)));
    path.resize(static_cast<std::size_t>(n));
    return path;
}

IsolatedMarkdown::IsolatedMarkdown(Options options) : options_(std::move(options)) {
    if (options_.workers == 0) options_.workers = 1;
}

IsolatedMarkdown::~IsolatedMarkdown() = default;  // each Worker stops itself

std::size_t IsolatedMarkdown::spawned() const {
    std::lock_guard lock(mutex_);
    return spawned_;
}

Result<IsolatedMarkdown::Worker*> IsolatedMarkdown::acquire() {
    std::unique_lock lock(mutex_);
    auto ready = [&] { return !idle_.empty() || workers_.size() < options_.workers; };
    if (!free_.wait_for(lock, options_.queue_wait, ready)) {
        return make_error(ErrorCode::busy, "every render worker stayed busy; try again shortly");
    }
    Worker* w;
    if (!idle_.empty()) {
        w = idle_.back();
        idle_.pop_back();
    } else {
        workers_.push_back(std::make_unique<Worker>());
        w = workers_.back().get();
    }
    if (w->running() && !w->died_while_idle()) return w;
    w->stop();
    ++spawned_;
    lock.unlock();
    if (auto st = spawn(options_.executable, options_.max_memory_bytes, w->pid, w->fd); !st) {
        release(w);
        return std::move(st).error();
    }
    return w;
}

void IsolatedMarkdown::release(Worker* worker) {
    {
        std::lock_guard lock(mutex_);
        idle_.push_back(worker);
    }
    free_.notify_one();
}

Result<std::string> IsolatedMarkdown::to_html(std::string_view markdown, const RenderBudget& budget) {
    auto acquired = acquire();
    if (!acquired) return std::move(acquired).error();
    Worker* w = acquired.value();

    const auto deadline = Clock::now() + budget.cpu * options_.wall_factor + options_.wall_grace;
    RequestHeader req;
    req.cpu_ms = static_cast<std::uint32_t>(std::max<long long>(1, budget.cpu.count()));
    req.max_html_bytes = budget.max_html_bytes;
    req.memory_bytes = budget.memory_bytes;
    req.length = markdown.size();
    ResponseHeader resp;
    std::string html;
    bool ok = send_until(w->fd, &req, sizeof req, deadline) &&
              send_until(w->fd, markdown.data(), markdown.size(), deadline) &&
              recv_until(w->fd, &resp, sizeof resp, deadline) &&
              (resp.status == kRenderOk || resp.status == kRenderTooLarge) && resp.length <= budget.max_html_bytes;
    if (ok) {
        html.resize(resp.length);
        ok = recv_until(w->fd, html.data(), html.size(), deadline);
    }
    if (!ok) {
        // Killed by its CPU timer or memory cap, or past the wall-clock bound.
        int status = w->stop();
        release(w);
        return over_budget_error(reason(status));
    }
    release(w);
    if (resp.status == kRenderTooLarge) return over_budget_error("its HTML would be too large");
    return html;
}

}  // namespace starpunk::render
