// Free space on the file system holding a path: one statvfs, shared by the
// detailed health report and `starpunk doctor`, so both judge disk space by
// the same numbers.
#pragma once

#include <cstdint>
#include <string>

#include "util/result.hpp"

namespace starpunk::monitoring {

struct DiskSpace {
    std::uint64_t free_bytes = 0;   // available to an unprivileged user (f_bavail)
    std::uint64_t total_bytes = 0;
    double free_percent = 0.0;      // free_bytes / total_bytes * 100
};

// Below this share free, health is degraded and doctor warns.
inline constexpr double kLowDiskPercent = 10.0;
// Below this many bytes free, doctor reports a problem: a note write, the
// WAL or a log rotation may fail at any moment.
inline constexpr std::uint64_t kCriticalFreeBytes = 64ull * 1024 * 1024;

// io error naming `path` when statvfs fails (the path does not exist, …).
Result<DiskSpace> disk_space(const std::string& path);

}  // namespace starpunk::monitoring
