// THE atomic-write helper: every note file is written through it.
//
// Protocol (each step must succeed, or the whole call fails and the final name
// is untouched):
//   1. write the bytes to "<path>.<random>.tmp" in the same directory (unique
//      per call, so concurrent writers never share a temp file);
//   2. fsync the temp file;
//   3. rename it over <path> (atomic on POSIX) — or, with WriteMode::create_new,
//      move it to <path> only if nothing is there (ErrorCode::conflict otherwise),
//      so a new note can never overwrite another note's file;
//   4. fsync the directory so the rename itself is durable.
// Invariant: at any instant (kill -9, power loss after a completed call) the
// final name holds either the old complete content or the new complete content,
// never a mix. A failure leaves at most a stale "<path>.tmp", which start-up
// removes (names ending in kTempSuffix). Nothing is retried.
// When step 4 fails the rename has happened: with WriteMode::replace the final
// name holds the new content (only its durability is in doubt); with
// WriteMode::create_new the file is removed again, so a failed create leaves
// the final name as it found it (absent) unless that removal fails too.
#pragma once

#include <string>
#include <string_view>

#include "storage/fs.hpp"

namespace starpunk::storage {

inline constexpr std::string_view kTempSuffix = ".tmp";

enum class WriteMode { replace, create_new };

Status write_file_atomically(FileSystem& fs, const std::string& path, std::string_view data,
                             WriteMode mode = WriteMode::replace);

}  // namespace starpunk::storage
