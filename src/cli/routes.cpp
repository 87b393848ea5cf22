#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <system_error>

#include "cli/commands.hpp"
#include "cli/runtime.hpp"
#include "monitoring/health.hpp"
#include "notes/note_renderer.hpp"
#include "render/engine.hpp"
#include "web/access.hpp"
#include "web/app.hpp"
#include "web/page_cache.hpp"
#include "web/templates.hpp"

namespace starpunk::cli {

namespace {

// A directory made for this command and removed with everything in it when
// the command ends, whatever way it ends.
class ScratchDir {
public:
    ScratchDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "starpunk-routes-XXXXXX").string();
        if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
    }
    ~ScratchDir() {
        if (path_.empty()) return;
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

}  // namespace

// The route table is the one web::App builds (web/routes.cpp), over an empty
// site in a scratch directory: which routes exist and who may call them does
// not depend on the configuration (DEV_MODE, media, search only change what
// a route answers), so nothing of the configured site is read or written.
int routes() {
    // Logs go to stderr (log::init); the scratch database's migrations are not news.
    spdlog::set_level(spdlog::level::warn);
    ScratchDir scratch;
    if (scratch.path().empty()) {
        std::fprintf(stderr, "routes: cannot create a temporary directory\n");
        return kExitFailure;
    }
    config::Config cfg;
    cfg.data_path = scratch.path();
    cfg.notes_path = scratch.path() + "/notes";
    cfg.database_path = scratch.path() + "/starpunk.db";
    cfg.db_pool_size = 1;
    auto storage = open_storage(cfg);
    if (!storage) {
        std::fprintf(stderr, "routes: %s\n", storage.error().message.c_str());
        return kExitFailure;
    }
    auto templates = web::Templates::load();
    if (!templates) {
        std::fprintf(stderr, "routes: %s\n", templates.error().message.c_str());
        return kExitFailure;
    }
    render::InProcessMarkdown markdown;  // never called: nothing is rendered
    notes::NoteRenderer renderer(*storage->notes, markdown);
    web::PageCache pages(storage->notes->changes());
    monitoring::HealthProbe health(cfg.database_path, cfg.data_path);
    auto site = std::make_shared<web::Site>(cfg, *templates,
                                            web::Services{*storage->notes, renderer, pages, health, *storage->pool});
    web::App app(site);
    for (const auto& route : app.router().routes()) {
        nlohmann::json line = {
            {"method", http::method_name(route.method)},
            {"pattern", route.pattern},
            {"access", web::access_name(web::access_of(route))},
            {"admin", web::is_admin_route(route)},
            {"called_cross_site", web::called_cross_site(route)},
        };
        std::printf("%s\n", line.dump().c_str());
    }
    return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
}

}  // namespace starpunk::cli
