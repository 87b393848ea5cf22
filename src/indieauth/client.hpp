// What the built-in IndieAuth server learns about a client (IndieAuth 2022-02
// §4.2, §4.2.2): its name and logo for the consent page, and the redirect
// URIs it declares.
//
// Invariants:
//   1. The client_id is fetched only through the net::HttpClient given — in
//      the server the SSRF-safe, coalescing outbound client (https only, public
//      addresses only unless ALLOW_HTTP_ENDPOINTS/DEV_MODE, 5 s, 1 MB).
//   2. A JSON answer is a client metadata document: it counts only when its
//      `client_id` equals the URL fetched; `client_name`, `logo_uri` and
//      `redirect_uris` are read from it. An HTML answer gives rel="redirect_uri"
//      links (Link header and <link> elements, resolved against the final URL)
//      and the name and logo of its h-app / h-x-app (auth::app_from_html).
//      A logo is only ever an absolute http(s) URL (javascript:, data: and
//      relative junk are dropped); the name is cut to 200 bytes.
//   3. redirect_uri is accepted when it has client_id's origin (scheme, host,
//      port), or when it is exactly one of the redirect URIs the fetched client
//      declared. A client that cannot be fetched declares nothing: only
//      same-origin redirect URIs work for it.
// Thread-safety: pure functions, apart from the HttpClient's own.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "net/http_client.hpp"
#include "util/result.hpp"

namespace starpunk::indieauth {

struct ClientInfo {
    std::string name;  // empty: show the client_id
    std::string logo;  // an absolute http(s) URL, or empty
    std::vector<std::string> redirect_uris;
};

// Fetches and reads `client_id` (invariants 1-2). io when it cannot be
// fetched or answers non-2xx; busy when the outbound limit is reached.
Result<ClientInfo> fetch_client(net::HttpClient& http, std::string_view client_id);

// Reads a fetched client page (invariant 2); pure.
ClientInfo read_client(std::string_view client_id, const net::HttpResponse& answer);

// Invariant 3: empty when allowed, else why not.
std::string redirect_uri_refusal(std::string_view client_id, std::string_view redirect_uri, const ClientInfo& client);

}  // namespace starpunk::indieauth
