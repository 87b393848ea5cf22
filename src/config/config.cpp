#include "config/config.hpp"
#include "util/url.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <boost/url/parse.hpp>
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

#include "util/strings.hpp"
#include "util/system.hpp"

extern char** environ;

namespace starpunk::config {

namespace {

// Collects problems while reading typed values; every getter records its own
// problem and returns the default, so validation continues past the first error.
class Reader {
public:
    Reader(const Environment& env, std::vector<std::string>& problems) : env_(env), problems_(problems) {}

    const std::string* raw(std::string_view key) const {
        auto it = env_.find(key);
        if (it == env_.end() || trim(it->second).empty()) return nullptr;
        return &it->second;
    }

    std::string str(std::string_view key, std::string def) const {
        const std::string* v = raw(key);
        return v ? std::string(trim(*v)) : def;
    }

    bool boolean(std::string_view key, bool def) {
        const std::string* v = raw(key);
        if (!v) return def;
        std::string s = to_lower(trim(*v));
        if (s == "true" || s == "1" || s == "yes" || s == "on") return true;
        if (s == "false" || s == "0" || s == "no" || s == "off") return false;
        problems_.push_back(fmt::format("{}: expected true or false, got \"{}\"", key, *v));
        return def;
    }

    long long integer(std::string_view key, long long def, long long min, long long max) {
        const std::string* v = raw(key);
        if (!v) return def;
        std::string s(trim(*v));
        char* end = nullptr;
        errno = 0;
        long long n = std::strtoll(s.c_str(), &end, 10);
        if (errno != 0 || end == s.c_str() || *end != '\0') {
            problems_.push_back(fmt::format("{}: expected a whole number, got \"{}\"", key, s));
            return def;
        }
        if (n < min || n > max) {
            problems_.push_back(fmt::format("{}: {} is out of range ({} to {})", key, n, min, max));
            return def;
        }
        return n;
    }

    double real(std::string_view key, double def, double min, double max) {
        const std::string* v = raw(key);
        if (!v) return def;
        auto parsed = parse_real(trim(*v));
        if (!parsed) {
            problems_.push_back(fmt::format("{}: expected a number, got \"{}\"", key, std::string(trim(*v))));
            return def;
        }
        if (*parsed < min || *parsed > max) {
            problems_.push_back(fmt::format("{}: {} is out of range ({} to {})", key, *parsed, min, max));
            return def;
        }
        return *parsed;
    }

    // Bytes: a whole number with an optional K/M/G (binary) suffix, e.g. 10M;
    // 0 only where it means "off" (`zero_ok`).
    std::uint64_t bytes(std::string_view key, std::uint64_t def, bool zero_ok = false) {
        const std::string* v = raw(key);
        if (!v) return def;
        std::string s = to_lower(trim(*v));
        std::uint64_t mult = 1;
        if (s.ends_with("b")) s.pop_back();
        if (!s.empty() && (s.back() == 'k' || s.back() == 'm' || s.back() == 'g')) {
            mult = s.back() == 'k' ? 1024ull : s.back() == 'm' ? 1024ull * 1024 : 1024ull * 1024 * 1024;
            s.pop_back();
        }
        char* end = nullptr;
        errno = 0;
        unsigned long long n = std::strtoull(s.c_str(), &end, 10);
        if (s.empty() || s[0] == '-' || errno != 0 || *end != '\0' || (n == 0 && !zero_ok)) {
            problems_.push_back(fmt::format("{}: expected a {} size in bytes (e.g. 10485760 or 10M), got \"{}\"", key,
                                            zero_ok ? "whole-number" : "positive", *v));
            return def;
        }
        return n * mult;
    }

    static std::optional<double> parse_real(std::string_view text) {
        std::string s(text);
        char* end = nullptr;
        errno = 0;
        double d = std::strtod(s.c_str(), &end);
        if (errno != 0 || end == s.c_str() || *end != '\0' || !std::isfinite(d)) return std::nullopt;
        return d;
    }

private:
    const Environment& env_;
    std::vector<std::string>& problems_;
};

// Accepts an absolute http(s) URL with a host; returns it without a trailing slash.
std::optional<std::string> normalise_base_url(std::string_view text) {
    auto parsed = boost::urls::parse_absolute_uri(text);
    if (!parsed) return std::nullopt;
    std::string scheme = to_lower(parsed->scheme());
    if ((scheme != "http" && scheme != "https") || parsed->host().empty()) return std::nullopt;
    if (parsed->has_query() || parsed->has_fragment()) return std::nullopt;
    std::string out(text);
    while (out.size() > 1 && out.back() == '/') out.pop_back();
    return out;
}

// An IPv4 or IPv6 literal (IPv6 optionally with a %zone), as the listener accepts.
bool is_ip_address(const std::string& host) {
    unsigned char buf[sizeof(in6_addr)];
    if (::inet_pton(AF_INET, host.c_str(), buf) == 1) return true;
    const std::string address = host.substr(0, host.find('%'));
    if (address.size() + 1 == host.size()) return false;  // "::1%" names no zone
    return ::inet_pton(AF_INET6, address.c_str(), buf) == 1;
}

// local@domain: one '@' with something on each side, a dot in the domain, no
// spaces, controls, quotes or angle brackets (it is put into JSON only, but a
// typo should be caught at start-up rather than handed to clients).
bool looks_like_email(std::string_view s) {
    const auto at = s.find('@');
    if (at == std::string_view::npos || at == 0 || s.find('@', at + 1) != std::string_view::npos) return false;
    const std::string_view domain = s.substr(at + 1);
    if (domain.size() < 3 || domain.find('.') == std::string_view::npos || domain.front() == '.' ||
        domain.back() == '.') {
        return false;
    }
    for (unsigned char ch : s) {
        if (ch <= 0x20 || ch == 0x7f || ch == '"' || ch == '<' || ch == '>' || ch == ',' || ch == ';') return false;
    }
    return s.size() <= 254;
}

bool is_loopback_host(std::string_view host) {
    return host == "localhost" || host == "127.0.0.1" || host == "[::1]" || host.starts_with("127.");
}

}  // namespace

std::uint64_t reserved_descriptors(int db_pool_size, int workers) {
    return 32 + 3 * static_cast<std::uint64_t>(db_pool_size) + 2 * static_cast<std::uint64_t>(workers);
}

std::uint64_t default_max_connections(std::uint64_t open_files_limit, int db_pool_size, int workers) {
    constexpr std::uint64_t kFloor = 8;
    constexpr std::uint64_t kCeiling = 1'000'000;
    const std::uint64_t reserve = reserved_descriptors(db_pool_size, workers);
    if (open_files_limit <= reserve + kFloor) return kFloor;
    return std::min(open_files_limit - reserve, kCeiling);
}

bool Config::site_is_https() const { return starts_with_icase(site_url, "https://"); }

std::string Config::dev_identity() const {
    if (!dev_admin_me.empty()) return dev_admin_me;
    if (!admin_me.empty()) return admin_me;
    return site_url + "/";
}

Result<Environment> parse_dotenv(std::string_view text) {
    Environment env;
    std::istringstream in{std::string(text)};
    std::string line;
    int lineno = 0;
    while (std::getline(in, line)) {
        ++lineno;
        std::string_view l = trim(line);
        if (l.empty() || l.front() == '#') continue;
        if (l.starts_with("export ")) l = trim(l.substr(7));
        size_t eq = l.find('=');
        if (eq == std::string_view::npos || eq == 0) {
            return make_error(ErrorCode::invalid_input,
                              fmt::format(".env line {}: expected KEY=VALUE", lineno));
        }
        std::string key(trim(l.substr(0, eq)));
        for (char c : key) {
            if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) {
                return make_error(ErrorCode::invalid_input,
                                  fmt::format(".env line {}: \"{}\" is not a valid variable name", lineno, key));
            }
        }
        std::string_view v = trim(l.substr(eq + 1));
        std::string value;
        if (!v.empty() && (v.front() == '"' || v.front() == '\'')) {
            char q = v.front();
            size_t i = 1;
            bool closed = false;
            for (; i < v.size(); ++i) {
                char c = v[i];
                if (c == q) {
                    closed = true;
                    break;
                }
                if (q == '"' && c == '\\' && i + 1 < v.size()) {
                    char n = v[++i];
                    value.push_back(n == 'n' ? '\n' : n == 't' ? '\t' : n);
                } else {
                    value.push_back(c);
                }
            }
            if (!closed) {
                return make_error(ErrorCode::invalid_input,
                                  fmt::format(".env line {}: unterminated quoted value for {}", lineno, key));
            }
            std::string_view rest = trim(v.substr(i + 1));
            if (!rest.empty() && rest.front() != '#') {
                return make_error(ErrorCode::invalid_input,
                                  fmt::format(".env line {}: unexpected text after the quoted value of {}", lineno, key));
            }
        } else {
            size_t hash = v.find(" #");
            value = std::string(trim(v.substr(0, hash)));
        }
        env[key] = std::move(value);
    }
    return env;
}

Result<Environment> read_environment(const std::string& dotenv_path) {
    Environment env;
    std::ifstream in(dotenv_path, std::ios::binary);
    if (in) {
        std::stringstream ss;
        ss << in.rdbuf();
        auto parsed = parse_dotenv(ss.str());
        if (!parsed) return std::move(parsed).error();
        env = std::move(*parsed);
    }
    for (char** e = environ; e && *e; ++e) {
        std::string_view kv(*e);
        size_t eq = kv.find('=');
        if (eq == std::string_view::npos) continue;
        env[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
    }
    return env;
}

LoadedConfig load_config(const Environment& env, Purpose purpose) {
    LoadedConfig out;
    Config& c = out.config;
    auto& problems = out.problems;
    Reader r(env, problems);

    c.dev_mode = r.boolean("DEV_MODE", false);
    const bool identity_required = purpose == Purpose::serve && !c.dev_mode;

    c.site_url_set = r.raw("SITE_URL") != nullptr;
    std::string site_url = r.str("SITE_URL", c.site_url);
    if (auto u = normalise_base_url(site_url)) {
        c.site_url = *u;
    } else {
        problems.push_back(fmt::format(
            "SITE_URL: \"{}\" is not an absolute http(s) URL without query or fragment (e.g. https://example.com)",
            site_url));
    }
    c.site_name = r.str("SITE_NAME", c.site_name);
    c.site_author = r.str("SITE_AUTHOR", "");
    c.site_description = r.str("SITE_DESCRIPTION", "");
    c.site_author_photo = r.str("SITE_AUTHOR_PHOTO", "");
    if (!c.site_author_photo.empty() && !normalise_base_url(c.site_author_photo) &&
        !c.site_author_photo.starts_with("/")) {
        problems.push_back("SITE_AUTHOR_PHOTO: expected an http(s) URL or a path starting with /");
    }
    c.site_author_email = std::string(trim(r.str("SITE_AUTHOR_EMAIL", "")));
    if (!c.site_author_email.empty() && !looks_like_email(c.site_author_email)) {
        problems.push_back(fmt::format(
            "SITE_AUTHOR_EMAIL: \"{}\" is not an e-mail address (one @, no spaces, e.g. me@example.com)",
            c.site_author_email));
    }

    c.admin_me = r.str("ADMIN_ME", "");
    if (c.admin_me.empty()) {
        if (identity_required) problems.push_back("ADMIN_ME: required (the URL of the one identity that may log in, e.g. https://example.com/)");
    } else if (!normalise_base_url(c.admin_me)) {
        problems.push_back(fmt::format("ADMIN_ME: \"{}\" is not an http(s) URL", c.admin_me));
    }
    c.session_secret = r.str("SESSION_SECRET", "");
    if (c.session_secret.empty()) {
        if (identity_required) problems.push_back("SESSION_SECRET: required (a long random string, e.g. from `openssl rand -hex 32`)");
    } else if (c.session_secret.size() < 32) {
        out.warnings.push_back("SESSION_SECRET is shorter than 32 characters; use a longer random value");
    }
    c.session_lifetime_days = static_cast<int>(r.integer("SESSION_LIFETIME", 30, 1, 3650));
    c.indielogin_url = r.str("INDIELOGIN_URL", c.indielogin_url);
    if (auto u = normalise_base_url(c.indielogin_url)) {
        c.indielogin_url = *u;
    } else {
        problems.push_back(fmt::format("INDIELOGIN_URL: \"{}\" is not an http(s) URL", c.indielogin_url));
    }
    c.token_endpoint = r.str("TOKEN_ENDPOINT", "");
    if (!c.token_endpoint.empty() && !normalise_base_url(c.token_endpoint)) {
        problems.push_back(fmt::format("TOKEN_ENDPOINT: \"{}\" is not an http(s) URL", c.token_endpoint));
    }
    c.allow_http_endpoints = r.boolean("ALLOW_HTTP_ENDPOINTS", false);
    {
        const std::string admin_origin = origin_of(c.admin_me);
        const bool own_site = !admin_origin.empty() && admin_origin == origin_of(c.site_url);
        c.indieauth_server = r.boolean("INDIEAUTH_SERVER", own_site);
        if (c.indieauth_server && !own_site && purpose == Purpose::serve) {
            out.warnings.push_back(
                "INDIEAUTH_SERVER=true although ADMIN_ME is not on SITE_URL's origin: clients will find the "
                "authorization server through ADMIN_ME's page only if it links to this site's endpoints");
        }
        c.indieauth_token_lifetime_days = static_cast<int>(r.integer("INDIEAUTH_TOKEN_LIFETIME", 30, 1, 3650));
        c.indieauth_refresh_lifetime_days = static_cast<int>(r.integer("INDIEAUTH_REFRESH_LIFETIME", 90, 1, 3650));
    }

    c.data_path = r.str("DATA_PATH", c.data_path);
    while (c.data_path.size() > 1 && c.data_path.back() == '/') c.data_path.pop_back();
    c.notes_path = r.str("NOTES_PATH", c.data_path + "/notes");
    c.database_path = r.str("DATABASE_PATH", c.data_path + "/starpunk.db");

    c.host = r.str("HOST", c.host);
    if (!is_ip_address(c.host)) {
        problems.push_back(fmt::format(
            "HOST: \"{}\" is not an IP address to listen on (e.g. 127.0.0.1 behind a reverse proxy, 0.0.0.0 or :: "
            "for every interface); host names such as localhost are not looked up",
            c.host));
    }
    c.port = static_cast<uint16_t>(r.integer("PORT", 8000, 0, 65535));  // 0: any free port (tests)
    c.workers = static_cast<int>(r.integer("WORKERS", usable_cores(), 1, 256));
    c.max_content_length = r.bytes("MAX_CONTENT_LENGTH", c.max_content_length);
    c.max_note_bytes = r.bytes("MAX_NOTE_SIZE", c.max_note_bytes);
    c.max_upload_bytes = r.bytes("MAX_UPLOAD_SIZE", c.max_upload_bytes);
    c.page_cache_bytes = r.bytes("PAGE_CACHE_SIZE", c.page_cache_bytes, /*zero_ok=*/true);
    c.max_image_pixels =
        static_cast<std::uint64_t>(r.integer("MAX_IMAGE_PIXELS", static_cast<long long>(c.max_image_pixels), 1, 1'000'000'000));

    c.dev_admin_me = r.str("DEV_ADMIN_ME", c.admin_me.empty() ? c.site_url + "/" : c.admin_me);
    if (c.dev_mode) {
        auto parsed = boost::urls::parse_absolute_uri(c.site_url);
        if (c.site_is_https() && parsed && !is_loopback_host(parsed->host())) {
            problems.push_back(
                "DEV_MODE: refused because SITE_URL is a public https site; dev login would let anyone in. "
                "Unset DEV_MODE in production");
        }
        if (purpose == Purpose::serve) {
            out.warnings.push_back("DEV_MODE is on: /dev/login gives anyone an admin session. Never use it in production");
        }
    }

    c.log_level = [&] {
        std::string v = r.str("LOG_LEVEL", "INFO");
        std::string up;
        for (char ch : v) up.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(ch))));
        if (up == "WARN") up = "WARNING";
        if (up != "DEBUG" && up != "INFO" && up != "WARNING" && up != "ERROR" && up != "CRITICAL") {
            problems.push_back(fmt::format("LOG_LEVEL: \"{}\" is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL", v));
            return std::string("INFO");
        }
        return up;
    }();
    c.log_format = to_lower(r.str("LOG_FORMAT", "text"));
    if (c.log_format != "text" && c.log_format != "json") {
        problems.push_back(fmt::format("LOG_FORMAT: \"{}\" is not text or json", c.log_format));
        c.log_format = "text";
    }

    c.feed_max_items = static_cast<int>(r.integer("FEED_MAX_ITEMS", 50, 1, 1000));
    c.feed_cache_seconds = static_cast<int>(r.integer("FEED_CACHE_SECONDS", 300, 0, 86400 * 7));
    c.db_pool_size = static_cast<int>(r.integer("DB_POOL_SIZE", 5, 1, 100));
    c.db_timeout_seconds = r.real("DB_TIMEOUT", 10.0, 0.0, 600.0);

    c.outbound_workers = static_cast<int>(r.integer("OUTBOUND_WORKERS", std::max(1, c.workers / 2), 1, 256));
    const std::uint64_t fd_limit = open_files_limit();
    c.max_connections = static_cast<std::uint64_t>(r.integer(
        "MAX_CONNECTIONS", static_cast<long long>(default_max_connections(fd_limit, c.db_pool_size, c.workers)), 1,
        10'000'000));
    const std::uint64_t reserve = reserved_descriptors(c.db_pool_size, c.workers);
    if (purpose == Purpose::serve && fd_limit != std::numeric_limits<std::uint64_t>::max() &&
        c.max_connections + reserve > fd_limit) {
        out.warnings.push_back(fmt::format(
            "MAX_CONNECTIONS={} leaves too few of the {} open files allowed (ulimit -n) for the server's own "
            "use ({}): under load, new connections wait until descriptors are free",
            c.max_connections, fd_limit, reserve));
    }

    c.metrics_enabled = r.boolean("METRICS_ENABLED", true);
    c.metrics_buffer_size = static_cast<int>(r.integer("METRICS_BUFFER_SIZE", 1000, 1, 100000));
    if (const std::string* rate = r.raw("METRICS_SAMPLING_RATE")) {
        // Either one number for every type, or "type=rate,type=rate".
        std::string_view text = trim(*rate);
        auto bad = [&](std::string_view why) {
            problems.push_back(fmt::format(
                "METRICS_SAMPLING_RATE: {} (expected a number 0..1, or e.g. \"database=0.1,http=1.0,render=0.5\")",
                why));
        };
        if (text.find('=') == std::string_view::npos) {
            auto d = Reader::parse_real(text);
            if (!d || *d < 0 || *d > 1) {
                bad(fmt::format("\"{}\" is not a number between 0 and 1", text));
            } else {
                for (auto& [k, v] : c.metrics_sampling_rate) v = *d;
            }
        } else {
            while (!text.empty()) {
                size_t comma = text.find(',');
                std::string_view item = trim(text.substr(0, comma));
                text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
                size_t eq = item.find('=');
                std::string type(trim(item.substr(0, eq)));
                double rate_value = -1;
                if (eq != std::string_view::npos) {
                    rate_value = Reader::parse_real(trim(item.substr(eq + 1))).value_or(-1);
                }
                if (!c.metrics_sampling_rate.contains(type)) {
                    bad(fmt::format("unknown type \"{}\"", type));
                } else if (rate_value < 0 || rate_value > 1) {
                    bad(fmt::format("the rate for {} is not a number between 0 and 1", type));
                } else {
                    c.metrics_sampling_rate[type] = rate_value;
                }
            }
        }
    }
    c.metrics_slow_query_threshold = r.real("METRICS_SLOW_QUERY_THRESHOLD", 1.0, 0.0, 3600.0);
    c.metrics_prometheus = r.boolean("METRICS_PROMETHEUS", false);
    c.metrics_token = r.str("METRICS_TOKEN", "");

    c.search_enabled = r.boolean("SEARCH_ENABLED", true);
    c.search_force_fallback = r.boolean("SEARCH_FORCE_FALLBACK", false);
    return out;
}

std::string listen_url(std::string_view host, uint16_t port) {
    std::string shown(host);
    if (shown == "0.0.0.0" || shown == "::") {
        shown = "localhost";  // every interface: the address a browser on this machine uses
    } else if (shown.find(':') != std::string::npos) {
        shown = "[" + shown.substr(0, shown.find('%')) + "]";  // IPv6; a zone cannot appear in a URL
    }
    return fmt::format("http://{}:{}", shown, port);
}

std::vector<std::string> describe_config(const Config& c) {
    auto secret = [](const std::string& s) { return s.empty() ? std::string("(not set)") : std::string("(set)"); };
    std::string rates;
    for (const auto& [k, v] : c.metrics_sampling_rate) rates += fmt::format("{}{}={}", rates.empty() ? "" : ",", k, v);
    return {
        fmt::format("SITE_URL={}", c.site_url),
        fmt::format("SITE_NAME={}", c.site_name),
        fmt::format("SITE_AUTHOR_EMAIL={}", c.site_author_email),
        fmt::format("ADMIN_ME={}", c.admin_me),
        fmt::format("SESSION_SECRET={}", secret(c.session_secret)),
        fmt::format("SESSION_LIFETIME={}", c.session_lifetime_days),
        fmt::format("INDIELOGIN_URL={}", c.indielogin_url),
        fmt::format("TOKEN_ENDPOINT={}", c.token_endpoint),
        fmt::format("INDIEAUTH_SERVER={}", c.indieauth_server ? "true" : "false"),
        fmt::format("INDIEAUTH_TOKEN_LIFETIME={}", c.indieauth_token_lifetime_days),
        fmt::format("INDIEAUTH_REFRESH_LIFETIME={}", c.indieauth_refresh_lifetime_days),
        fmt::format("ALLOW_HTTP_ENDPOINTS={}", c.allow_http_endpoints),
        fmt::format("DATA_PATH={}", c.data_path),
        fmt::format("NOTES_PATH={}", c.notes_path),
        fmt::format("DATABASE_PATH={}", c.database_path),
        fmt::format("HOST={}", c.host),
        fmt::format("PORT={}", c.port),
        fmt::format("WORKERS={}", c.workers),
        fmt::format("MAX_CONTENT_LENGTH={}", c.max_content_length),
        fmt::format("MAX_NOTE_SIZE={}", c.max_note_bytes),
        fmt::format("MAX_UPLOAD_SIZE={}", c.max_upload_bytes),
        fmt::format("MAX_IMAGE_PIXELS={}", c.max_image_pixels),
        fmt::format("PAGE_CACHE_SIZE={}", c.page_cache_bytes),
        fmt::format("MAX_CONNECTIONS={}", c.max_connections),
        fmt::format("OUTBOUND_WORKERS={}", c.outbound_workers),
        fmt::format("DEV_MODE={}", c.dev_mode),
        fmt::format("LOG_LEVEL={}", c.log_level),
        fmt::format("LOG_FORMAT={}", c.log_format),
        fmt::format("FEED_MAX_ITEMS={}", c.feed_max_items),
        fmt::format("FEED_CACHE_SECONDS={}", c.feed_cache_seconds),
        fmt::format("DB_POOL_SIZE={}", c.db_pool_size),
        fmt::format("DB_TIMEOUT={}", c.db_timeout_seconds),
        fmt::format("METRICS_ENABLED={}", c.metrics_enabled),
        fmt::format("METRICS_BUFFER_SIZE={}", c.metrics_buffer_size),
        fmt::format("METRICS_SAMPLING_RATE={}", rates),
        fmt::format("METRICS_SLOW_QUERY_THRESHOLD={}", c.metrics_slow_query_threshold),
        fmt::format("METRICS_PROMETHEUS={}", c.metrics_prometheus),
        fmt::format("METRICS_TOKEN={}", secret(c.metrics_token)),
        fmt::format("SEARCH_ENABLED={}", c.search_enabled),
        fmt::format("SEARCH_FORCE_FALLBACK={}", c.search_force_fallback),
    };
}

}  // namespace starpunk::config
