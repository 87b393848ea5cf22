// Fuzzes the built-in IndieAuth server's authorization request parser
// (indieauth/authorization_request.hpp) on query strings. Besides "never
// crashes", checks on every input, with and without allow_http:
//   1. an accepted request satisfies every rule: client_id and redirect_uri
//      pass their own checks, state is non-empty and at most 1 KiB, the
//      challenge is valid PKCE text, code_challenge_method was S256, every
//      kept scope is supported and none repeats;
//   2. a refusal that redirects names the redirect_uri it was sent with, whose
//      own check passed; one that does not redirect carries a description;
//   3. allow_http never turns an accepted request into a refusal;
//   4. with_query() output parses back to the values put in.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "http/form.hpp"
#include "indieauth/authorization_request.hpp"
#include "indieauth/pkce.hpp"

using namespace starpunk;
using namespace starpunk::indieauth;

#define FUZZ_CHECK(cond)                                                                    \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            std::fprintf(stderr, "fuzz_authorization_request: check failed: %s\n", #cond); \
            std::abort();                                                                   \
        }                                                                                   \
    } while (0)

namespace {

void check(const http::FormData& fields, bool allow_http) {
    auto p = parse_authorization_request(fields, allow_http);
    if (p.request) {
        const auto& r = *p.request;
        FUZZ_CHECK(client_id_problem(r.client_id, allow_http).empty());
        FUZZ_CHECK(redirect_uri_problem(r.redirect_uri, allow_http).empty());
        FUZZ_CHECK(!r.state.empty() && r.state.size() <= 1024);
        FUZZ_CHECK(valid_code_challenge(r.code_challenge));
        FUZZ_CHECK(fields.get("code_challenge_method") == std::optional<std::string_view>("S256"));
        std::set<std::string> seen;
        for (const auto& s : r.scopes) {
            FUZZ_CHECK(supported_scope(s));
            FUZZ_CHECK(seen.insert(s).second);
        }
        if (!allow_http) {
            auto relaxed = parse_authorization_request(fields, true);
            FUZZ_CHECK(relaxed.request.has_value());
        }
        auto uri = with_query(r.redirect_uri, {{"state", r.state}, {"code", "c"}});
        auto q = http::parse_urlencoded(uri.substr(uri.find('?') + 1));
        if (q) {
            auto states = q->get_all("state");
            FUZZ_CHECK(!states.empty() && states.back() == r.state);
        }
    } else if (p.error.redirect) {
        FUZZ_CHECK(!p.redirect_uri.empty());
        FUZZ_CHECK(redirect_uri_problem(p.redirect_uri, allow_http).empty());
        FUZZ_CHECK(!p.error.error.empty() && !p.error.description.empty());
    } else {
        FUZZ_CHECK(!p.error.description.empty());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto fields = http::parse_urlencoded(text);
    if (!fields) return 0;
    check(*fields, false);
    check(*fields, true);
    return 0;
}
