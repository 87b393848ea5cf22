// Fuzzes the feed text paths (feeds/escape.hpp, feeds/writers.hpp) and the
// Accept negotiation for /feed (feeds/negotiate.hpp).
// Input: the whole input is at once an Accept header value and the text of an
// item (title and HTML body).
// Checks: negotiation gives the same answer twice and RSS when the input has
// no '/'; escaped text is valid UTF-8 without '<', '>', '"' or characters XML
// 1.0 forbids; the input adds no markup to an RSS or Atom document (same
// number of '<' as with empty text); a JSON Feed item parses back to the same
// title as the XML escaper keeps.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "feeds/escape.hpp"
#include "feeds/negotiate.hpp"
#include "feeds/writers.hpp"
#include "util/strings.hpp"

using namespace starpunk;
using namespace starpunk::feeds;

#define FUZZ_CHECK(cond)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            std::fprintf(stderr, "fuzz_feed: check failed: %s\n", #cond);    \
            std::abort();                                                    \
        }                                                                    \
    } while (0)

namespace {

std::string document(Format f, std::string_view text) {
    Channel c;
    c.title = "t";
    c.home_url = "https://x.example/";
    c.feed_url = "https://x.example/feed";
    Item item;
    item.url = "https://x.example/note/a";
    item.title = text;
    item.html = text;
    std::string out;
    write_head(f, c, out);
    write_item(f, item, 0, out);
    write_tail(f, out);
    return out;
}

size_t count(std::string_view s, char c) {
    size_t n = 0;
    for (char x : s) n += x == c;
    return n;
}

// What an XML parser gives back for append_xml_escaped's output.
std::string unescape(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size();) {
        if (s[i] != '&') {
            out.push_back(s[i++]);
            continue;
        }
        size_t semi = s.find(';', i);
        FUZZ_CHECK(semi != std::string_view::npos);
        std::string_view e = s.substr(i, semi - i + 1);
        if (e == "&amp;") out.push_back('&');
        else if (e == "&lt;") out.push_back('<');
        else if (e == "&gt;") out.push_back('>');
        else if (e == "&quot;") out.push_back('"');
        else if (e == "&#39;") out.push_back('\'');
        else if (e == "&#13;") out.push_back('\r');
        else FUZZ_CHECK(false && "unknown entity");
        i = semi + 1;
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    auto chosen = negotiate_format(text);
    FUZZ_CHECK(chosen == negotiate_format(text));
    if (text.find('/') == std::string_view::npos) FUZZ_CHECK(chosen == Format::rss);

    const std::string escaped = xml_escape(text);
    FUZZ_CHECK(is_valid_utf8(escaped));
    FUZZ_CHECK(escaped.find_first_of("<>\"") == std::string::npos);
    for (unsigned char c : escaped) FUZZ_CHECK(c >= 0x20 || c == '\t' || c == '\n');
    FUZZ_CHECK(escaped.find("\xEF\xBF\xBE") == std::string::npos && escaped.find("\xEF\xBF\xBF") == std::string::npos);

    for (Format f : {Format::rss, Format::atom}) {
        FUZZ_CHECK(count(document(f, text), '<') == count(document(f, ""), '<'));
    }
    auto json = nlohmann::json::parse(document(Format::json, text), nullptr, false);
    FUZZ_CHECK(!json.is_discarded());
    FUZZ_CHECK(json["items"][0]["title"].get<std::string>() == unescape(escaped));
    FUZZ_CHECK(json["items"][0]["content_html"] == json["items"][0]["title"]);
    return 0;
}
