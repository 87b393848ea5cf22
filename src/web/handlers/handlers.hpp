// Page and API handlers, one small file each. Each factory captures what its
// handler needs and returns the callable the route table stores.
#pragma once

#include <memory>

#include "http/router.hpp"
#include "web/site.hpp"

namespace starpunk::web {
struct SiteFeeds;
}

namespace starpunk::web::handlers {

// GET /health — public liveness probe (SPEC §8).
// ?detailed=true needs the admin (401 JSON otherwise) and runs on a worker.
http::Handler health(std::shared_ptr<const Site> site);
bool health_is_simple(http::Request& req);
// GET /admin/health — the detailed report plus pool statistics and the metrics
// summary (admin JSON).
http::Handler admin_health(std::shared_ptr<const Site> site);
// GET /admin/metrics — the metrics report (admin JSON; web/metrics_view.hpp).
http::Handler admin_metrics(std::shared_ptr<const Site> site);
// GET /admin/metrics-dashboard — the dashboard page; .../figures — its htmx fragment.
http::Handler metrics_dashboard(std::shared_ptr<const Site> site);
http::Handler metrics_figures(std::shared_ptr<const Site> site);
// GET /metrics — Prometheus exposition (METRICS_PROMETHEUS; METRICS_TOKEN bearer).
http::Handler prometheus(std::shared_ptr<const Site> site);
// GET / — h-feed of published notes, 20 per page, ?page=N (cached in memory).
http::Handler home(std::shared_ptr<const Site> site);
bool home_is_cached(const Site& site, http::Request& req);
// GET /note/{slug} — one h-entry; 404 unknown/draft, 410 deleted (cached in memory).
http::Handler note_page(std::shared_ptr<const Site> site);
bool note_is_cached(const Site& site, http::Request& req);
// GET /tag/{tag} — h-feed of the published notes with a tag, paged like home;
// 301 to the normalised name, 404 for a tag no published note has.
http::Handler tag_page(std::shared_ptr<const Site> site);
bool tag_page_is_cached(const Site& site, http::Request& req);
// Admin login (SPEC §4). Where the browser goes once logged in.
inline constexpr std::string_view kAfterLogin = "/admin/";
// GET /auth/login — the form; POST /auth/login — starts IndieAuth (302 away).
http::Handler login_form(std::shared_ptr<const Site> site);
http::Handler login_start(std::shared_ptr<const Site> site);
// GET /auth/callback — completes IndieAuth, sets the session cookie.
http::Handler login_callback(std::shared_ptr<const Site> site);
// POST /auth/logout — deletes the session, clears the cookie.
http::Handler logout(std::shared_ptr<const Site> site);
// GET /dev/login — DEV_MODE only: instant admin session.
http::Handler dev_login(std::shared_ptr<const Site> site);
// The built-in IndieAuth server (docs/indieauth.md); every one 404s when it is off.
// GET /.well-known/oauth-authorization-server — RFC 8414 metadata.
http::Handler indieauth_metadata(std::shared_ptr<const Site> site);
// GET /auth/authorize — checks the request, asks for login, shows the consent page;
// POST /auth/authorize/consent — approve (a code back to the client) or deny;
// POST /auth/authorize — a client redeems a code for the identity only.
http::Handler authorize(std::shared_ptr<const Site> site);
http::Handler authorize_consent(std::shared_ptr<const Site> site);
http::Handler authorize_redeem(std::shared_ptr<const Site> site);
// POST /auth/token — code + PKCE verifier -> access token; GET /auth/token —
// legacy Bearer verification; POST /auth/token/introspect (RFC 7662) and
// /auth/token/revoke (RFC 7009).
http::Handler token(std::shared_ptr<const Site> site);
http::Handler token_verify(std::shared_ptr<const Site> site);
http::Handler token_introspect(std::shared_ptr<const Site> site);
http::Handler token_revoke(std::shared_ptr<const Site> site);
// GET /admin/tokens — the built-in server's live tokens; POST
// /admin/tokens/revoke/{id} — revoke one.
http::Handler admin_tokens(std::shared_ptr<const Site> site);
http::Handler admin_token_revoke(std::shared_ptr<const Site> site);
// GET /admin/media: the stored images, newest first (admin_media.cpp).
http::Handler admin_media(std::shared_ptr<const Site> site);
// GET /search?q=&page= — HTML search results (SPEC §7); the admin also sees drafts.
http::Handler search(std::shared_ptr<const Site> site);
// GET /api/search?q=&limit=&offset= — search results as JSON (SPEC §7).
http::Handler api_search(std::shared_ptr<const Site> site);
// The admin area (SPEC §3): note list and trash, the note form, trash actions.
http::Handler admin_list(std::shared_ptr<const Site> site);
http::Handler admin_new_form(std::shared_ptr<const Site> site);
http::Handler admin_create(std::shared_ptr<const Site> site);
http::Handler admin_edit_form(std::shared_ptr<const Site> site);
http::Handler admin_update(std::shared_ptr<const Site> site);
http::Handler admin_delete(std::shared_ptr<const Site> site);
http::Handler admin_restore(std::shared_ptr<const Site> site);
http::Handler admin_purge(std::shared_ptr<const Site> site);
// GET /micropub — queries; POST /micropub — create (SPEC §5). Bearer token.
http::Handler micropub_get(std::shared_ptr<const Site> site);
http::Handler micropub_post(std::shared_ptr<const Site> site);
// Feeds (SPEC §6), from memory when unchanged (web/feed_response.hpp), else
// built once per change (a large feed: streamed item by item): GET /feed.xml
// and /feed.rss (RSS 2.0), /feed.atom (Atom 1.0), /feed.json (JSON Feed 1.1);
// GET /feed negotiates on Accept (406 when nothing offered is acceptable);
// GET /opml.xml lists them. All share one SiteFeeds (make_site_feeds); the
// routes' inline probe is feed_is_cached.
http::Handler feed_rss(std::shared_ptr<const Site> site, std::shared_ptr<SiteFeeds> feeds);
http::Handler feed_atom(std::shared_ptr<const Site> site, std::shared_ptr<SiteFeeds> feeds);
http::Handler feed_json(std::shared_ptr<const Site> site, std::shared_ptr<SiteFeeds> feeds);
http::Handler feed_negotiated(std::shared_ptr<const Site> site, std::shared_ptr<SiteFeeds> feeds);
http::Handler opml(std::shared_ptr<const Site> site, std::shared_ptr<SiteFeeds> feeds);
// GET /static/{path*} — embedded CSS/JS/fonts with ETag and long cache.
http::Handler static_file(std::shared_ptr<const Site> site);
// POST /micropub/media: the Micropub media endpoint (body spooled to a file).
http::Handler micropub_media(std::shared_ptr<const Site> site);
// GET /media/{path*}: stored images (web/media_files.hpp), opened on a worker
// and sent with sendfile.
http::Handler media_file(std::shared_ptr<const Site> site);

}  // namespace starpunk::web::handlers
