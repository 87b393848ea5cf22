// The render worker's side of IsolatedMarkdown (render/isolated.hpp), and the
// framing both sides share.
//
// Wire format on one stream socket, native byte order (both ends are this
// same binary):
//   request   u32 cpu_ms, u32 reserved (0), u64 max_html_bytes, u64 memory_bytes, u64 length, bytes
//   response  u32 status (kRenderOk | kRenderTooLarge), u32 reserved, u64 length, bytes
// A response of kRenderTooLarge has no bytes. Anything else — EOF, a worker
// killed by its CPU timer or by running out of its memory cap — is the
// parent's to interpret.
#pragma once

#include <cstddef>
#include <cstdint>

namespace starpunk::render {

inline constexpr std::uint32_t kRenderOk = 0;
inline constexpr std::uint32_t kRenderTooLarge = 1;

struct RequestHeader {
    std::uint32_t cpu_ms = 0;
    std::uint32_t reserved = 0;
    std::uint64_t max_html_bytes = 0;
    std::uint64_t memory_bytes = 0;
    std::uint64_t length = 0;
};
struct ResponseHeader {
    std::uint32_t status = kRenderOk;
    std::uint32_t reserved = 0;
    std::uint64_t length = 0;
};

// The worker's main loop on `fd`: disables core files, then answers requests
// until EOF (exit code 0) or a framing error (exit code 1). Each render runs
// under ITIMER_PROF for the request's cpu_ms (×4 under sanitizers), whose
// default action ends the process, and with its data segment (RLIMIT_DATA,
// soft) capped at its current size plus the request's memory_bytes — never
// above the hard limit set at start, current size + `max_memory_bytes`. No
// memory cap under AddressSanitizer, whose shadow mappings count against it.
int run_worker(int fd, std::size_t max_memory_bytes);

// Blocking full reads/writes that retry on EINTR. read_exact: false on EOF or
// error. write_all uses send(MSG_NOSIGNAL) on sockets, so a closed peer is an
// error, never SIGPIPE.
bool read_exact(int fd, void* data, std::size_t size);
bool write_all(int fd, const void* data, std::size_t size);

}  // namespace starpunk::render
