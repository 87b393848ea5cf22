// Facts about the machine the process runs on.
#pragma once

namespace starpunk {

// CPU cores this process may run on (honours taskset/cgroup affinity); at least 1.
unsigned usable_cores();

}  // namespace starpunk
