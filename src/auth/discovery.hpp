// IndieAuth endpoint discovery (SPEC §4.1 step 2, §5.1): which authorization
// endpoint, token endpoint and issuer speak for a profile URL.
//
// Precedence (IndieAuth, 2022-02 edition):
//   1. rel="indieauth-metadata": HTTP Link header, else HTML <link>; the
//      metadata JSON gives authorization_endpoint, token_endpoint and issuer.
//   2. Otherwise (or when the metadata cannot be fetched or is unusable) the
//      legacy rel="authorization_endpoint" / rel="token_endpoint": Link header,
//      else HTML <link>. No issuer is known then.
// Relative URLs resolve against the profile's final URL after redirects (HTML:
// against its first <base href>, itself resolved first). Only absolute http(s)
// URLs are kept; whether http is acceptable is the caller's policy (the
// HttpClient refuses it anyway unless outbound http is allowed).
//
// Everything here is thread-safe; the parsers are pure.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/http_client.hpp"
#include "util/clock.hpp"
#include "util/result.hpp"

namespace starpunk::auth {

// One link-value of an RFC 8288 Link header field.
struct LinkValue {
    std::string target;             // the URI-Reference between < and >, unresolved
    std::vector<std::string> rels;  // relation types from the first rel param, lower-cased
    bool has_anchor = false;        // an anchor param: the link is about another resource
};

// Parses a Link header field value (comma-separated link-values; params with
// token or quoted-string values; commas inside <…> or quotes do not split).
// Malformed link-values are skipped, never fatal. At most kMaxLinks results.
inline constexpr size_t kMaxLinks = 64;
std::vector<LinkValue> parse_link_header(std::string_view value);

// RFC 3986 reference resolution; nullopt unless the result is an absolute
// http(s) URL with a host. The scheme is lower-cased, the fragment dropped.
std::optional<std::string> resolve_url(std::string_view base, std::string_view reference);

// The rels discovery cares about, already resolved (empty = not found).
struct ProfileLinks {
    std::string metadata;
    std::string authorization_endpoint;
    std::string token_endpoint;
    // rel="redirect_uri", every one (an IndieAuth client's page lists the
    // redirect URIs it uses on other origins).
    std::vector<std::string> redirect_uris;
};
// From every Link header field of a response (links with an anchor are ignored).
ProfileLinks links_from_headers(const net::Headers& headers, std::string_view base_url);
// From the <link> elements of an HTML document (gumbo).
ProfileLinks links_from_html(std::string_view html, std::string_view base_url);

// An IndieAuth client's h-app (or legacy h-x-app) microformat: the first
// element whose class list has either; inside it (not inside a nested h-*
// item) the first p-name (text, or an <img>'s alt) and u-logo (an <img>'s src,
// else href; resolved against <base>/`base_url`; only an absolute http(s)
// URL). Without a p-name the name is the h-app element's own text. Whitespace
// runs collapse to one space; empty strings mean "not given".
struct AppInfo {
    std::string name;
    std::string logo;
};
AppInfo app_from_html(std::string_view html, std::string_view base_url);

struct Endpoints {
    std::string authorization_endpoint;  // never empty in a successful discovery
    std::string token_endpoint;          // may be empty
    std::string issuer;                  // from metadata; empty when unknown
    std::string metadata_url;            // empty for legacy discovery
    bool operator==(const Endpoints&) const = default;
};

// Reads an IndieAuth server metadata document fetched from `metadata_url`.
// io when it is not a JSON object, lacks a usable authorization_endpoint, or
// has an issuer that is not an http(s) URL without query or fragment.
Result<Endpoints> parse_metadata(std::string_view json, std::string_view metadata_url);

// Fetches `profile_url` (and the metadata document if one is advertised).
// io: the profile could not be fetched or did not answer 2xx, or only a broken
// metadata document was advertised; not_found: reachable, but it names no
// authorization endpoint; busy: the client refused a request because of its
// outbound limit (net::CoalescingHttpClient), so nothing is known yet.
// Messages carry no query strings.
Result<Endpoints> discover_endpoints(net::HttpClient& http, std::string_view profile_url);

// discover_endpoints() behind a cache: successful discoveries are kept for
// `ttl` (an hour) per profile URL; failures are not cached. Thread-safe; a
// miss discovers without holding the lock. Concurrent misses for one profile
// share each request when `http` coalesces identical GETs, as the server's
// net::CoalescingHttpClient does.
class EndpointCache {
public:
    explicit EndpointCache(const Clock& clock, std::chrono::seconds ttl = std::chrono::hours(1));

    Result<Endpoints> get(net::HttpClient& http, std::string_view profile_url);
    // The cached value if present and fresh; never fetches.
    std::optional<Endpoints> peek(std::string_view profile_url) const;
    void put(std::string_view profile_url, Endpoints endpoints);
    void clear();

private:
    struct Entry {
        Endpoints endpoints;
        Timestamp expires;
    };
    static constexpr size_t kMaxEntries = 32;
    const Clock& clock_;
    std::chrono::seconds ttl_;
    mutable std::mutex mutex_;
    std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace starpunk::auth
