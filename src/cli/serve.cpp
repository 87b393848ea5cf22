#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>

#include "cli/commands.hpp"
#include "config/config.hpp"
#include "http/server.hpp"
#include "log/log.hpp"
#include "starpunk_version.hpp"
#include "web/app.hpp"

namespace starpunk::cli {

namespace {

// Loads and validates the configuration; prints every problem and returns
// nullopt when it is unusable.
std::optional<config::Config> load_or_report() {
    auto env = config::read_environment(".env");
    if (!env) {
        std::fprintf(stderr, "starpunk: configuration error:\n  - %s\n", env.error().message.c_str());
        return std::nullopt;
    }
    auto loaded = config::load_config(*env);
    if (!loaded.problems.empty()) {
        std::fprintf(stderr, "starpunk: the configuration has %zu problem(s):\n", loaded.problems.size());
        for (const auto& p : loaded.problems) std::fprintf(stderr, "  - %s\n", p.c_str());
        std::fprintf(stderr, "Set these in the environment or in ./.env (see docs/configuration.md).\n");
        return std::nullopt;
    }
    for (const auto& w : loaded.warnings) spdlog::warn("{}", w);
    return std::move(loaded.config);
}

}  // namespace

int serve() {
    (void)log::init({});
    auto cfg = load_or_report();
    if (!cfg) return kExitUsage;

    std::error_code ec;
    std::filesystem::create_directories(cfg->data_path, ec);
    if (ec) {
        spdlog::critical("cannot create DATA_PATH {}: {}", cfg->data_path, ec.message());
        return kExitFailure;
    }
    if (auto st = log::init({cfg->log_level, cfg->log_format, cfg->data_path + "/logs", true}); !st) {
        spdlog::critical("{}", st.error().message);
        return kExitFailure;
    }
    for (const auto& line : config::describe_config(*cfg)) spdlog::debug("config {}", line);
    if (cfg->dev_mode) {
        spdlog::warn("**************************************************************");
        spdlog::warn("* DEV_MODE is ON: /dev/login grants an admin session to anyone *");
        spdlog::warn("* who can reach this server. Never enable it in production.    *");
        spdlog::warn("**************************************************************");
    }

    auto templates = web::Templates::load();
    if (!templates) {
        spdlog::critical("{}", templates.error().message);
        return kExitFailure;
    }
    auto site = std::make_shared<web::Site>(web::Site{*cfg, *templates, http::StaticFiles{}});
    web::App app(site);

    http::ServerOptions options;
    options.host = cfg->host;
    options.port = cfg->port;
    options.io_threads = http::usable_cores();
    options.worker_threads = static_cast<unsigned>(cfg->workers);
    options.max_body_bytes = cfg->max_content_length;
    http::Server server(options, app);
    if (auto st = server.listen(); !st) {
        spdlog::critical("{}", st.error().message);
        return kExitFailure;
    }
    spdlog::info("StarPunk {} listening on http://{}:{} (site {})", kVersion,
                 cfg->host.find(':') != std::string::npos ? "[" + cfg->host + "]" : cfg->host, server.port(),
                 cfg->site_url);
    log::set_thread_context("-");
    server.run();
    log::shutdown();
    return kExitOk;
}

}  // namespace starpunk::cli
