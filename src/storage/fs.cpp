#include "storage/fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace starpunk::storage {

Error errno_error(std::string_view operation, const std::string& path, int err) {
    return make_error(errno_code(err), fmt::format("{} {}: {}", operation, path, std::strerror(err)));
}

std::string parent_dir(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

namespace {

class PosixWritableFile final : public WritableFile {
public:
    PosixWritableFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
    ~PosixWritableFile() override {
        if (fd_ >= 0) ::close(fd_);
    }
    Status append(std::string_view data) override {
        while (!data.empty()) {
            ssize_t n = ::write(fd_, data.data(), data.size());
            if (n < 0) {
                if (errno == EINTR) continue;
                return errno_error("write", path_, errno);
            }
            data.remove_prefix(static_cast<size_t>(n));
        }
        return {};
    }
    Status sync() override {
        if (::fdatasync(fd_) != 0) return errno_error("fsync", path_, errno);
        return {};
    }
    Status close() override {
        int fd = fd_;
        fd_ = -1;
        if (fd >= 0 && ::close(fd) != 0) return errno_error("close", path_, errno);
        return {};
    }

private:
    int fd_;
    std::string path_;
};

class PosixFileSystem final : public FileSystem {
public:
    Result<std::unique_ptr<WritableFile>> create_file(const std::string& path) override {
        int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0) return errno_error("create", path, errno);
        return std::unique_ptr<WritableFile>(std::make_unique<PosixWritableFile>(fd, path));
    }

    Result<std::string> read_file(const std::string& path) override {
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) return errno_error("open", path, errno);
        std::string out;
        struct stat st{};
        if (::fstat(fd, &st) == 0 && st.st_size > 0) out.reserve(static_cast<size_t>(st.st_size));
        char buf[65536];
        while (true) {
            ssize_t n = ::read(fd, buf, sizeof buf);
            if (n < 0) {
                if (errno == EINTR) continue;
                int err = errno;
                ::close(fd);
                return errno_error("read", path, err);
            }
            if (n == 0) break;
            out.append(buf, static_cast<size_t>(n));
        }
        ::close(fd);
        return out;
    }

    Result<bool> is_symlink(const std::string& path) override {
        struct stat st{};
        if (::lstat(path.c_str(), &st) != 0) return errno_error("stat", path, errno);
        return S_ISLNK(st.st_mode);
    }

    Status rename(const std::string& from, const std::string& to) override {
        if (::rename(from.c_str(), to.c_str()) != 0) return errno_error("rename", from + " -> " + to, errno);
        return {};
    }

    Status rename_no_replace(const std::string& from, const std::string& to) override {
        if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) != 0) {
            if (errno == EEXIST) return make_error(ErrorCode::conflict, fmt::format("{} already exists", to));
            return errno_error("rename", from + " -> " + to, errno);
        }
        return {};
    }

    Status sync_dir(const std::string& dir) override {
        int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) return errno_error("open directory", dir, errno);
        int rc = ::fsync(fd);
        int err = errno;
        ::close(fd);
        if (rc != 0) return errno_error("fsync directory", dir, err);
        return {};
    }

    Status remove(const std::string& path) override {
        if (::unlink(path.c_str()) != 0) return errno_error("remove", path, errno);
        return {};
    }

    Status create_dirs(const std::string& path) override {
        if (path.empty()) return {};
        struct stat st{};
        if (::stat(path.c_str(), &st) == 0) {
            if (S_ISDIR(st.st_mode)) return {};
            return make_error(ErrorCode::io, fmt::format("create directory {}: a file is in the way", path));
        }
        std::string parent = parent_dir(path);
        if (parent != path) {
            if (auto s = create_dirs(parent); !s) return s;
        }
        if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) return errno_error("create directory", path, errno);
        return sync_dir(parent);
    }

    Result<bool> exists(const std::string& path) override {
        struct stat st{};
        if (::lstat(path.c_str(), &st) == 0) return true;
        if (errno == ENOENT || errno == ENOTDIR) return false;
        return errno_error("stat", path, errno);
    }

    Result<std::vector<std::string>> list_files(const std::string& dir) override {
        std::vector<std::string> out;
        struct stat st{};
        if (::stat(dir.c_str(), &st) != 0) {
            if (errno == ENOENT) return out;
            return errno_error("list", dir, errno);
        }
        if (auto s = walk(dir, "", out); !s) return std::move(s).error();
        std::sort(out.begin(), out.end());
        return out;
    }

private:
    // readdir-based walk: d_type avoids a stat per entry on common filesystems.
    static Status walk(const std::string& root, const std::string& rel, std::vector<std::string>& out) {
        std::string path = rel.empty() ? root : root + "/" + rel;
        DIR* d = ::opendir(path.c_str());
        if (!d) return errno_error("list", path, errno);
        Status result;
        while (dirent* e = ::readdir(d)) {
            std::string_view name(e->d_name);
            if (name == "." || name == "..") continue;
            std::string child = rel.empty() ? std::string(name) : rel + "/" + std::string(name);
            unsigned char type = e->d_type;
            if (type == DT_UNKNOWN) {
                struct stat cs{};
                if (::lstat((root + "/" + child).c_str(), &cs) != 0) continue;
                type = S_ISDIR(cs.st_mode) ? DT_DIR : S_ISLNK(cs.st_mode) ? DT_LNK : S_ISREG(cs.st_mode) ? DT_REG : DT_UNKNOWN;
            }
            if (type == DT_DIR) {
                if (result = walk(root, child, out); !result) break;
            } else if (type == DT_REG || type == DT_LNK) {
                out.push_back(std::move(child));
            }
        }
        ::closedir(d);
        return result;
    }
};

}  // namespace

FileSystem& posix_fs() {
    static PosixFileSystem fs;
    return fs;
}

}  // namespace starpunk::storage
