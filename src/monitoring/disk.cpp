#include "monitoring/disk.hpp"

#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>

namespace starpunk::monitoring {

Result<DiskSpace> disk_space(const std::string& path) {
    struct statvfs vfs{};
    if (::statvfs(path.c_str(), &vfs) != 0) {
        return make_error(ErrorCode::io, "cannot read free space of " + path + ": " + std::strerror(errno));
    }
    DiskSpace d;
    d.total_bytes = static_cast<std::uint64_t>(vfs.f_blocks) * vfs.f_frsize;
    d.free_bytes = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    d.free_percent =
        d.total_bytes > 0 ? static_cast<double>(d.free_bytes) * 100.0 / static_cast<double>(d.total_bytes) : 0.0;
    return d;
}

}  // namespace starpunk::monitoring
