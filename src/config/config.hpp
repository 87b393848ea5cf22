// Configuration: SPEC §11. Read from the process environment and a `.env` file in
// the working directory (the real environment wins), validated once at start-up.
//
// Contract: load_config() never stops at the first problem; it returns every
// problem it found so the operator can fix them all at once (the CLI exits 2).
// The resulting Config is immutable after start-up and safe to share between
// threads. Secrets (SESSION_SECRET, METRICS_TOKEN) never appear in problems,
// warnings or describe_config().
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace starpunk::config {

using Environment = std::map<std::string, std::string, std::less<>>;

struct Config {
    // Site
    std::string site_url = "http://localhost:8000";  // no trailing slash
    bool site_url_set = false;  // SITE_URL was given (else site_url is the default above)
    std::string site_name = "StarPunk";
    std::string site_author;
    std::string site_description;
    std::string site_author_photo;
    // SITE_AUTHOR_EMAIL: optional; given to IndieAuth clients granted the
    // `email` scope (with `profile`), and nowhere else.
    std::string site_author_email;
    // Identity and sessions
    std::string admin_me;
    std::string session_secret;
    int session_lifetime_days = 30;
    std::string indielogin_url = "https://indielogin.com";
    std::string token_endpoint;
    bool allow_http_endpoints = false;
    // The built-in IndieAuth server (INDIEAUTH_SERVER): default on when
    // ADMIN_ME is on SITE_URL's origin; false turns it off.
    bool indieauth_server = false;
    int indieauth_token_lifetime_days = 30;  // INDIEAUTH_TOKEN_LIFETIME
    int indieauth_refresh_lifetime_days = 90;  // INDIEAUTH_REFRESH_LIFETIME
    // Storage
    std::string data_path = "./data";
    std::string notes_path;     // defaults to data_path/notes
    std::string database_path;  // defaults to data_path/starpunk.db
    // Server
    std::string host = "127.0.0.1";  // an IPv4 or IPv6 literal (validated)
    uint16_t port = 8000;
    int workers = 0;  // defaults to the number of usable cores
    std::uint64_t max_content_length = 10ull * 1024 * 1024;
    std::uint64_t max_note_bytes = 1024 * 1024;  // MAX_NOTE_SIZE (extension: SPEC §2.4 "configurable")
    // MAX_UPLOAD_SIZE: cap of an upload's body (the media endpoint), which is
    // spooled to disk as it arrives rather than held in memory.
    std::uint64_t max_upload_bytes = 20ull * 1024 * 1024;
    // MAX_IMAGE_PIXELS: width × height of an uploaded image, from its header.
    std::uint64_t max_image_pixels = 50'000'000;
    // Open connections at most; beyond it the server stops accepting until one
    // closes. Default: default_max_connections() of the open-file limit.
    std::uint64_t max_connections = 1024;
    // Worker threads that may wait on outbound HTTP (token verification,
    // IndieAuth discovery) at once; beyond it such requests get 503 at once.
    // Default: half of WORKERS, at least 1.
    int outbound_workers = 1;
    // PAGE_CACHE_SIZE: bytes of whole public pages kept in memory (bodies and
    // keys); 0 turns the page cache off.
    std::uint64_t page_cache_bytes = 16ull * 1024 * 1024;
    // Development
    bool dev_mode = false;
    std::string dev_admin_me;
    // Logging
    std::string log_level = "INFO";  // DEBUG, INFO, WARNING, ERROR, CRITICAL
    std::string log_format = "text";  // text | json
    // Feeds
    int feed_max_items = 50;
    int feed_cache_seconds = 300;
    // Database
    int db_pool_size = 5;
    double db_timeout_seconds = 10.0;
    // Metrics
    bool metrics_enabled = true;
    int metrics_buffer_size = 1000;
    std::map<std::string, double> metrics_sampling_rate{{"database", 1.0}, {"http", 1.0}, {"render", 1.0}};
    double metrics_slow_query_threshold = 1.0;
    bool metrics_prometheus = false;
    std::string metrics_token;
    // Search
    bool search_enabled = true;
    bool search_force_fallback = false;

    // Outbound IndieAuth calls may use http and loopback/private addresses.
    bool outbound_http_allowed() const { return allow_http_endpoints || dev_mode; }
    // The identity /dev/login grants: DEV_ADMIN_ME, else ADMIN_ME, else SITE_URL/.
    std::string dev_identity() const;
    bool site_is_https() const;
};

struct LoadedConfig {
    Config config;
    std::vector<std::string> problems;  // empty when the configuration is usable
    std::vector<std::string> warnings;  // usable, but the operator should know
};

// Parses .env text: KEY=VALUE lines, optional `export `, '#' comments, single or
// double quotes (double quotes understand \n \" \\). A malformed line is an error
// naming its line number.
Result<Environment> parse_dotenv(std::string_view text);

// The process environment overlaid on the .env file at `dotenv_path` (if it
// exists). A malformed .env is reported in `problems` of load_config via the
// returned error.
Result<Environment> read_environment(const std::string& dotenv_path);

// What the configuration is for: the server needs an identity and a session
// secret; maintenance commands (migrate, check, backup, import, …) do not.
enum class Purpose { serve, maintenance };

LoadedConfig load_config(const Environment& env, Purpose purpose = Purpose::serve);

// Descriptors the server keeps for everything but client connections: 32 for
// the process itself (standard streams, log files, epoll, timers, the
// listening socket) + 3 per pooled SQLite connection (database, WAL, shared
// memory) + 2 per worker (a note file, an outbound socket).
std::uint64_t reserved_descriptors(int db_pool_size, int workers);
// MAX_CONNECTIONS' default: what the open-file limit leaves after the reserve,
// at least 8.
std::uint64_t default_max_connections(std::uint64_t open_files_limit, int db_pool_size, int workers);

// The URL a browser on this machine uses to reach a server listening on
// `host`:`port`: "http://127.0.0.1:8080", "http://[::1]:8080"; the wildcard
// addresses 0.0.0.0 and :: become localhost. Used as SITE_URL in DEV_MODE when
// SITE_URL is not set, so links follow the port actually listened on.
std::string listen_url(std::string_view host, uint16_t port);

// Whether links should follow the listening address: DEV_MODE without SITE_URL.
inline bool site_url_follows_listen_address(const Config& c) { return c.dev_mode && !c.site_url_set; }

// One line per setting, secrets shown as "(set)" / "(not set)". For `doctor` and
// the start-up DEBUG log.
std::vector<std::string> describe_config(const Config& c);

}  // namespace starpunk::config
