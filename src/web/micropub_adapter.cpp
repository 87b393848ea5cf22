#include "web/micropub_adapter.hpp"

namespace starpunk::web {

micropub::Incoming micropub_incoming(const http::Request& req) {
    micropub::Incoming in;
    in.authorization = req.header("Authorization");
    in.content_type = req.header("Content-Type").value_or("");
    in.body = req.body;
    in.body_file = req.body_file.get();
    in.query = req.query;
    return in;
}

http::Response micropub_response(const micropub::Reply& reply) {
    http::Response res;
    if (reply.body.is_null()) {
        res.status = reply.status;
    } else {
        // Notes read from disk may hold invalid UTF-8 (imported files): replace, never throw.
        res = http::json_response(reply.status,
                                  reply.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    if (!reply.location.empty()) res.set_header("Location", reply.location);
    if (!reply.www_authenticate.empty()) res.set_header("WWW-Authenticate", reply.www_authenticate);
    if (reply.retry_after_seconds > 0) res.set_header("Retry-After", std::to_string(reply.retry_after_seconds));
    res.set_header("Cache-Control", "no-store");
    return res;
}

}  // namespace starpunk::web
