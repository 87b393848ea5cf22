// All file access goes through FileSystem, so tests can inject faults (EIO,
// ENOSPC, failed fsync or rename, dropped unsynced data) exactly where a real
// disk would fail. Production uses posix_fs().
//
// Contract: every method returns an Error (ErrorCode::io, or not_found for a
// missing file) that names the operation and the path; errno is turned into a
// message in one place (errno_error). No method retries.
// Thread-safety: PosixFileSystem is stateless and thread-safe; a WritableFile
// belongs to one thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace starpunk::storage {

class WritableFile {
public:
    virtual ~WritableFile() = default;
    virtual Status append(std::string_view data) = 0;
    // fsync: the data is durable when this returns ok.
    virtual Status sync() = 0;
    virtual Status close() = 0;
};

class FileSystem {
public:
    virtual ~FileSystem() = default;
    // Creates or truncates `path` for writing (never follows a symlink at `path`).
    virtual Result<std::unique_ptr<WritableFile>> create_file(const std::string& path) = 0;
    // Reads a whole file. Never follows a symlink at `path` itself (an error).
    virtual Result<std::string> read_file(const std::string& path) = 0;
    // True when `path` itself is a symlink (not followed).
    virtual Result<bool> is_symlink(const std::string& path) = 0;
    // Atomically replaces `to` with `from` (same directory).
    virtual Status rename(const std::string& from, const std::string& to) = 0;
    // Atomically moves `from` to `to` only if `to` does not exist; ErrorCode::conflict
    // when it does (renameat2 RENAME_NOREPLACE).
    virtual Status rename_no_replace(const std::string& from, const std::string& to) = 0;
    // fsync the directory so renames and creations in it are durable.
    virtual Status sync_dir(const std::string& dir) = 0;
    virtual Status remove(const std::string& path) = 0;
    // mkdir -p; every directory it creates is made durable in its parent.
    virtual Status create_dirs(const std::string& path) = 0;
    virtual Result<bool> exists(const std::string& path) = 0;
    // Regular files under `dir`, recursively, as paths relative to `dir`, sorted.
    // Symlinks are listed but not followed.
    virtual Result<std::vector<std::string>> list_files(const std::string& dir) = 0;
};

// The real filesystem.
FileSystem& posix_fs();

// "write /data/notes/a.md: No space left on device"
Error errno_error(std::string_view operation, const std::string& path, int err);

// The directory part of a path ("a/b/c.md" -> "a/b"; "c.md" -> ".").
std::string parent_dir(const std::string& path);

}  // namespace starpunk::storage
