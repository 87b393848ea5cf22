// A web::Site over a NotesHarness: the services every Site holds (renderer,
// page cache, health probe) built on the harness's notes, plus templates.
#pragma once

#include <memory>
#include <stdexcept>

#include "monitoring/health.hpp"
#include "notes/note_renderer.hpp"
#include "render/engine.hpp"
#include "support/notes_harness.hpp"
#include "web/page_cache.hpp"
#include "web/site.hpp"
#include "web/templates.hpp"

namespace starpunk::testing {

struct SiteServices {
    explicit SiteServices(NotesHarness& h)
        : harness(h), renderer(h.svc(), markdown), pages(h.svc().changes()), health(h.db_path, h.dir.path()) {}

    // SITE_URL https://blog.example, everything else the defaults.
    static config::Config default_config() {
        config::Config c;
        c.site_url = "https://blog.example";
        return c;
    }

    // A Site with `config` and the embedded templates; optional services are
    // left out for the test to add.
    std::shared_ptr<web::Site> site(config::Config config = default_config()) {
        auto templates = web::Templates::load();
        if (!templates) throw std::runtime_error("templates: " + templates.error().message);
        return std::make_shared<web::Site>(std::move(config), *templates,
                                           web::Services{harness.svc(), renderer, pages, health, *harness.pool});
    }

    NotesHarness& harness;
    render::InProcessMarkdown markdown;  // unbounded: tests render trusted text
    notes::NoteRenderer renderer;
    web::PageCache pages;
    monitoring::HealthProbe health;
};

}  // namespace starpunk::testing
