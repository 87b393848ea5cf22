#include "web/visitor.hpp"

#include <memory>

namespace starpunk::web {

const Visitor& visitor(const http::Request& req) {
    static const Visitor anonymous;
    return req.visitor ? *static_cast<const Visitor*>(req.visitor.get()) : anonymous;
}

void set_visitor(http::Request& req, Visitor v) { req.visitor = std::make_shared<const Visitor>(std::move(v)); }

}  // namespace starpunk::web
