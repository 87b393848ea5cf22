// The HTTP side of Micropub: the transport-neutral service (micropub/) takes
// and returns plain values; these two functions convert from the request and
// to the response. Every Micropub response is `Cache-Control: no-store`.
#pragma once

#include "http/request.hpp"
#include "http/response.hpp"
#include "micropub/micropub_service.hpp"

namespace starpunk::web {

// Views into `req`, which must outlive the Incoming.
micropub::Incoming micropub_incoming(const http::Request& req);

// Status, JSON body (invalid UTF-8 replaced, never thrown), Location,
// WWW-Authenticate and Retry-After as the reply says.
http::Response micropub_response(const micropub::Reply& reply);

}  // namespace starpunk::web
