// CurlHttpClient: libcurl easy handles, one per hop; redirects are followed here
// so every hop goes through check_url() and the open-socket address check.
#include "net/http_client.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <mutex>

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include "starpunk_version.hpp"
#include "util/url.hpp"
#include "util/strings.hpp"

namespace starpunk::net {

// ---------------------------------------------------------------------------
// Headers

void Headers::add(std::string name, std::string value) { entries_.emplace_back(std::move(name), std::move(value)); }

std::optional<std::string_view> Headers::get(std::string_view name) const {
    for (const auto& [n, v] : entries_)
        if (iequals(n, name)) return std::string_view(v);
    return std::nullopt;
}

std::vector<std::string_view> Headers::get_all(std::string_view name) const {
    std::vector<std::string_view> out;
    for (const auto& [n, v] : entries_)
        if (iequals(n, name)) out.emplace_back(v);
    return out;
}

// ---------------------------------------------------------------------------
// Address classification

namespace {

AddressClass classify_v4(uint32_t a) {  // host byte order
    auto in = [a](uint32_t net, int bits) { return bits == 0 || (a >> (32 - bits)) == (net >> (32 - bits)); };
    if (in(0x00000000, 8)) return AddressClass::unspecified;   // 0.0.0.0/8 "this network"
    if (in(0x7F000000, 8)) return AddressClass::loopback;      // 127/8
    if (in(0x0A000000, 8) || in(0xAC100000, 12) || in(0xC0A80000, 16) || in(0x64400000, 10))
        return AddressClass::private_use;                      // 10/8, 172.16/12, 192.168/16, 100.64/10
    if (in(0xA9FE0000, 16)) return AddressClass::link_local;   // 169.254/16
    if (in(0xE0000000, 4)) return AddressClass::multicast;     // 224/4
    if (in(0xF0000000, 4)) return AddressClass::reserved;      // 240/4 incl. broadcast
    if (in(0xC0000000, 24) || in(0xC0000200, 24) || in(0xC6120000, 15) || in(0xC6336400, 24) ||
        in(0xCB007100, 24) || in(0xC0586300, 24))
        return AddressClass::reserved;  // 192.0.0/24, TEST-NETs, 198.18/15 benchmarking, 6to4 relay anycast
    return AddressClass::global;
}

AddressClass classify_v6(const std::array<uint8_t, 16>& b) {
    auto zero = [&b](size_t from, size_t to) {
        for (size_t i = from; i < to; ++i)
            if (b[i] != 0) return false;
        return true;
    };
    auto v4_at = [&b](size_t i) {
        return (uint32_t{b[i]} << 24) | (uint32_t{b[i + 1]} << 16) | (uint32_t{b[i + 2]} << 8) | uint32_t{b[i + 3]};
    };
    if (zero(0, 15)) return b[15] == 0 ? AddressClass::unspecified : b[15] == 1 ? AddressClass::loopback
                                                                                 : AddressClass::reserved;
    if (zero(0, 10) && b[10] == 0xFF && b[11] == 0xFF) return classify_v4(v4_at(12));  // ::ffff:a.b.c.d
    if (zero(0, 12)) return classify_v4(v4_at(12));                                     // ::a.b.c.d (deprecated)
    if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B && zero(4, 12))
        return classify_v4(v4_at(12));                                                  // 64:ff9b::/96 NAT64
    if (b[0] == 0x20 && b[1] == 0x02) return classify_v4(v4_at(2));                     // 2002::/16 6to4
    if (b[0] == 0xFF) return AddressClass::multicast;                                   // ff00::/8
    if ((b[0] & 0xFE) == 0xFC) return AddressClass::unique_local;                       // fc00::/7
    if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) return AddressClass::link_local;         // fe80::/10
    if (b[0] == 0xFE && (b[1] & 0xC0) == 0xC0) return AddressClass::unique_local;       // fec0::/10 site-local
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8) return AddressClass::reserved;  // 2001:db8::/32
    if (b[0] == 0x01 && b[1] == 0x00 && zero(2, 8)) return AddressClass::reserved;      // 100::/64 discard
    if ((b[0] & 0xE0) != 0x20) return AddressClass::reserved;  // outside 2000::/3, the global unicast space
    return AddressClass::global;
}

std::string address_text(const sockaddr* address) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (address->sa_family == AF_INET) {
        sockaddr_in in{};
        std::memcpy(&in, address, sizeof in);
        ::inet_ntop(AF_INET, &in.sin_addr, buf, sizeof buf);
    } else if (address->sa_family == AF_INET6) {
        sockaddr_in6 in6{};
        std::memcpy(&in6, address, sizeof in6);
        ::inet_ntop(AF_INET6, &in6.sin6_addr, buf, sizeof buf);
    } else {
        return "(non-IP address)";
    }
    return buf;
}

}  // namespace

AddressClass classify_address(const sockaddr* address) {
    if (address == nullptr) return AddressClass::reserved;
    if (address->sa_family == AF_INET) {
        sockaddr_in in{};
        std::memcpy(&in, address, sizeof in);
        return classify_v4(ntohl(in.sin_addr.s_addr));
    }
    if (address->sa_family == AF_INET6) {
        sockaddr_in6 in6{};
        std::memcpy(&in6, address, sizeof in6);
        std::array<uint8_t, 16> bytes{};
        std::memcpy(bytes.data(), &in6.sin6_addr, 16);
        return classify_v6(bytes);
    }
    return AddressClass::reserved;
}

std::optional<AddressClass> classify_ip_literal(std::string_view text) {
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
    const std::string s(text);
    in_addr v4{};
    if (::inet_pton(AF_INET, s.c_str(), &v4) == 1) return classify_v4(ntohl(v4.s_addr));
    in6_addr v6{};
    if (::inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
        std::array<uint8_t, 16> bytes{};
        std::memcpy(bytes.data(), &v6, 16);
        return classify_v6(bytes);
    }
    return std::nullopt;
}

std::string_view describe(AddressClass c) {
    switch (c) {
        case AddressClass::global: return "public";
        case AddressClass::loopback: return "loopback";
        case AddressClass::private_use: return "private";
        case AddressClass::link_local: return "link-local";
        case AddressClass::unique_local: return "unique-local";
        case AddressClass::multicast: return "multicast";
        case AddressClass::unspecified: return "unspecified";
        case AddressClass::reserved: return "reserved";
    }
    return "reserved";
}

bool address_allowed(AddressClass c, bool allow_private_addresses) {
    switch (c) {
        case AddressClass::global: return true;
        case AddressClass::loopback:
        case AddressClass::private_use:
        case AddressClass::link_local:
        case AddressClass::unique_local: return allow_private_addresses;
        case AddressClass::multicast:
        case AddressClass::unspecified:
        case AddressClass::reserved: return false;
    }
    return false;
}

// ---------------------------------------------------------------------------
// URLs and encoding

std::string url_for_log(std::string_view url) {
    auto u = boost::urls::parse_uri(url);
    if (!u) return "(invalid URL)";
    std::string out = to_lower(u->scheme());
    out += "://";
    out += u->encoded_host_and_port();
    out += u->encoded_path();
    return out;
}

Status check_url(std::string_view url, const Policy& policy) {
    auto u = boost::urls::parse_uri(url);
    if (!u) return make_error(ErrorCode::io, "not an absolute URL");
    const std::string scheme = to_lower(u->scheme());
    if (scheme != "https" && scheme != "http")
        return make_error(ErrorCode::io, fmt::format("the {} scheme is not allowed (https only)", scheme));
    if (scheme == "http" && !policy.allow_http)
        return make_error(ErrorCode::io, "plain http is not allowed (https only; ALLOW_HTTP_ENDPOINTS permits it)");
    if (!u->has_authority() || u->encoded_host().empty()) return make_error(ErrorCode::io, "the URL has no host");
    if (u->has_userinfo()) return make_error(ErrorCode::io, "URLs with credentials are not allowed");
    if (u->host_type() == boost::urls::host_type::ipvfuture) return make_error(ErrorCode::io, "unsupported host");
    if (u->host_type() == boost::urls::host_type::ipv4 || u->host_type() == boost::urls::host_type::ipv6) {
        auto c = classify_ip_literal(u->encoded_host_address());
        if (c && !address_allowed(*c, policy.allow_private_addresses))
            return make_error(ErrorCode::io, fmt::format("refused to connect to {} address {}", describe(*c),
                                                         std::string_view(u->encoded_host_address())));
    }
    return {};
}

std::string form_urlencode(const Fields& fields) {
    std::string out;
    for (const auto& [name, value] : fields) {
        if (!out.empty()) out.push_back('&');
        auto enc = [&out](std::string_view s) {
            for (char ch : s) {
                if (ch == ' ') {
                    out.push_back('+');
                } else {
                    out += percent_encode(std::string_view(&ch, 1));
                }
            }
        };
        enc(name);
        out.push_back('=');
        enc(value);
    }
    return out;
}

const std::string& user_agent() {
    static const std::string ua = std::string("StarPunk/") + kVersion;
    return ua;
}

// ---------------------------------------------------------------------------
// CurlHttpClient

namespace {

const char* method_name(Method m) { return m == Method::post ? "POST" : "GET"; }

// curl_global_init once per process; its result for every later caller.
CURLcode global_init() {
    static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    return rc;
}

struct EasyDeleter {
    void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct SlistDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// State shared with curl's callbacks during one hop.
struct Transfer {
    const Policy* policy = nullptr;
    HttpResponse response;
    Fields fields;  // header fields of the latest response, moved into response.headers at the end
    size_t header_bytes = 0;
    bool body_too_large = false;
    bool headers_too_large = false;
    std::string refused;  // why the open-socket callback refused an address
};

size_t on_body(char* data, size_t size, size_t count, void* userdata) {
    auto* t = static_cast<Transfer*>(userdata);
    const size_t n = size * count;
    if (t->response.body.size() + n > t->policy->max_body_bytes) {
        t->body_too_large = true;
        return 0;  // CURLE_WRITE_ERROR
    }
    t->response.body.append(data, n);
    return n;
}

size_t on_header(char* data, size_t size, size_t count, void* userdata) {
    auto* t = static_cast<Transfer*>(userdata);
    const size_t n = size * count;
    t->header_bytes += n;
    if (t->header_bytes > t->policy->max_header_bytes) {
        t->headers_too_large = true;
        return 0;
    }
    std::string_view line(data, n);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (line.starts_with("HTTP/")) {  // a new response (after 1xx): start over
        t->fields.clear();
        return n;
    }
    if (line.empty()) return n;
    if (line.front() == ' ' || line.front() == '\t') {  // obsolete line folding
        if (!t->fields.empty()) {
            t->fields.back().second += ' ';
            t->fields.back().second += trim(line);
        }
        return n;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return n;  // not a field: ignore
    t->fields.emplace_back(std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
    return n;
}

curl_socket_t on_open_socket(void* clientp, curlsocktype purpose, curl_sockaddr* address) {
    auto* t = static_cast<Transfer*>(clientp);
    if (purpose != CURLSOCKTYPE_IPCXN || address == nullptr) return CURL_SOCKET_BAD;
    const AddressClass c = classify_address(&address->addr);
    if (!address_allowed(c, t->policy->allow_private_addresses)) {
        t->refused = fmt::format("refused to connect to {} address {}", describe(c), address_text(&address->addr));
        return CURL_SOCKET_BAD;
    }
    const int fd = ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    return fd < 0 ? CURL_SOCKET_BAD : fd;
}

bool has_line_break(std::string_view s) { return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos; }

bool is_redirect(int status) { return status == 301 || status == 302 || status == 303 || status == 307 || status == 308; }

std::optional<std::string> resolve_location(std::string_view base, std::string_view location) {
    auto b = boost::urls::parse_uri(base);
    auto r = boost::urls::parse_uri_reference(trim(location));
    if (!b || !r) return std::nullopt;
    boost::urls::url dest;
    if (!boost::urls::resolve(*b, *r, dest)) return std::nullopt;
    dest.remove_fragment();
    return std::string(dest.buffer());
}

// Removes every occurrence of `secret` from `text` (curl's error buffer could
// echo part of a URL).
std::string scrub(std::string text, std::string_view secret) {
    if (secret.empty()) return text;
    for (size_t at; (at = text.find(secret)) != std::string::npos;) text.replace(at, secret.size(), "…");
    return text;
}

struct Hop {
    Method method;
    const std::string& url;
    const Fields& headers;
    const std::string* body;  // POST body, or nullptr
};

Result<HttpResponse> perform(const Policy& policy, const Hop& hop, std::chrono::milliseconds remaining) {
    const std::string where = fmt::format("{} {}", method_name(hop.method), url_for_log(hop.url));
    std::unique_ptr<CURL, EasyDeleter> easy(curl_easy_init());
    if (!easy) return make_error(ErrorCode::io, where + ": could not create a curl handle");
    CURL* h = easy.get();

    std::unique_ptr<curl_slist, SlistDeleter> list;
    auto append = [&list](const std::string& line) {
        curl_slist* next = curl_slist_append(list.get(), line.c_str());
        if (next == nullptr) return false;
        (void)list.release();
        list.reset(next);
        return true;
    };
    for (const auto& [name, value] : hop.headers) {
        if (!append(name + ": " + value)) return make_error(ErrorCode::io, where + ": out of memory");
    }
    if (hop.body != nullptr) {
        if (!append("Content-Type: application/x-www-form-urlencoded") || !append("Expect:"))
            return make_error(ErrorCode::io, where + ": out of memory");
    }

    Transfer t;
    t.policy = &policy;
    char errbuf[CURL_ERROR_SIZE] = {};
    const long timeout_ms = std::max<long>(1, static_cast<long>(remaining.count()));

    bool ok = true;
    auto set = [&ok](CURLcode rc) { ok = ok && rc == CURLE_OK; };
    set(curl_easy_setopt(h, CURLOPT_URL, hop.url.c_str()));
    set(curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https"));
    set(curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"));
    set(curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L));
    set(curl_easy_setopt(h, CURLOPT_PROXY, ""));  // ignore *_proxy environment variables
    set(curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L));
    set(curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms));
    set(curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms));
    set(curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(policy.max_body_bytes)));
    set(curl_easy_setopt(h, CURLOPT_USERAGENT, user_agent().c_str()));
    set(curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf));
    set(curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_body));
    set(curl_easy_setopt(h, CURLOPT_WRITEDATA, &t));
    set(curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header));
    set(curl_easy_setopt(h, CURLOPT_HEADERDATA, &t));
    set(curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, &on_open_socket));
    set(curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &t));
    set(curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L));
    set(curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L));
    if (list) set(curl_easy_setopt(h, CURLOPT_HTTPHEADER, list.get()));
    if (hop.body != nullptr) {
        set(curl_easy_setopt(h, CURLOPT_POST, 1L));
        set(curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(hop.body->size())));
        set(curl_easy_setopt(h, CURLOPT_POSTFIELDS, hop.body->c_str()));
    } else if (hop.method == Method::post) {
        set(curl_easy_setopt(h, CURLOPT_POST, 1L));
        set(curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t{0}));
        set(curl_easy_setopt(h, CURLOPT_POSTFIELDS, ""));
    } else {
        set(curl_easy_setopt(h, CURLOPT_HTTPGET, 1L));
    }
    if (!ok) return make_error(ErrorCode::io, where + ": this libcurl lacks a required option");

    const CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        std::string reason;
        if (t.body_too_large || rc == CURLE_FILESIZE_EXCEEDED) {
            reason = fmt::format("the response is larger than {} bytes", policy.max_body_bytes);
        } else if (t.headers_too_large) {
            reason = fmt::format("the response headers are larger than {} bytes", policy.max_header_bytes);
        } else if (!t.refused.empty()) {
            reason = t.refused + " (outbound requests go to public addresses only; ALLOW_HTTP_ENDPOINTS permits "
                                 "loopback and private ones)";
        } else if (rc == CURLE_OPERATION_TIMEDOUT) {
            reason = "timed out";
        } else {
            auto u = boost::urls::parse_uri(hop.url);
            std::string_view query = u ? std::string_view(u->encoded_query()) : std::string_view();
            reason = scrub(errbuf[0] != '\0' ? std::string(errbuf) : std::string(curl_easy_strerror(rc)), query);
        }
        return make_error(ErrorCode::io, where + ": " + reason);
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    t.response.status = static_cast<int>(status);
    t.response.final_url = hop.url;
    for (auto& [name, value] : t.fields) t.response.headers.add(std::move(name), std::move(value));
    return std::move(t.response);
}

}  // namespace

CurlHttpClient::CurlHttpClient(Policy policy) : policy_(policy) { (void)global_init(); }

Result<HttpResponse> CurlHttpClient::fetch(const HttpRequest& request) {
    if (global_init() != CURLE_OK) return make_error(ErrorCode::io, "libcurl could not be initialised");
    for (const auto& [name, value] : request.headers) {
        if (name.empty() || has_line_break(name) || has_line_break(value) || name.find(':') != std::string::npos)
            return make_error(ErrorCode::invalid_input, "a request header contains a line break or bad name");
    }
    const auto deadline = std::chrono::steady_clock::now() + policy_.timeout;
    Method method = request.method;
    std::string url = request.url;
    Fields headers = request.headers;
    std::string body;
    bool with_body = method == Method::post;
    if (with_body) body = form_urlencode(request.form);

    for (int redirects = 0;; ++redirects) {
        if (auto st = check_url(url, policy_); !st)
            return make_error(ErrorCode::io,
                              fmt::format("{} {}: {}", method_name(method), url_for_log(url), st.error().message));
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            return make_error(ErrorCode::io, fmt::format("{} {}: timed out", method_name(method), url_for_log(url)));

        auto r = perform(policy_, Hop{method, url, headers, with_body ? &body : nullptr}, left);
        if (!r) return r;
        auto location = r->headers.get("Location");
        if (!is_redirect(r->status) || !location) return r;

        if (redirects >= policy_.max_redirects)
            return make_error(ErrorCode::io, fmt::format("{} {}: too many redirects (more than {})", method_name(method),
                                                         url_for_log(request.url), policy_.max_redirects));
        auto next = resolve_location(url, *location);
        if (!next)
            return make_error(ErrorCode::io,
                              fmt::format("{} {}: invalid redirect location", method_name(method), url_for_log(url)));
        if (r->status == 303 || (method == Method::post && (r->status == 301 || r->status == 302))) {
            method = Method::get;
            with_body = false;
        }
        if (origin_of(*next) != origin_of(url)) {
            std::erase_if(headers, [](const auto& f) { return iequals(f.first, "Authorization") || iequals(f.first, "Cookie"); });
        }
        url = std::move(*next);
    }
}

}  // namespace starpunk::net
