// What every page handler needs: configuration, templates and static files.
// Built once at start-up, then shared read-only by every thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/sessions.hpp"
#include "config/config.hpp"
#include "http/static_files.hpp"
#include "metrics/metrics.hpp"
#include "monitoring/health.hpp"
#include "notes/note_renderer.hpp"
#include "notes/notes_service.hpp"
#include "web/layout_frame.hpp"
#include "web/page_cache.hpp"
#include "web/templates.hpp"

namespace starpunk::auth {
class IndieAuthClient;
class PasswordStore;
class LoginThrottle;
class TotpStore;
class PendingSecondFactor;
}
namespace starpunk::indieauth {
class AuthorizationServer;
}
namespace starpunk::net {
class HttpClient;
}
namespace starpunk::search {
class SearchService;
}
namespace starpunk::micropub {
class MicropubService;
}
namespace starpunk::media {
class MediaService;
}

namespace starpunk::web {

class MediaFiles;

// The services every request may use: always present, owned elsewhere and
// outliving the Site.
struct Services {
    notes::NotesService& notes;
    notes::NoteRenderer& renderer;
    PageCache& pages;
    monitoring::HealthProbe& health;
    storage::ConnectionPool& pool;  // detailed health, metrics
};

struct Site;
// The frame for `site`'s configuration and templates, checked at build time:
// assembling a sample page from it gives exactly what rendering the layout
// gives, or the result is nullptr (pages are then rendered in full).
// `dictionary`: LayoutFrame::dictionary (typically sample_note_article()).
std::shared_ptr<const LayoutFrame> make_layout_frame(const Site& site, std::string dictionary = {});

struct Site {
    Site(config::Config site_config, std::shared_ptr<const Templates> site_templates, Services services)
        : config(std::move(site_config)),
          templates(std::move(site_templates)),
          notes(services.notes),
          renderer(services.renderer),
          pages(services.pages),
          health(services.health),
          pool(services.pool) {}

    config::Config config;
    std::shared_ptr<const Templates> templates;  // never null
    http::StaticFiles static_files;
    notes::NotesService& notes;
    notes::NoteRenderer& renderer;
    PageCache& pages;
    monitoring::HealthProbe& health;
    storage::ConnectionPool& pool;
    // discovery_link_header(), computed once by the code that builds the Site
    // (it is constant); empty means "compute per response".
    std::string discovery_links;
    // cached_page_lines(), likewise; empty means "compute per response".
    std::string page_lines;
    // make_layout_frame(), likewise; null means "render the layout per page".
    std::shared_ptr<const LayoutFrame> public_layout;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

    // What a deployment may leave out (owned elsewhere; null = absent):
    // admin login (null: nobody can log in, every request is anonymous) —
    auth::SessionStore* sessions = nullptr;
    auth::IndieAuthClient* indieauth = nullptr;
    // the owner's password login (both or neither) —
    auth::PasswordStore* passwords = nullptr;
    auth::LoginThrottle* login_throttle = nullptr;
    // its optional TOTP second factor (both or neither; null: never asked) —
    auth::TotpStore* totp = nullptr;
    auth::PendingSecondFactor* second_factor = nullptr;
    // the built-in IndieAuth server (INDIEAUTH_SERVER; null: its routes 404) and
    // the outbound client it fetches client pages with —
    indieauth::AuthorizationServer* authorization_server = nullptr;
    net::HttpClient* outbound = nullptr;
    // search (SEARCH_ENABLED=false: the search routes say so) —
    search::SearchService* search = nullptr;
    // Micropub (/micropub answers 503) —
    micropub::MicropubService* micropub = nullptr;
    // photos (the media endpoint answers 503, /media/ 404) —
    media::MediaService* media = nullptr;
    MediaFiles* media_files = nullptr;
    // metrics (SPEC §9: nothing is recorded and the metrics routes say so).
    metrics::Metrics* metrics = nullptr;

    // Absolute URL for a site path: url("/note/x") -> "https://example.com/note/x".
    std::string url(std::string_view path) const { return config.site_url + std::string(path); }
};

struct PageInfo {
    std::string title;         // page-specific part of <title>; empty on the home page
    std::string search_query;  // pre-fills the search box
    // Admin navigation (admin link, log-out form). Only for responses that are
    // never cached publicly.
    bool admin = false;
    std::string csrf_token;
    // Scripts the page loads (URLs under /static, deferred, in order) and
    // whether it uses htmx (adds the htmx-config meta: no eval, no injected
    // styles, same-origin requests only, so the CSP stays strict).
    std::vector<std::string> scripts;
    bool htmx = false;
};

// PageInfo for a response to `req`: admin navigation when it is the admin's.
PageInfo page_info(const http::Request& req, std::string title = {});

// The Link header every HTML page carries (micropub, feeds, token endpoint).
std::string discovery_link_header(const Site& site);

// A cached public page as a response: 304 when the client's validators match,
// else 200 with the shared body (a framed page's assembled); ETag, Last-Modified, Cache-Control and Link set.
http::Response cached_page_response(const Site& site, const http::Request& req, std::shared_ptr<const CachedPage> page);
// The header lines every page from the page cache carries besides its
// validators (Cache-Control, Link: discovery), as one block.
std::string cached_page_lines(const Site& site);

// The author's h-card (SPEC §11): SITE_AUTHOR or else SITE_NAME; its URL
// ADMIN_ME or else the site; its photo, empty when none is configured.
struct Author {
    std::string name;
    std::string url;
    std::string photo;
};
Author site_author(const config::Config& c);

// "27 November 2026" (UTC).
std::string human_date(Timestamp t);

// Renders templates/<name>.mustache into the site layout. Error only when a
// template fails (a bug): callers turn it into a 500.
Result<std::string> render_page(const Site& site, const PageInfo& page, std::string_view name, TemplateData data);
// The same with the content already HTML (what a template would have rendered).
Result<std::string> render_in_layout(const Site& site, const PageInfo& page, std::string content);
// The same as a 200 page for the page cache, dated `last_modified_at`: kept
// as its title and content (make_framed_page) when the site has the public
// frame and `page` fits it, else whole; the same bytes and validators either
// way. Null when a template fails.
std::shared_ptr<const CachedPage> cached_page_in_layout(const Site& site, const PageInfo& page, std::string content,
                                                        std::time_t last_modified_at);

}  // namespace starpunk::web
