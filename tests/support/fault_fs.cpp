#include "support/fault_fs.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

namespace starpunk::testing {

namespace {

std::string normal(const std::string& path) {
    std::string s = std::filesystem::path(path).lexically_normal().generic_string();
    while (s.size() > 1 && s.back() == '/') s.pop_back();
    return s;
}

// The message word for each operation, as posix_fs() spells it.
const char* message_word(FsOp op) {
    switch (op) {
        case FsOp::create_file: return "create";
        case FsOp::append: return "write";
        case FsOp::sync: return "fsync";
        case FsOp::close: return "close";
        case FsOp::read_file: return "open";
        case FsOp::rename: return "rename";
        case FsOp::sync_dir: return "fsync directory";
        case FsOp::remove: return "remove";
        case FsOp::create_dirs: return "create directory";
        case FsOp::exists: return "stat";
        case FsOp::list_files: return "list";
    }
    return "?";
}

// Writes `content` to `path` directly (bypassing every wrapper), durably.
bool put_file(const std::string& path, const std::string& content) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return false;
    size_t off = 0;
    while (off < content.size()) {
        ssize_t n = ::write(fd, content.data() + off, content.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            ::close(fd);
            return false;
        }
        off += static_cast<size_t>(n);
    }
    ::fsync(fd);
    return ::close(fd) == 0;
}

}  // namespace

const char* fs_op_name(FsOp op) {
    switch (op) {
        case FsOp::create_file: return "create_file";
        case FsOp::append: return "append";
        case FsOp::sync: return "sync";
        case FsOp::close: return "close";
        case FsOp::read_file: return "read_file";
        case FsOp::rename: return "rename";
        case FsOp::sync_dir: return "sync_dir";
        case FsOp::remove: return "remove";
        case FsOp::create_dirs: return "create_dirs";
        case FsOp::exists: return "exists";
        case FsOp::list_files: return "list_files";
    }
    return "?";
}

class FaultWritableFile final : public storage::WritableFile {
public:
    FaultWritableFile(FaultFs& fs, std::string path, std::unique_ptr<storage::WritableFile> base)
        : fs_(fs), path_(std::move(path)), base_(std::move(base)) {}

    Status append(std::string_view data) override {
        std::lock_guard lock(fs_.mu_);
        int err = fs_.check_fault(FsOp::append, path_);
        if (err != 0) {
            // A full or failing disk often takes part of the write.
            std::string_view part = data.substr(0, data.size() / 2);
            if (!part.empty() && base_->append(part)) grow(part.size());
            return storage::errno_error(message_word(FsOp::append), path_, err);
        }
        auto st = base_->append(data);
        if (st) grow(data.size());
        return st;
    }

    Status sync() override {
        std::lock_guard lock(fs_.mu_);
        if (int err = fs_.check_fault(FsOp::sync, path_); err != 0)
            return storage::errno_error(message_word(FsOp::sync), path_, err);
        auto st = base_->sync();
        if (st) {
            auto it = fs_.files_.find(path_);
            if (it != fs_.files_.end()) it->second.synced = it->second.size;
        }
        return st;
    }

    Status close() override {
        std::lock_guard lock(fs_.mu_);
        if (int err = fs_.check_fault(FsOp::close, path_); err != 0) {
            (void)base_->close();  // close(2) releases the descriptor even when it fails
            return storage::errno_error(message_word(FsOp::close), path_, err);
        }
        return base_->close();
    }

private:
    void grow(size_t n) {
        auto it = fs_.files_.find(path_);
        if (it != fs_.files_.end()) it->second.size += n;
    }

    FaultFs& fs_;
    std::string path_;  // normalised
    std::unique_ptr<storage::WritableFile> base_;
};

FaultFs::FaultFs(storage::FileSystem& base) : base_(base) {}

void FaultFs::fail_nth(FsOp op, int nth, int err, std::string path_contains) {
    std::lock_guard lock(mu_);
    faults_.push_back(Fault{op, std::max(0, nth - 1), false, err, std::move(path_contains)});
}

void FaultFs::fail_always(FsOp op, int err, std::string path_contains) {
    std::lock_guard lock(mu_);
    faults_.push_back(Fault{op, 0, true, err, std::move(path_contains)});
}

void FaultFs::clear_faults() {
    std::lock_guard lock(mu_);
    faults_.clear();
}

int FaultFs::faults_fired() const {
    std::lock_guard lock(mu_);
    return fired_;
}

int FaultFs::calls(FsOp op) const {
    std::lock_guard lock(mu_);
    auto it = calls_.find(op);
    return it == calls_.end() ? 0 : it->second;
}

void FaultFs::reset_counters() {
    std::lock_guard lock(mu_);
    calls_.clear();
    fired_ = 0;
}

int FaultFs::check_fault(FsOp op, const std::string& path, const std::string& path2) {
    ++calls_[op];
    int result = 0;
    for (auto& f : faults_) {
        if (f.done || f.op != op) continue;
        if (!f.path_contains.empty() && path.find(f.path_contains) == std::string::npos &&
            path2.find(f.path_contains) == std::string::npos)
            continue;
        if (f.always) {
            result = result ? result : f.err;
            continue;
        }
        if (f.remaining > 0) {
            --f.remaining;
            continue;
        }
        f.done = true;
        result = result ? result : f.err;
    }
    if (result != 0) ++fired_;
    return result;
}

std::optional<std::string> FaultFs::durable_content(const std::string& path) {
    auto content = base_.read_file(path);
    if (!content) return std::nullopt;
    auto it = files_.find(path);
    if (it != files_.end() && content->size() > it->second.synced) content->resize(it->second.synced);
    return std::move(*content);
}

Result<std::unique_ptr<storage::WritableFile>> FaultFs::create_file(const std::string& raw_path) {
    const std::string path = normal(raw_path);
    std::lock_guard lock(mu_);
    if (int err = check_fault(FsOp::create_file, path); err != 0)
        return storage::errno_error(message_word(FsOp::create_file), raw_path, err);
    auto existed = base_.exists(path);
    auto file = base_.create_file(raw_path);
    if (!file) return file;
    files_[path] = FileState{};  // truncated: durable at size 0 until synced
    if (existed && !*existed) journal_.push_back({DirChange::created, storage::parent_dir(path), path, {}, {}});
    return std::unique_ptr<storage::WritableFile>(
        std::make_unique<FaultWritableFile>(*this, path, std::move(*file)));
}

Result<std::string> FaultFs::read_file(const std::string& path) {
    {
        std::lock_guard lock(mu_);
        if (int err = check_fault(FsOp::read_file, normal(path)); err != 0)
            return storage::errno_error(message_word(FsOp::read_file), path, err);
    }
    return base_.read_file(path);
}

Status FaultFs::rename(const std::string& from, const std::string& to) { return do_rename(from, to, false); }

Status FaultFs::rename_no_replace(const std::string& from, const std::string& to) {
    return do_rename(from, to, true);
}

Status FaultFs::do_rename(const std::string& raw_from, const std::string& raw_to, bool no_replace) {
    const std::string from = normal(raw_from), to = normal(raw_to);
    std::lock_guard lock(mu_);
    if (int err = check_fault(FsOp::rename, from, to); err != 0)
        return storage::errno_error(message_word(FsOp::rename), raw_from + " -> " + raw_to, err);
    std::optional<std::string> displaced = durable_content(to);
    auto st = no_replace ? base_.rename_no_replace(raw_from, raw_to) : base_.rename(raw_from, raw_to);
    if (!st) return st;
    auto it = files_.find(from);
    if (it != files_.end()) {
        files_[to] = it->second;
        files_.erase(from);
    } else {
        files_.erase(to);  // an untracked (durable) file now holds the name
    }
    journal_.push_back({DirChange::renamed, storage::parent_dir(to), to, from, std::move(displaced)});
    return {};
}

Status FaultFs::sync_dir(const std::string& raw_dir) {
    const std::string dir = normal(raw_dir);
    std::lock_guard lock(mu_);
    if (int err = check_fault(FsOp::sync_dir, dir); err != 0)
        return storage::errno_error(message_word(FsOp::sync_dir), raw_dir, err);
    auto st = base_.sync_dir(raw_dir);
    if (!st) return st;
    std::erase_if(journal_, [&](const DirChange& c) { return c.dir == dir; });
    return {};
}

Status FaultFs::remove(const std::string& raw_path) {
    const std::string path = normal(raw_path);
    std::lock_guard lock(mu_);
    if (int err = check_fault(FsOp::remove, path); err != 0)
        return storage::errno_error(message_word(FsOp::remove), raw_path, err);
    std::optional<std::string> durable = durable_content(path);
    auto st = base_.remove(raw_path);
    if (!st) return st;
    files_.erase(path);
    journal_.push_back({DirChange::removed, storage::parent_dir(path), path, {}, std::move(durable)});
    return {};
}

Status FaultFs::create_dirs(const std::string& path) {
    {
        std::lock_guard lock(mu_);
        if (int err = check_fault(FsOp::create_dirs, normal(path)); err != 0)
            return storage::errno_error(message_word(FsOp::create_dirs), path, err);
    }
    return base_.create_dirs(path);
}

Result<bool> FaultFs::exists(const std::string& path) {
    {
        std::lock_guard lock(mu_);
        if (int err = check_fault(FsOp::exists, normal(path)); err != 0)
            return storage::errno_error(message_word(FsOp::exists), path, err);
    }
    return base_.exists(path);
}

Result<std::vector<std::string>> FaultFs::list_files(const std::string& dir) {
    {
        std::lock_guard lock(mu_);
        if (int err = check_fault(FsOp::list_files, normal(dir)); err != 0)
            return storage::errno_error(message_word(FsOp::list_files), dir, err);
    }
    return base_.list_files(dir);
}

Status FaultFs::drop_unsynced() {
    std::lock_guard lock(mu_);
    std::vector<std::string> failures;
    // 1. Directory changes, newest first; file states move with renamed files.
    for (auto it = journal_.rbegin(); it != journal_.rend(); ++it) {
        const DirChange& c = *it;
        switch (c.kind) {
            case DirChange::created:
                if (::unlink(c.path.c_str()) != 0 && errno != ENOENT) failures.push_back("unlink " + c.path);
                files_.erase(c.path);
                break;
            case DirChange::renamed: {
                if (::rename(c.path.c_str(), c.from.c_str()) != 0) {
                    failures.push_back("rename back " + c.path);
                    break;
                }
                auto st = files_.find(c.path);
                if (st != files_.end()) {
                    files_[c.from] = st->second;
                    files_.erase(c.path);
                }
                if (c.displaced && !put_file(c.path, *c.displaced)) failures.push_back("restore " + c.path);
                break;
            }
            case DirChange::removed:
                if (c.displaced && !put_file(c.path, *c.displaced)) failures.push_back("restore " + c.path);
                files_.erase(c.path);
                break;
        }
    }
    journal_.clear();
    // 2. File data: cut back to what was synced.
    for (const auto& [path, st] : files_) {
        if (st.synced >= st.size) continue;
        if (::truncate(path.c_str(), static_cast<off_t>(st.synced)) != 0 && errno != ENOENT)
            failures.push_back("truncate " + path);
    }
    files_.clear();
    if (!failures.empty()) {
        std::string msg = "drop_unsynced could not:";
        for (const auto& f : failures) msg += " [" + f + "]";
        return make_error(ErrorCode::io, msg);
    }
    return {};
}

void FaultFs::mark_all_durable() {
    std::lock_guard lock(mu_);
    files_.clear();
    journal_.clear();
}

size_t FaultFs::unsynced_dir_changes() const {
    std::lock_guard lock(mu_);
    return journal_.size();
}

}  // namespace starpunk::testing
