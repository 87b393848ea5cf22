#include "render/worker.hpp"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <algorithm>
#include <cstring>
#include <string>

#include "render/markdown.hpp"

namespace starpunk::render {
namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

// VmData of this process in bytes (0 when /proc is unreadable).
std::size_t data_segment_bytes() {
    std::FILE* f = std::fopen("/proc/self/status", "re");
    if (!f) return 0;
    char line[256];
    std::size_t kb = 0;
    while (std::fgets(line, sizeof line, f)) {
        if (std::strncmp(line, "VmData:", 7) == 0) {
            kb = std::strtoull(line + 7, nullptr, 10);
            break;
        }
    }
    std::fclose(f);
    return kb * 1024;
}

void arm_cpu_timer(std::uint32_t ms) {
    itimerval t{};
    t.it_value.tv_sec = ms / 1000;
    t.it_value.tv_usec = static_cast<suseconds_t>(ms % 1000) * 1000;
    setitimer(ITIMER_PROF, &t, nullptr);
}

}  // namespace

bool read_exact(int fd, void* data, std::size_t size) {
    auto* p = static_cast<char*>(data);
    while (size > 0) {
        ssize_t n = ::read(fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

bool write_all(int fd, const void* data, std::size_t size) {
    const auto* p = static_cast<const char*>(data);
    while (size > 0) {
        ssize_t n = ::send(fd, p, size, MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK) n = ::write(fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

int run_worker(int fd, std::size_t max_memory_bytes) {
    // No PR_SET_PDEATHSIG: it fires when the *thread* that started the
    // worker ends. The server's end of the socket closes when it exits, so an
    // idle worker reads EOF and a busy one fails its write and exits.
    rlimit no_core{0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    std::signal(SIGPROF, SIG_DFL);
    std::size_t hard = 0;
    if (!kSanitized) {
        if (std::size_t now = data_segment_bytes(); now > 0) {
            hard = now + max_memory_bytes;
            rlimit cap{hard, hard};
            setrlimit(RLIMIT_DATA, &cap);
        }
    }
    const std::uint32_t slowdown = kSanitized ? 4 : 1;

    std::string markdown;
    for (;;) {
        RequestHeader req;
        if (!read_exact(fd, &req, sizeof req)) return 0;
        if (req.length > (std::uint64_t{1} << 32) || req.cpu_ms == 0) return 1;
        markdown.resize(req.length);
        if (!read_exact(fd, markdown.data(), markdown.size())) return 1;

        if (hard > 0) {
            rlimit cap{std::min<std::size_t>(hard, data_segment_bytes() + req.memory_bytes), hard};
            setrlimit(RLIMIT_DATA, &cap);
        }
        arm_cpu_timer(req.cpu_ms * slowdown);
        std::string html = render_markdown(markdown);
        arm_cpu_timer(0);

        ResponseHeader resp;
        if (html.size() > req.max_html_bytes) {
            resp.status = kRenderTooLarge;
            html.clear();
        }
        resp.length = html.size();
        if (!write_all(fd, &resp, sizeof resp) || !write_all(fd, html.data(), html.size())) return 1;
        html = std::string();
        if (markdown.capacity() > (1u << 20)) markdown = std::string();
    }
}

}  // namespace starpunk::render
