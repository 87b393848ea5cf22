// The web application: the route table plus the gate every request passes
// (access rules, 404/405, error pages). Implements http::Application.
#pragma once

#include <memory>

#include "http/router.hpp"
#include "http/server.hpp"
#include "web/site.hpp"

namespace starpunk::web {

class App final : public http::Application {
public:
    explicit App(std::shared_ptr<const Site> site);

    http::Execution prepare(http::Request& req) override;
    http::Response handle(http::Request& req) override;
    http::Response error(const http::Request& req, int status, std::string_view message) override;

    const http::Router& router() const { return router_; }

private:
    std::shared_ptr<const Site> site_;
    http::Router router_;
};

}  // namespace starpunk::web
