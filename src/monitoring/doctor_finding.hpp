// Internal to monitoring/doctor*.cpp: how a finding is made. Not a contract
// for other modules (they use monitoring/doctor.hpp).
#pragma once

#include <fmt/format.h>
#include <unistd.h>

#include <string>

#include "monitoring/doctor.hpp"

namespace starpunk::monitoring::detail {

inline Finding ok(std::string check, std::string message, std::string path = {}) {
    return {std::move(check), Severity::ok, std::move(message), std::move(path), {}};
}
inline Finding warning(std::string check, std::string message, std::string path, std::string fix) {
    return {std::move(check), Severity::warning, std::move(message), std::move(path), std::move(fix)};
}
inline Finding problem(std::string check, std::string message, std::string path, std::string fix) {
    return {std::move(check), Severity::problem, std::move(message), std::move(path), std::move(fix)};
}
// The user doctor runs as, as findings name it.
inline std::string who() { return fmt::format("uid {}", ::geteuid()); }

}  // namespace starpunk::monitoring::detail
