#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "cli/commands.hpp"
#include "auth/indieauth.hpp"
#include "auth/login_throttle.hpp"
#include "auth/password.hpp"
#include "auth/totp.hpp"
#include "auth/sessions.hpp"
#include "cli/runtime.hpp"
#include "http/server.hpp"
#include "indieauth/authorization_server.hpp"
#include "log/log.hpp"
#include "micropub/micropub_service.hpp"
#include "net/coalescing_client.hpp"
#include "notes/note_renderer.hpp"
#include "render/isolated.hpp"
#include "starpunk_version.hpp"
#include "util/crypto.hpp"
#include "util/memory_trim.hpp"
#include "util/sd_notify.hpp"
#include "util/system.hpp"
#include "web/app.hpp"
#include "web/media_files.hpp"
#include "web/note_entry.hpp"
#include "media/media_service.hpp"

namespace starpunk::cli {

namespace {
// Sessions slide for SESSION_LIFETIME days and end for good after three times
// that; they hold only while ADMIN_ME (and, for dev logins, DEV_MODE and
// DEV_ADMIN_ME) are what they were made under.
Result<std::unique_ptr<auth::SessionStore>> make_session_store(const config::Config& cfg,
                                                               std::shared_ptr<storage::ConnectionPool> pool) {
    auth::SessionStore::Options o;
    o.lifetime = std::chrono::hours(24) * cfg.session_lifetime_days;
    o.absolute_lifetime = o.lifetime * 3;
    o.secret = cfg.session_secret;
    if (auto admin = auth::admin_identity(cfg)) o.admin_me = std::move(*admin);  // else nobody can log in
    if (cfg.dev_mode) o.dev_me = cfg.dev_identity();
    if (o.secret.empty()) {  // only possible in DEV_MODE (config refuses it otherwise)
        auto bytes = random_bytes(32);
        if (!bytes) return std::move(bytes).error();
        o.secret = *bytes;
        spdlog::warn("SESSION_SECRET is not set: using a random one, so forms open across a restart must be reloaded");
    }
    auto store = std::make_unique<auth::SessionStore>(std::move(pool), system_clock(), std::move(o));
    if (auto purged = store->purge_expired(); !purged) {
        return make_error(ErrorCode::io, "cannot purge expired sessions: " + purged.error().message);
    } else if (*purged > 0) {
        spdlog::info("purged {} expired session(s)", *purged);
    }
    return store;
}
metrics::Settings metrics_settings(const config::Config& cfg) {
    metrics::Settings s;
    s.enabled = cfg.metrics_enabled;
    s.buffer_size = static_cast<size_t>(cfg.metrics_buffer_size);
    for (auto t : metrics::kTypes) {
        auto it = cfg.metrics_sampling_rate.find(std::string(metrics::type_name(t)));
        if (it != cfg.metrics_sampling_rate.end()) s.sampling[static_cast<size_t>(t)] = it->second;
    }
    s.slow_threshold_seconds = cfg.metrics_slow_query_threshold;
    return s;
}
}  // namespace

int serve() {
    // Before any thread: one heap for all of them (util/memory_trim.hpp).
    use_one_malloc_arena();
    auto cfg = load_config_or_report(config::Purpose::serve);
    if (!cfg) return kExitUsage;

    if (auto st = storage::posix_fs().create_dirs(cfg->data_path); !st) {
        spdlog::critical("{}", st.error().message);
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

    // Metrics first, so every statement from the first one on is observed.
    metrics::Metrics metrics(metrics_settings(*cfg));
    storage::StatementObserver observer;
    if (metrics.enabled()) {
        observer = [&metrics](std::string_view sql, std::chrono::nanoseconds took, bool ok) {
            metrics.statement(sql, took, ok);
        };
    }
    // Markdown renders in worker processes, each bounded in CPU time, memory
    // and output (render/isolated.hpp); a write whose note cannot render
    // within its budget is refused before anything is stored.
    auto executable = render::current_executable();
    if (!executable) {
        spdlog::critical("cannot find this executable to start render workers: {}", executable.error().message);
        return kExitFailure;
    }
    render::IsolatedMarkdown markdown({.executable = *executable,
                                       .workers = static_cast<std::size_t>(std::clamp(cfg->workers, 1, 2))});
    auto storage = open_storage(*cfg, std::move(observer), [&markdown](std::string_view content) {
        return notes::render_for_write(markdown, content);
    });
    if (!storage) {
        spdlog::critical("cannot open storage: {}", storage.error().message);
        return kExitFailure;
    }
    auto recovered = storage->notes->recover();
    if (!recovered) {
        spdlog::critical("start-up recovery failed: {}", recovered.error().message);
        return kExitFailure;
    }
    if (recovered->stale_temp_files_removed > 0)
        spdlog::warn("removed {} stale temporary note file(s)", recovered->stale_temp_files_removed);
    if (recovered->pending_updates_settled > 0)
        spdlog::warn("settled {} interrupted note update(s)", recovered->pending_updates_settled);
    for (const auto& problem : recovered->unsettled) {
        spdlog::error("note left as it was, run `starpunk check`: {}", problem);
    }
    if (!recovered->orphan_files.empty()) {
        spdlog::warn("{} orphan note file(s) without a database row (kept; see `starpunk check`), e.g. {}",
                     recovered->orphan_files.size(), recovered->orphan_files.front());
    }

    web::RenderObserver render_observer;
    if (metrics.enabled()) {
        render_observer = [&metrics](std::string_view name, std::chrono::nanoseconds took, bool ok) {
            metrics.render(name, took, ok);
        };
    }
    auto templates = web::Templates::load(std::move(render_observer));
    if (!templates) {
        spdlog::critical("{}", templates.error().message);
        return kExitFailure;
    }
    // Listen before the site is built: in DEV_MODE without SITE_URL the site's
    // links follow the port actually bound (PORT=0 picks one).
    http::ServerOptions options;
    options.host = cfg->host;
    options.port = cfg->port;
    options.io_threads = usable_cores();
    options.worker_threads = static_cast<unsigned>(cfg->workers);
    options.max_body_bytes = cfg->max_content_length;
    options.max_connections = static_cast<std::size_t>(cfg->max_connections);
    options.upload_dir = cfg->data_path + "/uploads";  // request bodies routes keep on disk (media)
    options.on_shutdown = [] {
        if (auto st = notify_service_manager("STOPPING=1"); !st) spdlog::warn("{}", st.error().message);
    };
    http::Server server(options);
    if (auto st = server.listen(); !st) {
        spdlog::critical("{}", st.error().message);
        return kExitFailure;
    }
    const std::string listening = config::listen_url(cfg->host, server.port());
    if (config::site_url_follows_listen_address(*cfg)) {
        auto followed = load_config_with(config::Purpose::serve, {{"SITE_URL", listening}});
        if (!followed) {
            spdlog::critical("{}", followed.error().message);
            return kExitFailure;
        }
        cfg = std::move(*followed);
        spdlog::info("SITE_URL is not set: links use {} (DEV_MODE)", cfg->site_url);
    }
    monitoring::HealthProbe health(cfg->database_path, cfg->data_path);
    // Renderings are stored with the notes, so memory holds only the hot
    // ones: a miss is one indexed read, not a render.
    notes::NoteRenderer renderer(*storage->notes, markdown, {.cache_bytes = 1u << 20, .cpu_scale = notes::kReadCpuScale});
    web::PageCache pages(storage->notes->changes(), static_cast<std::size_t>(cfg->page_cache_bytes));
    auto site = std::make_shared<web::Site>(*cfg, *templates,
                                            web::Services{*storage->notes, renderer, pages, health, *storage->pool});
    site->discovery_links = web::discovery_link_header(*site);
    site->page_lines = web::cached_page_lines(*site);
    site->public_layout = web::make_layout_frame(*site, web::sample_note_article(*site));
    if (!site->public_layout) spdlog::warn("the page layout could not be prepared once; every page renders it in full");

    auto sessions = make_session_store(*cfg, storage->pool);
    if (!sessions) {
        spdlog::critical("{}", sessions.error().message);
        return kExitFailure;
    }
    site->sessions = sessions->get();
    // The owner's password login (set with `starpunk set-password`), throttled.
    auth::PasswordStore passwords(storage->pool, system_clock());
    auth::LoginThrottle login_throttle(system_clock());
    site->passwords = &passwords;
    site->login_throttle = &login_throttle;
    // Its optional second factor (`starpunk set-totp`).
    auth::TotpStore totp(storage->pool, system_clock());
    auth::PendingSecondFactor second_factor(system_clock());
    site->totp = &totp;
    site->second_factor = &second_factor;
    site->metrics = &metrics;
    net::CurlHttpClient curl(net::Policy::outbound(cfg->outbound_http_allowed()));
    // Every outbound call: identical concurrent GETs share one request, and at
    // most OUTBOUND_WORKERS threads wait on outbound calls at once.
    net::CoalescingHttpClient outbound(curl, {static_cast<std::size_t>(cfg->outbound_workers)});
    auto endpoints = std::make_shared<auth::EndpointCache>(system_clock());  // one discovery cache: login + Micropub
    auth::IndieAuthClient indieauth(site->config, storage->pool, outbound, system_clock(), endpoints);
    if (auto purged = indieauth.purge_expired(); !purged) {
        spdlog::warn("could not purge expired login attempts: {}", purged.error().message);
    }
    site->indieauth = &indieauth;
    micropub::TokenVerifier tokens(site->config, outbound, system_clock(), endpoints);
    // The built-in IndieAuth server (INDIEAUTH_SERVER): its tokens are checked
    // locally by Micropub; it needs an owner identity to issue anything.
    std::unique_ptr<indieauth::AuthorizationServer> authorization_server;
    if (cfg->indieauth_server) {
        if (auto admin = auth::admin_identity(*cfg)) {
            indieauth::AuthorizationServer::Options o;
            o.issuer = cfg->site_url + "/";
            o.me = std::move(*admin);
            o.token_lifetime = std::chrono::hours(24) * cfg->indieauth_token_lifetime_days;
            o.refresh_lifetime = std::chrono::hours(24) * cfg->indieauth_refresh_lifetime_days;
            authorization_server = std::make_unique<indieauth::AuthorizationServer>(storage->pool, system_clock(), o);
            if (auto purged = authorization_server->purge_expired(); !purged) {
                spdlog::warn("could not purge expired IndieAuth codes and tokens: {}", purged.error().message);
            }
            site->authorization_server = authorization_server.get();
            tokens.set_local_server(authorization_server.get());
            spdlog::info("built-in IndieAuth server on for {} (INDIEAUTH_SERVER)", o.me);
        } else {
            spdlog::warn("built-in IndieAuth server off: {}", admin.error().message);
        }
    }
    site->outbound = &outbound;
    // Photos: images under DATA_PATH/media; upload bodies spooled to
    // DATA_PATH/uploads (unlinked temp files; leftovers of a killed process
    // are removed here).
    media::MediaService::Options media_options;
    media_options.media_dir = cfg->data_path + "/media";
    media_options.upload_dir = options.upload_dir;
    media_options.limits.max_pixels = cfg->max_image_pixels;
    media::MediaService media(storage::posix_fs(), storage->pool, system_clock(), media_options);
    if (auto removed = media.remove_stale_temp_files(); !removed) {
        spdlog::critical("media: {}", removed.error().message);
        return kExitFailure;
    } else if (*removed > 0) {
        spdlog::warn("removed {} stale temporary media/upload file(s)", *removed);
    }
    web::MediaFiles media_files(media_options.media_dir);
    site->media = &media;
    site->media_files = &media_files;
    micropub::MicropubService micropub(site->config, tokens, *storage->notes, &media);
    site->micropub = &micropub;
    auto search = open_search(*cfg, *storage);
    if (!search) {
        spdlog::critical("search: {}", search.error().message);
        return kExitFailure;
    }
    if (cfg->search_enabled) site->search = search->get();
    web::App app(site);

    spdlog::info("at most {} connections (MAX_CONNECTIONS), {} of {} workers for outbound calls (OUTBOUND_WORKERS)",
                 cfg->max_connections, cfg->outbound_workers, cfg->workers);
    server.set_application(app);
    // Always printed (whatever LOG_LEVEL): operators and tests read the address.
    std::fprintf(stderr, "StarPunk %s listening on http://%s:%u (site %s)\n", kVersion,
                 cfg->host.find(':') != std::string::npos ? ("[" + cfg->host + "]").c_str() : cfg->host.c_str(),
                 static_cast<unsigned>(server.port()), cfg->site_url.c_str());
    // Type=notify (deploy/starpunk.service): ready once everything above is
    // built; connections that arrived meanwhile wait in the listen backlog.
    if (auto st = notify_service_manager("READY=1\nSTATUS=Serving " + cfg->site_url); !st) {
        spdlog::warn("{}", st.error().message);
    }
    log::set_thread_context("-");
    // Notes without a current stored rendering (imported, or from an older
    // format) are rendered once, in the background, so pages never have to.
    std::atomic<bool> stop_rendering{false};
    std::thread render_ahead([&] {
        log::set_thread_context("render-ahead");
        auto stored = renderer.store_missing(stop_rendering);
        if (!stored) spdlog::warn("rendering notes ahead stopped: {}", stored.error().message);
        else if (*stored > 0) spdlog::info("rendered and stored {} note(s) ahead of their first read", *stored);
    });
    // Freed heap pages go back to the system every 2 s (util/memory_trim.hpp).
    MemoryTrimmer trimmer;
    server.run();
    stop_rendering = true;
    render_ahead.join();
    log::shutdown();
    return kExitOk;
}

}  // namespace starpunk::cli
