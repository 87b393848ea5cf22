// Fuzzes the RFC 8288 Link header parser and link resolution used by IndieAuth
// discovery (auth/discovery.hpp).
// Input: the whole input is one Link header field value.
// Checks: at most kMaxLinks results; every rel is non-empty, lower-case and
// free of separators; writing the parsed links back out (<target>; rel="…")
// and parsing that again gives the same links; links_from_headers only ever
// yields absolute http(s) URLs.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/discovery.hpp"

using namespace starpunk::auth;

#define FUZZ_CHECK(cond)                                                          \
    do {                                                                          \
        if (!(cond)) {                                                            \
            std::fprintf(stderr, "fuzz_link_header: check failed: %s\n", #cond);  \
            std::abort();                                                         \
        }                                                                         \
    } while (0)

namespace {

std::string quoted(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    out.push_back('"');
    return out;
}

std::string serialize(const std::vector<LinkValue>& links) {
    std::string out;
    for (const auto& l : links) {
        if (!out.empty()) out += ", ";
        out += "<" + l.target + ">";
        if (!l.rels.empty()) {
            std::string rels;
            for (const auto& r : l.rels) rels += (rels.empty() ? "" : " ") + r;
            out += "; rel=" + quoted(rels);
        }
        if (l.has_anchor) out += "; anchor=\"#\"";
    }
    return out;
}

bool is_http_url(const std::string& s) { return s.rfind("https://", 0) == 0 || s.rfind("http://", 0) == 0; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto links = parse_link_header(text);
    FUZZ_CHECK(links.size() <= kMaxLinks);
    for (const auto& l : links) {
        FUZZ_CHECK(l.target.find('>') == std::string::npos);
        for (const auto& r : l.rels) {
            FUZZ_CHECK(!r.empty());
            FUZZ_CHECK(r.find_first_of(" \t\r\n\f") == std::string::npos);
            for (char c : r) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
        }
    }

    const auto again = parse_link_header(serialize(links));
    FUZZ_CHECK(again.size() == links.size());
    for (size_t i = 0; i < links.size(); ++i) {
        FUZZ_CHECK(again[i].target == links[i].target);
        FUZZ_CHECK(again[i].rels == links[i].rels);
        FUZZ_CHECK(again[i].has_anchor == links[i].has_anchor);
    }

    starpunk::net::Headers headers;
    headers.add("Link", std::string(text));
    const auto found = links_from_headers(headers, "https://me.example/a/b?c=d");
    for (const std::string* s : {&found.metadata, &found.authorization_endpoint, &found.token_endpoint}) {
        FUZZ_CHECK(s->empty() || is_http_url(*s));
        FUZZ_CHECK(s->find('#') == std::string::npos);
    }
    return 0;
}
