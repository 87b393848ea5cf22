// The service manager's readiness protocol (sd_notify(3)), without libsystemd.
//
// systemd starts a `Type=notify` service with NOTIFY_SOCKET naming a Unix
// datagram socket: a filesystem path, or an abstract name written with a
// leading '@'. The service sends newline-separated KEY=VALUE states to it:
// READY=1 once it serves, STOPPING=1 when it begins to shut down.
//
// Contract: without NOTIFY_SOCKET (not started by a service manager) notify()
// does nothing and succeeds. Otherwise it sends `state` as one datagram and
// returns an io error naming the socket when that fails (a malformed or
// unreachable NOTIFY_SOCKET); callers log it and carry on, since the service
// itself works either way. Thread-safe; opens and closes its own socket.
#pragma once

#include <string_view>

#include "util/result.hpp"

namespace starpunk {

// Sends `state` (e.g. "READY=1") to the socket named by `socket_path`, the
// value of NOTIFY_SOCKET. Empty `socket_path`: nothing is sent.
Status notify_service_manager(std::string_view socket_path, std::string_view state);

// The same, with NOTIFY_SOCKET read from the process environment.
Status notify_service_manager(std::string_view state);

}  // namespace starpunk
