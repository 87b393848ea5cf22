// The request a handler sees. Independent of Beast: nothing here pulls in Asio.
//
// Lifetime: the string_views (method_text, target, raw_path, query, header
// names/values) point into the connection's parsed message, which the server
// keeps alive until the response has been written. A handler that needs any of
// them beyond its own return must copy them.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/strings.hpp"
#include "util/temp_file.hpp"

namespace starpunk::http {

enum class Method { get, head, post, put, patch, delete_, options, other };

std::string_view method_name(Method m);

struct Header {
    std::string_view name;
    std::string_view value;
};

// Values captured from the route pattern, e.g. {"slug", "hello-world"} for
// /note/{slug}. Values are percent-decoded.
using RouteParams = std::vector<std::pair<std::string, std::string>>;

struct Route;

struct Request {
    Method method = Method::get;
    std::string_view method_text;
    std::string_view target;    // raw request-target: "/note/a%20b?x=1"
    std::string_view raw_path;  // "/note/a%20b"
    std::string path;           // percent-decoded path: "/note/a b"
    std::string_view query;     // raw query without '?': "x=1"
    std::vector<Header> headers;
    std::string body;
    // The body, when the application planned it `to_file` (http/server.hpp):
    // then `body` is empty. Closed (and its data freed) with the Request.
    std::shared_ptr<TempFile> body_file;
    std::string remote_address;
    std::string request_id;
    RouteParams params;
    const Route* route = nullptr;  // set by routing; nullptr when no route matched
    // What a route's inline_when probe found (e.g. the cached page), handed to
    // its handler so the work is not done twice. Opaque to the server.
    std::shared_ptr<const void> prepared;
    // Who is asking, as the application's gate decided before the handler
    // ran (web/visitor.hpp). Opaque to http: the toolkit knows no sessions.
    std::shared_ptr<const void> visitor;

    // First header with this name (case-insensitive), or nullopt.
    std::optional<std::string_view> header(std::string_view name) const;
    // Route parameter by name; empty view when absent.
    std::string_view param(std::string_view name) const;
    // Media type of Content-Type, lower-cased, without parameters ("" when absent).
    std::string content_type() const;
};

// ASCII case-insensitive comparison (util/strings.hpp), here for http's callers.
using starpunk::iequals;

}  // namespace starpunk::http
