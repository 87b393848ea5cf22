// Facts about the machine the process runs on.
#pragma once

#include <cstdint>

namespace starpunk {

// CPU cores this process may run on (honours taskset/cgroup affinity); at least 1.
unsigned usable_cores();

// File descriptors this process may have open (the soft RLIMIT_NOFILE, as
// `ulimit -n` shows it); UINT64_MAX when unlimited or unknown.
std::uint64_t open_files_limit();

}  // namespace starpunk
