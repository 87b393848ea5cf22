#include "util/sd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

namespace starpunk {

Status notify_service_manager(std::string_view socket_path, std::string_view state) {
    if (socket_path.empty()) return {};
    const std::string shown(socket_path);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    // '@' names an abstract socket: a leading NUL byte, not NUL-terminated.
    const bool abstract = socket_path.front() == '@';
    if ((socket_path.front() != '/' && !abstract) || socket_path.size() >= sizeof(addr.sun_path)) {
        return make_error(ErrorCode::invalid_input,
                          "NOTIFY_SOCKET \"" + shown + "\" is neither an absolute path nor an @abstract name");
    }
    std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
    if (abstract) addr.sun_path[0] = '\0';
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path.size() + (abstract ? 0 : 1));

    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return make_error(ErrorCode::io, std::string("cannot create a socket for NOTIFY_SOCKET: ") + std::strerror(errno));
    ssize_t sent;
    do {
        sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr), length);
    } while (sent < 0 && errno == EINTR);
    const int err = errno;
    ::close(fd);
    if (sent < 0) {
        return make_error(ErrorCode::io, "cannot notify the service manager at " + shown + ": " + std::strerror(err));
    }
    if (static_cast<size_t>(sent) != state.size()) {
        return make_error(ErrorCode::io, "the service manager at " + shown + " took a partial message");
    }
    return {};
}

Status notify_service_manager(std::string_view state) {
    const char* socket_path = std::getenv("NOTIFY_SOCKET");
    return notify_service_manager(socket_path ? std::string_view(socket_path) : std::string_view{}, state);
}

}  // namespace starpunk
