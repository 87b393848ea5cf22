// Outbound HTTP (SPEC §4.1): the one way StarPunk talks to other servers
// (IndieAuth discovery, authorization and token endpoints).
//
// HttpClient is an interface so tests can inject a fake; CurlHttpClient is the
// real one, on libcurl. Its policy, enforced on every hop of a redirect chain:
//   1. Scheme https only (http too with Policy::allow_http); no userinfo in URLs;
//      curl itself is restricted to the http and https protocols.
//   2. The address actually connected to (after DNS, checked in curl's
//      open-socket callback, so DNS rebinding cannot slip past) must be a global
//      unicast address: never loopback, private (RFC 1918, CGNAT), link-local,
//      unique-local, multicast, unspecified or reserved, IPv4 or IPv6, including
//      IPv4 embedded in IPv6 (mapped, compatible, NAT64, 6to4). With
//      Policy::allow_private_addresses, loopback/private/link-local/unique-local
//      are allowed; multicast, unspecified and reserved never are.
//   3. One total deadline (Policy::timeout, 5 s) for the whole chain.
//   4. At most Policy::max_redirects redirects (5), followed by this code, not
//      curl, so each hop is re-checked; Authorization and Cookie headers are
//      dropped when a redirect leaves the origin; 303 (and 301/302 after a POST)
//      turn into GET without a body.
//   5. Bodies above Policy::max_body_bytes (1 MB) abort the transfer.
//   6. Environment proxies are ignored (a proxy would hide the real address).
// Non-2xx answers are responses, not errors. Errors are ErrorCode::io (network,
// policy, limits) or ErrorCode::invalid_input (a malformed request), with a
// message that names the method and the URL without its query string, so no
// token or code ever reaches a message.
//
// Thread-safety: fetch() may be called concurrently on one CurlHttpClient (each
// call uses its own curl handles; curl_global_init runs once).
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.hpp"

struct sockaddr;

namespace starpunk::net {

enum class Method { get, post };

using Fields = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
    Method method = Method::get;
    std::string url;
    Fields headers;  // name, value; CR/LF/NUL in either -> invalid_input
    Fields form;     // POST only: sent as application/x-www-form-urlencoded
};

// Response header fields in arrival order; names compare case-insensitively.
// Repeated fields (several Link headers) are all kept.
class Headers {
public:
    void add(std::string name, std::string value);
    // The first field called `name`.
    std::optional<std::string_view> get(std::string_view name) const;
    // Every field called `name`, in order.
    std::vector<std::string_view> get_all(std::string_view name) const;
    const Fields& entries() const { return entries_; }
    bool empty() const { return entries_.empty(); }
    void clear() { entries_.clear(); }

private:
    Fields entries_;
};

struct HttpResponse {
    int status = 0;
    Headers headers;        // of the final response
    std::string body;
    std::string final_url;  // after redirects
};

class HttpClient {
public:
    virtual ~HttpClient() = default;
    // Performs the request, following redirects. See the policy above.
    virtual Result<HttpResponse> fetch(const HttpRequest& request) = 0;
};

struct Policy {
    bool allow_http = false;               // http:// URLs
    bool allow_private_addresses = false;  // loopback, private, link-local, unique-local
    std::chrono::milliseconds timeout{5000};
    int max_redirects = 5;
    std::size_t max_body_bytes = 1024 * 1024;
    std::size_t max_header_bytes = 64 * 1024;

    // The production policy: `allow_insecure` is config::Config::outbound_http_allowed()
    // (ALLOW_HTTP_ENDPOINTS or DEV_MODE) and permits both http and private addresses.
    static Policy outbound(bool allow_insecure) {
        Policy p;
        p.allow_http = allow_insecure;
        p.allow_private_addresses = allow_insecure;
        return p;
    }
};

class CurlHttpClient final : public HttpClient {
public:
    explicit CurlHttpClient(Policy policy = {});
    Result<HttpResponse> fetch(const HttpRequest& request) override;
    const Policy& policy() const { return policy_; }

private:
    Policy policy_;
};

// ---- Policy pieces, exposed for tests and for callers that validate early ----

enum class AddressClass {
    global,        // ordinary public unicast
    loopback,      // 127/8, ::1
    private_use,   // 10/8, 172.16/12, 192.168/16, 100.64/10 (CGNAT)
    link_local,    // 169.254/16, fe80::/10
    unique_local,  // fc00::/7 (and deprecated site-local fec0::/10)
    multicast,     // 224/4, ff00::/8
    unspecified,   // 0.0.0.0/8, ::
    reserved,      // documentation, benchmarking, 240/4, broadcast, discard, other families
};

// Classifies an AF_INET/AF_INET6 socket address (IPv4 embedded in IPv6 by its
// IPv4 part). Any other family is `reserved`.
AddressClass classify_address(const sockaddr* address);
// The same for a textual IP literal ("10.0.0.1", "::1", "[::1]"); nullopt when
// `text` is not one.
std::optional<AddressClass> classify_ip_literal(std::string_view text);
// "loopback", "private", "link-local", … (for messages).
std::string_view describe(AddressClass c);
// May a connection go to an address of this class?
bool address_allowed(AddressClass c, bool allow_private_addresses);

// An absolute http(s) URL with a host and no userinfo, and https unless
// `allow_http`. Also refuses literal IP hosts of a forbidden class early
// (the connect-time check is the authoritative one). io with a reason.
Status check_url(std::string_view url, const Policy& policy);

// application/x-www-form-urlencoded: unreserved bytes as is, space as '+',
// everything else %XX.
std::string form_urlencode(const Fields& fields);
// Percent-encoding of one value: starpunk::percent_encode (util/strings.hpp).

// "scheme://host[:port]/path" — no userinfo, query or fragment: safe for logs
// and messages. Unparseable input gives "(invalid URL)".
std::string url_for_log(std::string_view url);

// "StarPunk/<version>".
const std::string& user_agent();

}  // namespace starpunk::net
