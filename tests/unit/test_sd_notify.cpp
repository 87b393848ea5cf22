// notify_service_manager plays sd_notify(3)'s client: each state is one
// datagram on the Unix socket NOTIFY_SOCKET names (a path, or @abstract).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <filesystem>
#include <string>

#include "util/sd_notify.hpp"

using starpunk::notify_service_manager;

namespace {

// A bound datagram socket standing in for the service manager.
class FakeManager {
public:
    explicit FakeManager(const std::string& name) : name_(name) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path, name.data(), name.size());
        const bool abstract = name.front() == '@';
        if (abstract) addr.sun_path[0] = '\0';
        auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + (abstract ? 0 : 1));
        bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) == 0;
        timeval tv{2, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    ~FakeManager() {
        ::close(fd_);
        if (name_.front() == '/') ::unlink(name_.c_str());
    }
    bool bound() const { return bound_; }
    std::string receive() {
        char buf[512];
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        return n < 0 ? std::string("(nothing)") : std::string(buf, static_cast<size_t>(n));
    }

private:
    std::string name_;
    int fd_ = -1;
    bool bound_ = false;
};

std::string temp_socket_path() {
    return (std::filesystem::temp_directory_path() / ("sp-notify-" + std::to_string(::getpid()))).string();
}

}  // namespace

TEST(SdNotify, SendsEachStateAsOneDatagramToAPathSocket) {
    const std::string path = temp_socket_path();
    FakeManager manager(path);
    ASSERT_TRUE(manager.bound());
    ASSERT_TRUE(notify_service_manager(path, "READY=1\nSTATUS=Serving"));
    ASSERT_TRUE(notify_service_manager(path, "STOPPING=1"));
    EXPECT_EQ(manager.receive(), "READY=1\nSTATUS=Serving");
    EXPECT_EQ(manager.receive(), "STOPPING=1");
}

TEST(SdNotify, ReachesAnAbstractSocket) {
    const std::string name = "@sp-notify-abstract-" + std::to_string(::getpid());
    FakeManager manager(name);
    ASSERT_TRUE(manager.bound());
    ASSERT_TRUE(notify_service_manager(name, "READY=1"));
    EXPECT_EQ(manager.receive(), "READY=1");
}

TEST(SdNotify, WithoutASocketNothingIsSentAndNothingFails) {
    EXPECT_TRUE(notify_service_manager(std::string_view{}, "READY=1"));
}

TEST(SdNotify, AnUnreachableOrMalformedSocketIsAnErrorNamingIt) {
    auto gone = notify_service_manager("/nonexistent-dir/notify", "READY=1");
    ASSERT_FALSE(gone);
    EXPECT_NE(gone.error().message.find("/nonexistent-dir/notify"), std::string::npos);
    auto relative = notify_service_manager("relative/notify", "READY=1");
    ASSERT_FALSE(relative);
    EXPECT_NE(relative.error().message.find("NOTIFY_SOCKET"), std::string::npos);
}
