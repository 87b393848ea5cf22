#include "util/temp_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace starpunk {

namespace {
Error io_error(std::string_view what, const std::string& where, int err) {
    const ErrorCode code = errno_code(err) == ErrorCode::no_space ? ErrorCode::no_space : ErrorCode::io;
    return make_error(code, std::string(what) + " " + where + ": " + std::strerror(err));
}
}  // namespace

Result<std::unique_ptr<TempFile>> TempFile::create(const std::string& dir) {
    std::string name = dir + "/upload-XXXXXX";
    std::vector<char> buf(name.begin(), name.end());
    buf.push_back('\0');
    int fd = ::mkostemp(buf.data(), O_CLOEXEC);
    if (fd < 0) return io_error("create a temporary file in", dir, errno);
    // Unlinked at once: the name exists only for these few instructions, and
    // start-up sweeps the directory for a process killed in between.
    if (::unlink(buf.data()) != 0) {
        int err = errno;
        ::close(fd);
        return io_error("unlink temporary file in", dir, err);
    }
    return std::unique_ptr<TempFile>(new TempFile(fd));
}

TempFile::~TempFile() {
    if (fd_ >= 0) ::close(fd_);
}

Status TempFile::append(std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd_, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return io_error("write", "temporary file", errno);
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

Status TempFile::read_at(std::uint64_t offset, std::size_t n, std::string& out) const {
    out.resize(n);
    std::size_t got = 0;
    while (got < n) {
        ssize_t r = ::pread(fd_, out.data() + got, n - got, static_cast<off_t>(offset + got));
        if (r < 0) {
            if (errno == EINTR) continue;
            out.clear();
            return io_error("read", "temporary file", errno);
        }
        if (r == 0) break;
        got += static_cast<std::size_t>(r);
    }
    out.resize(got);
    return {};
}

Result<std::uint64_t> TempFile::size() const {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return io_error("stat", "temporary file", errno);
    return static_cast<std::uint64_t>(st.st_size);
}

}  // namespace starpunk
