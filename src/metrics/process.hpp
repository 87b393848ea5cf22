// The process's memory as the kernel reports it (/proc/self/status).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace starpunk::metrics {

struct ProcessMemory {
    uint64_t rss_bytes = 0;        // VmRSS: resident now
    uint64_t high_water_bytes = 0; // VmHWM: the most ever resident
};

// Reads VmRSS and VmHWM; nullopt when the file is missing or lacks them.
std::optional<ProcessMemory> read_process_memory(const std::string& status_path = "/proc/self/status");
// The same from the text of a status file (tests).
std::optional<ProcessMemory> parse_process_status(std::string_view text);

}  // namespace starpunk::metrics
