// The `starpunk` command line (SPEC §13). Exit codes: 0 ok, 1 runtime failure,
// 2 bad usage or configuration.
#pragma once

namespace starpunk::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

int run(int argc, char** argv);

// `starpunk serve`: load configuration, start the server, block until shut down.
int serve();

}  // namespace starpunk::cli
