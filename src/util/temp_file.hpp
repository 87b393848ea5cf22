// An anonymous temporary file: created in a directory and unlinked at once, so
// it has no name for anyone to find and nothing is left behind when the
// process dies (kill -9 included). Request bodies of upload routes and the
// file parts split out of them live in these (http/server.cpp,
// http/multipart_spool.hpp); media processing reads them (media/).
//
// Ownership: a TempFile owns its descriptor and closes it when destroyed
// (the kernel then frees the data). Not copyable; share it with shared_ptr.
// Thread-safety: none; a TempFile belongs to one request at a time. read_at()
// uses pread and never moves the file offset.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace starpunk {

class TempFile {
public:
    // Creates the file in `dir` (which must exist) with mode 0600 and unlinks
    // it. Error (io) naming the directory when that fails.
    static Result<std::unique_ptr<TempFile>> create(const std::string& dir);
    ~TempFile();
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;

    int fd() const { return fd_; }
    // Writes at the descriptor's file offset (the end, when only append()
    // and the server wrote to it); io error on failure
    // (ENOSPC included: nothing is retried).
    Status append(std::string_view data);
    // Reads up to `n` bytes at `offset` into `out` (replacing its content);
    // an empty `out` means the end of the file.
    Status read_at(std::uint64_t offset, std::size_t n, std::string& out) const;
    // Current size of the file in bytes (fstat).
    Result<std::uint64_t> size() const;

private:
    explicit TempFile(int fd) : fd_(fd) {}
    int fd_ = -1;
};

}  // namespace starpunk
