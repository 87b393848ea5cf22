#include "web/routes.hpp"

#include "web/access.hpp"
#include "web/feed_response.hpp"
#include "web/handlers/handlers.hpp"

namespace starpunk::web {

using http::Execution;
using http::Method;

void add_routes(http::Router& r, const std::shared_ptr<const Site>& site) {
    //        method       pattern            access           runs on            handler
    // Pages run on a worker when they must be built, inline when cached.
    r.add({Method::get, "/", Access::public_, Execution::blocking, handlers::home(site),
           [s = site.get()](http::Request& req) { return handlers::home_is_cached(*s, req); }});
    r.add({Method::get, "/note/{slug}", Access::public_, Execution::blocking, handlers::note_page(site),
           [s = site.get()](http::Request& req) { return handlers::note_is_cached(*s, req); }});
    r.add({Method::get, "/tag/{tag}", Access::public_, Execution::blocking, handlers::tag_page(site),
           [s = site.get()](http::Request& req) { return handlers::tag_page_is_cached(*s, req); }});
    r.add({Method::get, "/auth/login", Access::public_, Execution::blocking, handlers::login_form(site)});
    r.add({Method::post, "/auth/login", Access::public_, Execution::blocking, handlers::login_start(site)});
    r.add({Method::get, "/auth/callback", Access::public_, Execution::blocking, handlers::login_callback(site)});
    r.add({Method::post, "/auth/logout", Access::admin, Execution::blocking, handlers::logout(site)});
    r.add({Method::get, "/admin", Access::admin, Execution::blocking, [](http::Request&) { return http::redirect("/admin/", 301); }});
    r.add({Method::get, "/admin/", Access::admin, Execution::blocking, handlers::admin_list(site)});
    r.add({Method::get, "/admin/new", Access::admin, Execution::blocking, handlers::admin_new_form(site)});
    // The note form and Micropub posts may carry photos: a multipart body is
    // spooled to disk under MAX_UPLOAD_SIZE (when media is stored at all).
    const auto photo_uploads = site->media ? std::optional(site->config.max_upload_bytes) : std::nullopt;
    http::Route new_note{Method::post, "/admin/new", Access::admin, Execution::blocking, handlers::admin_create(site)};
    new_note.multipart_to_file_bytes = photo_uploads;
    r.add(std::move(new_note));
    r.add({Method::get, "/admin/edit/{id}", Access::admin, Execution::blocking, handlers::admin_edit_form(site)});
    http::Route edit_note{Method::post, "/admin/edit/{id}", Access::admin, Execution::blocking, handlers::admin_update(site)};
    edit_note.multipart_to_file_bytes = photo_uploads;
    r.add(std::move(edit_note));
    r.add({Method::post, "/admin/delete/{id}", Access::admin, Execution::blocking, handlers::admin_delete(site)});
    r.add({Method::post, "/admin/restore/{id}", Access::admin, Execution::blocking, handlers::admin_restore(site)});
    r.add({Method::post, "/admin/purge/{id}", Access::admin, Execution::blocking, handlers::admin_purge(site)});
    // The built-in IndieAuth server: consent is the owner's (admin: CSRF); the
    // client endpoints are called from anywhere and authenticate themselves.
    r.add({Method::get, "/.well-known/oauth-authorization-server", Access::public_, Execution::inline_,
           handlers::indieauth_metadata(site)});
    r.add({Method::get, "/auth/authorize", Access::public_, Execution::blocking, handlers::authorize(site)});
    r.add({Method::post, "/auth/authorize", Access::client, Execution::blocking, handlers::authorize_redeem(site)});
    r.add({Method::post, "/auth/authorize/consent", Access::admin, Execution::blocking, handlers::authorize_consent(site)});
    r.add({Method::get, "/auth/token", Access::client, Execution::blocking, handlers::token_verify(site)});
    r.add({Method::post, "/auth/token", Access::client, Execution::blocking, handlers::token(site)});
    r.add({Method::post, "/auth/token/introspect", Access::client, Execution::blocking, handlers::token_introspect(site)});
    r.add({Method::post, "/auth/token/revoke", Access::client, Execution::blocking, handlers::token_revoke(site)});
    r.add({Method::get, "/admin/tokens", Access::admin, Execution::blocking, handlers::admin_tokens(site)});
    r.add({Method::get, "/admin/media", Access::admin, Execution::blocking, handlers::admin_media(site)});
    r.add({Method::post, "/admin/tokens/revoke/{id}", Access::admin, Execution::blocking, handlers::admin_token_revoke(site)});
    r.add({Method::get, "/dev/login", Access::dev_only, Execution::blocking, handlers::dev_login(site)});
    r.add({Method::get, "/search", Access::public_, Execution::blocking, handlers::search(site)});
    r.add({Method::get, "/api/search", Access::public_, Execution::blocking, handlers::api_search(site)});
    r.add({Method::get, "/micropub", Access::bearer, Execution::blocking, handlers::micropub_get(site)});
    http::Route micropub_create{Method::post, "/micropub", Access::bearer, Execution::blocking, handlers::micropub_post(site)};
    micropub_create.multipart_to_file_bytes = photo_uploads;
    r.add(std::move(micropub_create));
    // Uploads: the body goes to an unlinked temp file as it arrives, capped at MAX_UPLOAD_SIZE.
    http::Route media_upload{Method::post, "/micropub/media", Access::bearer, Execution::blocking,
                             handlers::micropub_media(site)};
    media_upload.max_body_bytes = site->config.max_upload_bytes;
    media_upload.body_to_file = true;
    r.add(std::move(media_upload));
    r.add({Method::get, "/media/{path*}", Access::public_, Execution::blocking, handlers::media_file(site)});
    // Feeds: answered inline from memory when unchanged, else built on a
    // worker (web/feed_response.hpp); one SiteFeeds (service + cache) for all.
    auto feeds = make_site_feeds(*site);
    auto cached = [f = feeds.get()](std::optional<feeds::Format> format) {
        return [f, format](http::Request& req) { return feed_is_cached(*f, req, format); };
    };
    r.add({Method::get, "/feed.xml", Access::public_, Execution::blocking, handlers::feed_rss(site, feeds),
           cached(feeds::Format::rss)});
    r.add({Method::get, "/feed.rss", Access::public_, Execution::blocking, handlers::feed_rss(site, feeds),
           cached(feeds::Format::rss)});
    r.add({Method::get, "/feed.atom", Access::public_, Execution::blocking, handlers::feed_atom(site, feeds),
           cached(feeds::Format::atom)});
    r.add({Method::get, "/feed.json", Access::public_, Execution::blocking, handlers::feed_json(site, feeds),
           cached(feeds::Format::json)});
    r.add({Method::get, "/feed", Access::public_, Execution::blocking, handlers::feed_negotiated(site, feeds),
           cached(std::nullopt)});
    r.add({Method::get, "/opml.xml", Access::public_, Execution::blocking, handlers::opml(site, feeds)});
    r.add({Method::get, "/health", Access::public_, Execution::blocking, handlers::health(site), handlers::health_is_simple});
    r.add({Method::get, "/admin/health", Access::admin_api, Execution::blocking, handlers::admin_health(site)});
    r.add({Method::get, "/admin/metrics", Access::admin_api, Execution::blocking, handlers::admin_metrics(site)});
    r.add({Method::get, "/admin/metrics-dashboard", Access::admin, Execution::blocking, handlers::metrics_dashboard(site)});
    r.add({Method::get, "/admin/metrics-dashboard/figures", Access::admin_api, Execution::blocking,
           handlers::metrics_figures(site)});
    // Prometheus: its own bearer check (METRICS_TOKEN), on a worker (note counts query).
    r.add({Method::get, "/metrics", Access::public_, Execution::blocking, handlers::prometheus(site)});
    r.add({Method::get, "/static/{path*}", Access::public_, Execution::inline_, handlers::static_file(site)});
}

}  // namespace starpunk::web
