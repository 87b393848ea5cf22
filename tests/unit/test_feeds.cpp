// Feeds (SPEC §6): escaping, the three writers and OPML, Accept negotiation,
// the feed service (source, ETag, streaming in bounded chunks) and the routes'
// headers. Real feed readers judge the output in tests/e2e/test_feeds.py.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <deque>
#include <string>
#include <vector>

#include "feeds/escape.hpp"
#include "feeds/feed_service.hpp"
#include "feeds/negotiate.hpp"
#include "feeds/writers.hpp"
#include "notes/note_renderer.hpp"
#include "render/engine.hpp"
#include "storage/fs.hpp"
#include "support/notes_harness.hpp"
#include "support/site_harness.hpp"
#include "util/strings.hpp"
#include "web/feed_response.hpp"
#include "web/handlers/handlers.hpp"

namespace starpunk::feeds {
namespace {

using namespace std::chrono_literals;

size_t count(std::string_view haystack, std::string_view needle) {
    size_t n = 0;
    for (size_t pos = haystack.find(needle); pos != std::string_view::npos; pos = haystack.find(needle, pos + 1)) ++n;
    return n;
}

// Undoes append_xml_escaped (the five entities and &#13;) — what an XML parser does.
std::string xml_unescape(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size();) {
        if (s[i] != '&') {
            out.push_back(s[i++]);
            continue;
        }
        size_t semi = s.find(';', i);
        std::string_view entity = s.substr(i, semi - i + 1);
        if (entity == "&amp;") out.push_back('&');
        else if (entity == "&lt;") out.push_back('<');
        else if (entity == "&gt;") out.push_back('>');
        else if (entity == "&quot;") out.push_back('"');
        else if (entity == "&#39;") out.push_back('\'');
        else if (entity == "&#13;") out.push_back('\r');
        else ADD_FAILURE() << "unexpected entity " << entity;
        i = semi + 1;
    }
    return out;
}

bool xml_forbidden(char32_t cp) {
    return (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0xFFFE || cp == 0xFFFF;
}

// ------------------------------------------------------------------ escaping

TEST(FeedEscape, MarkupCharactersBecomeEntities) {
    EXPECT_EQ(xml_escape("Tom & Jerry <3 \"quoted\" 'single'"),
              "Tom &amp; Jerry &lt;3 &quot;quoted&quot; &#39;single&#39;");
    EXPECT_EQ(xml_escape("plain text"), "plain text");
    EXPECT_EQ(xml_escape(""), "");
}

TEST(FeedEscape, CdataTerminatorCannotSurvive) {
    EXPECT_EQ(xml_escape("a ]]> b"), "a ]]&gt; b");
    EXPECT_EQ(xml_escape("]]>]]>"), "]]&gt;]]&gt;");
    EXPECT_EQ(xml_escape("<![CDATA[x]]>").find("]]>"), std::string::npos);
}

TEST(FeedEscape, ControlCharactersIllegalInXmlAreDropped) {
    std::string all;
    for (int c = 0; c < 0x20; ++c) all.push_back(static_cast<char>(c));
    EXPECT_EQ(xml_escape(all), "\t\n&#13;");
    EXPECT_EQ(xml_escape(std::string("a\0b", 3)), "ab");
    EXPECT_EQ(xml_escape("x\x0By\x0Cz\x1F"), "xyz");
    EXPECT_EQ(xml_escape("\xEF\xBF\xBE|\xEF\xBF\xBF"), "|");  // U+FFFE, U+FFFF
    EXPECT_EQ(xml_escape("\x7F\xC2\x85"), "\x7F\xC2\x85");    // DEL and C1 controls are legal XML 1.0
}

TEST(FeedEscape, InvalidUtf8BecomesReplacementCharacters) {
    const std::string fffd = "\xEF\xBF\xBD";
    EXPECT_EQ(xml_escape("a\xFF" "b"), "a" + fffd + "b");
    EXPECT_EQ(xml_escape("\xC0\xAF"), fffd + fffd);            // overlong '/'
    EXPECT_EQ(xml_escape("\xED\xA0\x80"), fffd + fffd + fffd);  // surrogate U+D800
    EXPECT_EQ(xml_escape("trunc\xE2\x82"), "trunc" + fffd + fffd);
    EXPECT_EQ(xml_escape("€ 😀 ü"), "€ 😀 ü");
}

TEST(FeedEscape, JsonStrings) {
    auto json = [](std::string_view s) {
        std::string out;
        append_json_string(out, s);
        return out;
    };
    EXPECT_EQ(json("a \"b\" \\ c"), R"("a \"b\" \\ c")");
    EXPECT_EQ(json("line\nnext\r\ttab"), R"("line\nnext\r\ttab")");
    EXPECT_EQ(json(std::string("x\0\x01\x1Fy", 5)), R"("xy")");
    EXPECT_EQ(json("\xE2\x80\xA8\xE2\x80\xA9"), R"("\u2028\u2029")");
    EXPECT_EQ(json("<p>&amp;</p>"), R"("<p>&amp;</p>")");  // HTML stays HTML
    EXPECT_EQ(json("\xFF"), "\"\xEF\xBF\xBD\"");
}

// Any bytes: the output is valid UTF-8 with no XML-illegal character, no '<',
// every '&' starts an entity, and unescaping gives the input minus what the
// policy drops (or replaces).
RC_GTEST_PROP(FeedEscapeProperty, XmlOutputIsWellFormedTextForAnyBytes, (const std::string& input)) {
    std::string out = xml_escape(input);
    RC_ASSERT(is_valid_utf8(out));
    RC_ASSERT(out.find('<') == std::string::npos);
    RC_ASSERT(out.find('>') == std::string::npos);
    RC_ASSERT(out.find('"') == std::string::npos);
    for (unsigned char c : out) RC_ASSERT(!(c < 0x20 && c != '\t' && c != '\n'));
    RC_ASSERT(out.find("\xEF\xBF\xBE") == std::string::npos);
    RC_ASSERT(out.find("\xEF\xBF\xBF") == std::string::npos);
    if (is_valid_utf8(input)) {
        std::string expected;
        for (size_t i = 0; i < input.size();) {  // drop the forbidden code points
            auto c = static_cast<unsigned char>(input[i]);
            size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
            char32_t cp = c;
            if (len == 3) {
                cp = ((c & 0x0Fu) << 12) | ((static_cast<unsigned char>(input[i + 1]) & 0x3Fu) << 6) |
                     (static_cast<unsigned char>(input[i + 2]) & 0x3Fu);
            }
            if (!(len == 1 && xml_forbidden(cp)) && !(len == 3 && xml_forbidden(cp))) expected.append(input, i, len);
            i += len;
        }
        RC_ASSERT(xml_unescape(out) == expected);
    }
}

RC_GTEST_PROP(FeedEscapeProperty, JsonOutputParsesBackForAnyValidText, (const std::string& input)) {
    std::string out;
    append_json_string(out, input);
    auto parsed = nlohmann::json::parse(out, nullptr, false);
    RC_ASSERT(!parsed.is_discarded());
    RC_ASSERT(parsed.is_string());
    RC_ASSERT(is_valid_utf8(parsed.get<std::string>()));
    if (is_valid_utf8(input)) RC_ASSERT(parsed.get<std::string>() == xml_unescape(xml_escape(input)));
}

// ------------------------------------------------------------------ writers

Channel channel(Format f) {
    Channel c;
    c.title = "Ada & Bob's <Notes>";
    c.home_url = "https://blog.example/";
    c.feed_url = "https://blog.example" + std::string(format_info(f).path);
    c.description = "Notes & more";
    c.author_name = "Ada";
    c.author_url = "https://ada.example/?a=1&b=2";
    c.generator = "StarPunk test";
    c.updated = std::chrono::sys_days{std::chrono::year{2026} / 11 / 27} + 5h;
    return c;
}

constexpr std::string_view kHtml = "<p>Fish &amp; chips <a href=\"https://x.example/?a=1&amp;b=2\">link</a></p>";

std::string whole(Format f, const std::vector<Item>& items) {
    std::string out;
    write_head(f, channel(f), out);
    for (size_t i = 0; i < items.size(); ++i) write_item(f, items[i], i, out);
    write_tail(f, out);
    return out;
}

Item item(std::string_view url = "https://blog.example/note/fish", std::string_view title = "Fish & chips") {
    Item it;
    it.url = url;
    it.title = title;
    it.html = kHtml;
    it.published = std::chrono::sys_days{std::chrono::year{2026} / 11 / 20} + 9h + 30min;
    it.updated = std::chrono::sys_days{std::chrono::year{2026} / 11 / 21} + 10h;
    return it;
}

TEST(FeedWriters, RssChannelAndItem) {
    std::string rss = whole(Format::rss, {item()});
    EXPECT_TRUE(rss.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" "
                                "xmlns:atom=\"http://www.w3.org/2005/Atom\">\n<channel>\n"));
    EXPECT_NE(rss.find("<title>Ada &amp; Bob&#39;s &lt;Notes&gt;</title>"), std::string::npos);
    EXPECT_NE(rss.find("<link>https://blog.example/</link>"), std::string::npos);
    EXPECT_NE(rss.find("<description>Notes &amp; more</description>"), std::string::npos);
    EXPECT_NE(rss.find("<atom:link href=\"https://blog.example/feed.xml\" rel=\"self\" type=\"application/rss+xml\"/>"),
              std::string::npos);
    EXPECT_NE(rss.find("<lastBuildDate>Fri, 27 Nov 2026 05:00:00 +0000</lastBuildDate>"), std::string::npos);
    EXPECT_NE(rss.find("<title>Fish &amp; chips</title>"), std::string::npos);
    EXPECT_NE(rss.find("<link>https://blog.example/note/fish</link>"), std::string::npos);
    EXPECT_NE(rss.find("<guid isPermaLink=\"true\">https://blog.example/note/fish</guid>"), std::string::npos);
    EXPECT_NE(rss.find("<pubDate>Fri, 20 Nov 2026 09:30:00 +0000</pubDate>"), std::string::npos);
    EXPECT_TRUE(rss.ends_with("</item>\n</channel>\n</rss>\n"));
}

TEST(FeedWriters, HtmlIsEscapedExactlyOnce) {
    const std::string once =
        "&lt;p&gt;Fish &amp;amp; chips &lt;a href=&quot;https://x.example/?a=1&amp;amp;b=2&quot;&gt;link&lt;/a&gt;&lt;/p&gt;";
    std::string rss = whole(Format::rss, {item()});
    EXPECT_NE(rss.find("<description>" + once + "</description>"), std::string::npos) << rss;
    EXPECT_EQ(rss.find("&amp;amp;amp;"), std::string::npos);
    EXPECT_EQ(xml_unescape(once), kHtml);
    std::string atom = whole(Format::atom, {item()});
    EXPECT_NE(atom.find("<content type=\"html\">" + once + "</content>"), std::string::npos) << atom;
    auto json = nlohmann::json::parse(whole(Format::json, {item()}));
    EXPECT_EQ(json["items"][0]["content_html"], kHtml);
}

TEST(FeedWriters, AtomFeedAndEntry) {
    std::string atom = whole(Format::atom, {item()});
    EXPECT_NE(atom.find("<feed xmlns=\"http://www.w3.org/2005/Atom\">"), std::string::npos);
    EXPECT_NE(atom.find("<id>https://blog.example/</id>"), std::string::npos);
    EXPECT_NE(atom.find("<title type=\"text\">Ada &amp; Bob&#39;s &lt;Notes&gt;</title>"), std::string::npos);
    EXPECT_NE(atom.find("<updated>2026-11-27T05:00:00+00:00</updated>"), std::string::npos);
    EXPECT_NE(atom.find("<author>\n<name>Ada</name>\n<uri>https://ada.example/?a=1&amp;b=2</uri>\n</author>"),
              std::string::npos);
    EXPECT_NE(atom.find("<link rel=\"self\" type=\"application/atom+xml\" href=\"https://blog.example/feed.atom\"/>"),
              std::string::npos);
    EXPECT_NE(atom.find("<entry>\n<id>https://blog.example/note/fish</id>\n<title type=\"text\">Fish &amp; chips</title>\n"
                        "<updated>2026-11-21T10:00:00+00:00</updated>\n<published>2026-11-20T09:30:00+00:00</published>\n"
                        "<link rel=\"alternate\" type=\"text/html\" href=\"https://blog.example/note/fish\"/>"),
              std::string::npos)
        << atom;
    EXPECT_TRUE(atom.ends_with("</entry>\n</feed>\n"));
}

TEST(FeedWriters, JsonFeedHasTheRequiredFieldsAndTypes) {
    auto doc = nlohmann::json::parse(whole(Format::json, {item(), item("https://blog.example/note/two", "Two")}));
    EXPECT_EQ(doc["version"], "https://jsonfeed.org/version/1.1");
    EXPECT_EQ(doc["title"], "Ada & Bob's <Notes>");
    EXPECT_EQ(doc["home_page_url"], "https://blog.example/");
    EXPECT_EQ(doc["feed_url"], "https://blog.example/feed.json");
    EXPECT_EQ(doc["description"], "Notes & more");
    EXPECT_EQ(doc["authors"], nlohmann::json::parse(R"([{"name":"Ada","url":"https://ada.example/?a=1&b=2"}])"));
    ASSERT_EQ(doc["items"].size(), 2u);
    const auto& first = doc["items"][0];
    EXPECT_TRUE(first["id"].is_string());
    EXPECT_EQ(first["id"], "https://blog.example/note/fish");
    EXPECT_EQ(first["url"], "https://blog.example/note/fish");
    EXPECT_EQ(first["title"], "Fish & chips");
    EXPECT_EQ(first["date_published"], "2026-11-20T09:30:00+00:00");
    EXPECT_EQ(first["date_modified"], "2026-11-21T10:00:00+00:00");
    EXPECT_EQ(doc["items"][1]["title"], "Two");
    EXPECT_EQ(nlohmann::json::parse(whole(Format::json, {}))["items"], nlohmann::json::array());
}

// Photos (issue 14, part 2): RSS one enclosure (the first stored photo),
// Atom one rel=enclosure link per photo, JSON Feed image + attachments of the
// stored ones; every photo an <img> after the item's HTML, escaped once.
TEST(FeedWriters, PhotosAreEnclosuresAttachmentsAndImages) {
    const std::vector<Photo> photos = {
        Photo{"https://elsewhere.example/a.jpg?x=1&y=2", "External \"one\"", "", 0, 0, 0},
        Photo{"https://blog.example/media/2026/12/b.jpg", "Stored <b>", "image/jpeg", 12345, 800, 600},
        Photo{"https://blog.example/media/2026/12/c.png", "", "image/png", 99, 10, 10}};
    Item it = item();
    it.photos = &photos;

    std::string rss = whole(Format::rss, {it});
    EXPECT_NE(rss.find("<enclosure url=\"https://blog.example/media/2026/12/b.jpg\" length=\"12345\" type=\"image/jpeg\"/>"),
              std::string::npos) << rss;
    EXPECT_EQ(rss.find("<enclosure url=\"https://blog.example/media/2026/12/c.png\""), std::string::npos);  // one only
    const auto description = xml_unescape(rss.substr(rss.find("<description>&lt;") + 13));
    EXPECT_NE(description.find("<img src=\"https://elsewhere.example/a.jpg?x=1&amp;y=2\" alt=\"External &quot;one&quot;\">"),
              std::string::npos) << description;
    EXPECT_NE(description.find("alt=\"Stored &lt;b&gt;\" width=\"800\" height=\"600\">"), std::string::npos);

    std::string atom = whole(Format::atom, {it});
    EXPECT_NE(atom.find("<link rel=\"enclosure\" href=\"https://elsewhere.example/a.jpg?x=1&amp;y=2\"/>"), std::string::npos)
        << atom;
    EXPECT_NE(atom.find("<link rel=\"enclosure\" href=\"https://blog.example/media/2026/12/b.jpg\" type=\"image/jpeg\" "
                        "length=\"12345\"/>"),
              std::string::npos);
    EXPECT_NE(atom.find("<link rel=\"enclosure\" href=\"https://blog.example/media/2026/12/c.png\" type=\"image/png\" "
                        "length=\"99\"/>"),
              std::string::npos);

    auto json = nlohmann::json::parse(whole(Format::json, {it}));
    const auto& j = json["items"][0];
    EXPECT_EQ(j["image"], "https://elsewhere.example/a.jpg?x=1&y=2");
    EXPECT_EQ(j["attachments"], nlohmann::json::parse(R"([
        {"url": "https://blog.example/media/2026/12/b.jpg", "mime_type": "image/jpeg", "size_in_bytes": 12345},
        {"url": "https://blog.example/media/2026/12/c.png", "mime_type": "image/png", "size_in_bytes": 99}])"));
    EXPECT_TRUE(j["content_html"].get<std::string>().starts_with(std::string(kHtml) + "<p><img src="));

    // No photos: none of it.
    const std::vector<Photo> none;
    it.photos = &none;
    EXPECT_EQ(whole(Format::rss, {it}).find("<enclosure"), std::string::npos);
    EXPECT_EQ(whole(Format::atom, {it}).find("rel=\"enclosure\""), std::string::npos);
    auto plain = nlohmann::json::parse(whole(Format::json, {it}));
    EXPECT_FALSE(plain["items"][0].contains("image"));
    EXPECT_FALSE(plain["items"][0].contains("attachments"));
}

TEST(FeedWriters, HostileTextStaysText) {
    std::string nasty = std::string("x]]><script>alert(1)</script>\x01\x0B") + "\xEF\xBF\xBF&";
    Item it = item("https://blog.example/note/x", nasty);
    it.html = nasty;
    for (Format f : {Format::rss, Format::atom}) {
        std::string doc = whole(f, {it});
        EXPECT_EQ(doc.find("<script"), std::string::npos);
        EXPECT_EQ(doc.find("]]>"), std::string::npos);
        EXPECT_EQ(doc.find('\x01'), std::string::npos);
        EXPECT_EQ(doc.find('\x0B'), std::string::npos);
        EXPECT_EQ(doc.find("\xEF\xBF\xBF"), std::string::npos);
        EXPECT_NE(doc.find("x]]&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;"), std::string::npos) << doc;
    }
    auto doc = nlohmann::json::parse(whole(Format::json, {it}));
    EXPECT_EQ(doc["items"][0]["title"], "x]]><script>alert(1)</script>&");
}

TEST(FeedWriters, EmptyDescriptionAndAuthorUrl) {
    Channel c = channel(Format::rss);
    c.description.clear();
    c.author_url.clear();
    std::string rss, atom, json;
    write_head(Format::rss, c, rss);
    EXPECT_NE(rss.find("<description>Ada &amp; Bob&#39;s &lt;Notes&gt;</description>"), std::string::npos);
    write_head(Format::atom, c, atom);
    EXPECT_EQ(atom.find("<subtitle>"), std::string::npos);
    EXPECT_EQ(atom.find("<uri>"), std::string::npos);
    write_head(Format::json, c, json);
    write_tail(Format::json, json);
    auto doc = nlohmann::json::parse(json);
    EXPECT_FALSE(doc.contains("description"));
    EXPECT_FALSE(doc["authors"][0].contains("url"));
}

TEST(FeedWriters, OpmlListsTheThreeFeeds) {
    std::string opml = write_opml(OpmlInfo{"Ada & Bob", "https://blog.example", "Ada", "https://ada.example/"});
    EXPECT_TRUE(opml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">"));
    EXPECT_NE(opml.find("<title>Ada &amp; Bob feeds</title>"), std::string::npos);
    EXPECT_NE(opml.find("<ownerId>https://ada.example/</ownerId>"), std::string::npos);
    EXPECT_EQ(count(opml, "<outline type=\"rss\""), 3u);
    for (std::string_view path : {"/feed.xml", "/feed.atom", "/feed.json"}) {
        EXPECT_NE(opml.find("xmlUrl=\"https://blog.example" + std::string(path) + "\""), std::string::npos) << path;
    }
    EXPECT_NE(opml.find("text=\"Ada &amp; Bob (RSS)\""), std::string::npos);
}

// ------------------------------------------------------------------ negotiation

TEST(FeedNegotiate, Table) {
    struct Case {
        std::optional<std::string_view> accept;
        std::optional<Format> expected;
    };
    const Case cases[] = {
        {std::nullopt, Format::rss},
        {"", Format::rss},
        {"   ", Format::rss},
        {"*/*", Format::rss},
        {"application/rss+xml", Format::rss},
        {"application/atom+xml", Format::atom},
        {"application/feed+json", Format::json},
        {"application/json", Format::json},
        {"APPLICATION/ATOM+XML", Format::atom},
        {"application/xml", Format::rss},
        {"text/xml", Format::rss},
        {"application/*", Format::rss},
        // q-values
        {"application/rss+xml;q=0.5, application/atom+xml", Format::atom},
        {"application/rss+xml; q=0.5, application/feed+json;q=0.9, application/atom+xml;q=0.7", Format::json},
        {"application/atom+xml;q=0.8, */*;q=0.1", Format::atom},
        {"application/rss+xml;q=1.000, application/atom+xml;q=1", Format::rss},  // tie: RSS first
        {"application/feed+json, application/atom+xml", Format::atom},           // tie: Atom before JSON
        {"text/html, application/xhtml+xml, application/xml;q=0.9, */*;q=0.8", Format::rss},
        {"application/json;q=0.5, application/atom+xml;q=0.4", Format::json},
        // q=0 excludes
        {"application/rss+xml;q=0, */*", Format::atom},
        {"application/rss+xml;q=0, application/atom+xml;q=0, */*", Format::json},
        {"application/rss+xml;q=0, application/xml", std::nullopt},  // RSS named and refused
        {"*/*;q=0", std::nullopt},
        {"application/feed+json;q=0", std::nullopt},
        {"application/*;q=0, application/atom+xml", Format::atom},  // more specific wins
        {"application/atom+xml;q=0, application/*", Format::rss},
        // nothing acceptable
        {"text/html", std::nullopt},
        {"text/html, image/png;q=0.9", std::nullopt},
        {"application/atom+xml;type=entry;q=0", std::nullopt},
        // parameters and extensions
        {"application/atom+xml;charset=utf-8", Format::atom},
        {"application/atom+xml;q=0.9;level=1, application/rss+xml;q=0.8", Format::atom},
        {"application/atom+xml;foo=\"a,b;c\", text/html", Format::atom},
        {"application/feed+json , , application/rss+xml;q=0.1", Format::json},
        {"application/atom+xml; ;q=0.5, application/feed+json;q=0.4;", Format::atom},  // empty parameters
    };
    for (const auto& c : cases) {
        EXPECT_EQ(negotiate_format(c.accept), c.expected) << (c.accept ? *c.accept : "<absent>");
    }
}

TEST(FeedNegotiate, MalformedElementsAreSkippedAndAllMalformedMeansNoPreference) {
    struct Case {
        std::string_view accept;
        std::optional<Format> expected;
    };
    const Case cases[] = {
        {"garbage", Format::rss},                              // nothing parses: ignored
        {";;;,,,", Format::rss},
        {"/", Format::rss},
        {"application/", Format::rss},
        {"/json", Format::rss},
        {"*/json", Format::rss},
        {"application/atom+xml;q=abc", Format::rss},           // bad q: element skipped
        {"application/atom+xml;q=2", Format::rss},
        {"application/atom+xml;q=-1", Format::rss},
        {"application/atom+xml;q=0.1234", Format::rss},        // four decimals
        {"application/atom+xml;q=1.5", Format::rss},
        {"application/atom+xml;q", Format::rss},
        {"appli cation/atom+xml", Format::rss},
        {"application/atom+xml;q=abc, text/html", std::nullopt},  // the valid element decides
        {"garbage, application/feed+json", Format::json},
        {"application/atom+xml;q=0.5;q=0", Format::atom},     // only the first q counts
        {"\"application/atom+xml\"", Format::rss},
    };
    for (const auto& c : cases) EXPECT_EQ(negotiate_format(c.accept), c.expected) << c.accept;
    std::string huge(20000, 'a');
    EXPECT_EQ(negotiate_format(huge), Format::rss);
    EXPECT_EQ(negotiate_format(std::string_view("application/atom+xml\0x", 22)), Format::rss);
}

// ------------------------------------------------------------------ the service

struct FeedServiceTest : ::testing::Test {
    testing::NotesHarness h;
    render::InProcessMarkdown markdown;
    std::unique_ptr<notes::NoteRenderer> renderer;

    void SetUp() override {
        ASSERT_EQ(h.start(), "");
        renderer = std::make_unique<notes::NoteRenderer>(h.svc(), markdown);
    }

    Settings settings(int max_items = 50) {
        Settings s;
        s.site_url = "https://blog.example";
        s.site_name = "Blog";
        s.author_name = "Ada";
        s.max_items = max_items;
        return s;
    }

    std::shared_ptr<const FeedService> service(int max_items = 50) {
        return std::make_shared<const FeedService>(&h.svc(), renderer.get(), settings(max_items), h.clock);
    }

    notes::Note add(const std::string& slug, const std::string& content, bool published = true) {
        notes::NewNote n;
        n.content = content;
        n.custom_slug = slug;
        n.published = published;
        n.created_at = h.clock.now();
        h.clock.advance(60s);
        auto note = h.svc().create(n);
        EXPECT_TRUE(note.ok()) << (note.ok() ? "" : note.error().message);
        return note.ok() ? *note : notes::Note{};
    }

    static std::vector<std::string> slugs(const PreparedFeed& feed) {
        std::vector<std::string> out;
        for (const auto& n : feed.notes) out.push_back(n.slug);
        return out;
    }
};

TEST_F(FeedServiceTest, PublishedNotDeletedNewestFirstAtMostMaxItems) {
    for (int i = 0; i < 5; ++i) add("n" + std::to_string(i), "Note " + std::to_string(i));
    add("draft", "A draft", false);
    auto gone = add("gone", "Deleted soon");
    ASSERT_TRUE(h.svc().soft_delete(gone.id).ok());

    auto all = service()->prepare(Format::rss);
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(slugs(*all), (std::vector<std::string>{"n4", "n3", "n2", "n1", "n0"}));
    auto three = service(3)->prepare(Format::atom);
    ASSERT_TRUE(three.ok());
    EXPECT_EQ(slugs(*three), (std::vector<std::string>{"n4", "n3", "n2"}));
}

TEST_F(FeedServiceTest, SameCreationTimeOrdersByIdNewestFirst) {
    for (std::string slug : {"first", "second", "third"}) {
        notes::NewNote n;
        n.content = "Note " + slug;
        n.custom_slug = slug;
        n.created_at = testing::test_epoch();
        ASSERT_TRUE(h.svc().create(n).ok());
    }
    auto feed = service(2)->prepare(Format::rss);
    ASSERT_TRUE(feed.ok());
    EXPECT_EQ(slugs(*feed), (std::vector<std::string>{"third", "second"}));
    auto page = h.svc().list(notes::Visibility::published, 3, 0);  // the same order as the home page
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->notes[0].slug, "third");
    EXPECT_EQ(page->notes[2].slug, "first");
}

TEST_F(FeedServiceTest, PrepareReadsNoNoteFile) {
    auto a = add("a", "Alpha");
    auto svc = service();
    ASSERT_TRUE(h.fs().remove(*h.svc().absolute_path(a)).ok());
    auto feed = svc->prepare(Format::json);
    ASSERT_TRUE(feed.ok()) << feed.error().message;
    EXPECT_EQ(slugs(*feed), std::vector<std::string>{"a"});
    // The file is needed only when the item is written: the stream fails there.
    auto source = FeedService::stream(svc, std::move(*feed));
    std::string chunk;
    auto r = source(chunk);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("(a)"), std::string::npos) << r.error().message;
}

TEST_F(FeedServiceTest, EtagIsStableAndChangesWithTheList) {
    auto a = add("a", "Alpha");
    add("b", "Bravo");
    auto svc = service();
    auto etag = [&](Format f = Format::rss) { return svc->prepare(f)->etag; };
    std::string first = etag();
    EXPECT_TRUE(first.starts_with("W/\"")) << first;
    EXPECT_EQ(etag(), first);
    EXPECT_NE(etag(Format::atom), first);
    EXPECT_NE(etag(Format::json), etag(Format::atom));

    h.clock.advance(1s);
    ASSERT_TRUE(h.svc().update(a.id, notes::NoteChange{std::string("Alpha, edited"), std::nullopt}).ok());
    std::string edited = etag();
    EXPECT_NE(edited, first);

    add("c", "Charlie");
    std::string added = etag();
    EXPECT_NE(added, edited);

    auto c = h.svc().get_by_slug("c");
    ASSERT_TRUE(h.svc().update(c->id, notes::NoteChange{std::nullopt, false}).ok());  // unpublished
    EXPECT_NE(etag(), added);
    std::string unpublished = etag();
    ASSERT_TRUE(h.svc().soft_delete(a.id).ok());
    EXPECT_NE(etag(), unpublished);

    // Different settings, different validator for the same notes.
    Settings other = settings();
    other.site_name = "Renamed";
    FeedService renamed(&h.svc(), renderer.get(), other, h.clock);
    EXPECT_NE(renamed.prepare(Format::rss)->etag, etag());
}

TEST_F(FeedServiceTest, StreamMatchesTheWholeDocumentAndIsChunkedPerItem) {
    for (int i = 0; i < 12; ++i) add("n" + std::to_string(i), "# Title " + std::to_string(i) + "\n\n" + std::string(3000, 'x'));
    auto svc = service();
    for (Format f : {Format::rss, Format::atom, Format::json}) {
        auto whole_doc = svc->render_whole(f);
        ASSERT_TRUE(whole_doc.ok());
        auto feed = svc->prepare(f);
        ASSERT_TRUE(feed.ok());
        auto source = FeedService::stream(svc, std::move(*feed), 1);  // one item per chunk
        std::string joined, chunk;
        int chunks = 0;
        while (true) {
            chunk.clear();
            auto more = source(chunk);
            ASSERT_TRUE(more.ok());
            if (!*more) break;
            ASSERT_FALSE(chunk.empty());
            EXPECT_LT(chunk.size(), 5000u) << "chunk " << chunks << " holds more than one item";
            joined += chunk;
            ++chunks;
        }
        EXPECT_EQ(chunks, 12);  // head with the first item, …, tail with the last
        EXPECT_EQ(joined, *whole_doc);
        chunk.clear();
        EXPECT_FALSE(*source(chunk));  // stays at the end
    }
}

TEST_F(FeedServiceTest, ChunksStayNearTheTargetWhateverTheCorpus) {
    for (int i = 0; i < 60; ++i) add("n" + std::to_string(i), "Note " + std::to_string(i) + " " + std::string(2000, 'y'));
    auto svc = service(50);
    auto feed = svc->prepare(Format::atom);
    ASSERT_TRUE(feed.ok());
    auto source = FeedService::stream(svc, std::move(*feed), 8 * 1024);
    std::string chunk;
    size_t total = 0, largest = 0;
    while (true) {
        chunk.clear();
        auto more = source(chunk);
        ASSERT_TRUE(more.ok());
        if (!*more) break;
        total += chunk.size();
        largest = std::max(largest, chunk.size());
    }
    EXPECT_GT(total, 50u * 2000u);
    EXPECT_LT(largest, 8u * 1024u + 3000u);  // the target plus at most one item
}

TEST_F(FeedServiceTest, ItemsCarryTheRenderedNote) {
    add("fish", "# Fish & chips\n\nWith *salt* & vinegar <script>alert(1)</script>");
    auto svc = service();
    auto json = svc->render_whole(Format::json);
    ASSERT_TRUE(json.ok());
    auto doc = nlohmann::json::parse(*json);
    const auto& item = doc["items"][0];
    EXPECT_EQ(item["id"], "https://blog.example/note/fish");
    EXPECT_EQ(item["title"], "Fish & chips");
    EXPECT_EQ(item["content_html"], "<p>With <em>salt</em> &amp; vinegar </p>\n");
    EXPECT_EQ(item["date_published"], format_rfc3339(testing::test_epoch()));
    auto rss = svc->render_whole(Format::rss);
    ASSERT_TRUE(rss.ok());
    EXPECT_NE(rss->find("<description>&lt;p&gt;With &lt;em&gt;salt&lt;/em&gt; &amp;amp; vinegar &lt;/p&gt;\n</description>"),
              std::string::npos)
        << *rss;
    EXPECT_EQ(rss->find("&lt;script"), std::string::npos);
    EXPECT_EQ(rss->find("alert"), std::string::npos);
}

TEST_F(FeedServiceTest, EmptyFeedIsAValidDocument) {
    auto svc = service();
    auto json = svc->render_whole(Format::json);
    ASSERT_TRUE(json.ok());
    EXPECT_EQ(nlohmann::json::parse(*json)["items"].size(), 0u);
    auto atom = svc->render_whole(Format::atom);
    EXPECT_NE(atom->find("<updated>" + format_rfc3339(h.clock.now()) + "</updated>"), std::string::npos);
}

TEST_F(FeedServiceTest, WithoutNotesServicePrepareFails) {
    FeedService none(nullptr, nullptr, settings());
    EXPECT_FALSE(none.prepare(Format::rss).ok());
}

// ------------------------------------------------------------------ routes

struct FeedRoutes : FeedServiceTest {
    std::unique_ptr<testing::SiteServices> services;
    std::shared_ptr<web::Site> site;
    std::shared_ptr<web::SiteFeeds> feeds;
    std::deque<std::string> keep;  // header strings outlive the request

    void SetUp() override {
        FeedServiceTest::SetUp();
        services = std::make_unique<testing::SiteServices>(h);
        auto config = testing::SiteServices::default_config();
        config.feed_cache_seconds = 123;
        site = services->site(config);
        feeds = web::make_site_feeds(*site);
        add("one", "Note one");
    }

    http::Response get(const http::Handler& handler, std::vector<std::pair<std::string, std::string>> headers = {}) {
        http::Request req;
        req.method = http::Method::get;
        req.method_text = "GET";
        req.path = "/feed";
        for (auto& [k, v] : headers) {
            keep.push_back(k);
            std::string_view name = keep.back();
            keep.push_back(v);
            req.headers.push_back({name, keep.back()});
        }
        return handler(req);
    }

    // The body, whether held in memory or streamed.
    static std::string drain(http::Response& res) {
        if (!res.stream) return std::string(res.body_view());
        std::string body, chunk;
        while (true) {
            chunk.clear();
            auto more = res.stream(chunk);
            if (!more.ok() || !*more) return body;
            body += chunk;
        }
    }
};

TEST_F(FeedRoutes, EachFormatHasItsTypeCachingAndValidator) {
    struct Case {
        http::Handler handler;
        std::string_view type;
    };
    for (auto& [handler, type] : {Case{web::handlers::feed_rss(site, feeds), "application/rss+xml; charset=utf-8"},
                                  Case{web::handlers::feed_atom(site, feeds), "application/atom+xml; charset=utf-8"},
                                  Case{web::handlers::feed_json(site, feeds), "application/feed+json; charset=utf-8"}}) {
        auto res = get(handler);
        ASSERT_EQ(res.status, 200);
        EXPECT_EQ(res.header("Content-Type").value_or(""), type);
        EXPECT_EQ(res.header("Cache-Control").value_or(""), "public, max-age=123");
        EXPECT_FALSE(res.header("Vary").has_value());
        EXPECT_NE(drain(res).find("https://blog.example/note/one"), std::string::npos);
        std::string etag(res.header("ETag").value_or(""));
        ASSERT_TRUE(etag.starts_with("W/\""));

        auto again = get(handler, {{"If-None-Match", etag}});
        EXPECT_EQ(again.status, 304);
        EXPECT_FALSE(static_cast<bool>(again.stream));
        EXPECT_EQ(again.header("ETag").value_or(""), etag);
        EXPECT_EQ(again.header("Cache-Control").value_or(""), "public, max-age=123");
        EXPECT_EQ(get(handler, {{"If-None-Match", "W/\"other\""}}).status, 200);
    }
}

TEST_F(FeedRoutes, NegotiatedFeedVariesOnAccept) {
    auto handler = web::handlers::feed_negotiated(site, feeds);
    auto rss = get(handler);
    EXPECT_EQ(rss.status, 200);
    EXPECT_EQ(rss.header("Content-Type").value_or(""), "application/rss+xml; charset=utf-8");
    EXPECT_EQ(rss.header("Vary").value_or(""), "Accept");
    auto json = get(handler, {{"Accept", "application/json"}});
    EXPECT_EQ(json.header("Content-Type").value_or(""), "application/feed+json; charset=utf-8");
    auto atom = get(handler, {{"Accept", "text/html;q=0.9"}, {"Accept", "application/atom+xml"}});  // two lines, one list
    EXPECT_EQ(atom.header("Content-Type").value_or(""), "application/atom+xml; charset=utf-8");
    EXPECT_NE(atom.header("ETag"), rss.header("ETag"));
    auto not_modified = get(handler, {{"Accept", "application/json"}, {"If-None-Match", std::string(*json.header("ETag"))}});
    EXPECT_EQ(not_modified.status, 304);
    EXPECT_EQ(not_modified.header("Vary").value_or(""), "Accept");

    auto refused = get(handler, {{"Accept", "text/html"}});
    EXPECT_EQ(refused.status, 406);
    EXPECT_EQ(refused.header("Vary").value_or(""), "Accept");
    for (std::string_view t : {"application/rss+xml", "application/atom+xml", "application/feed+json"}) {
        EXPECT_NE(refused.body.find(t), std::string::npos) << t;
    }
}

TEST_F(FeedRoutes, OpmlIsServedWithAValidator) {
    auto handler = web::handlers::opml(site, feeds);
    auto res = get(handler);
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.header("Content-Type").value_or(""), "text/x-opml; charset=utf-8");
    EXPECT_EQ(res.header("Cache-Control").value_or(""), "public, max-age=123");
    EXPECT_NE(res.body.find("https://blog.example/feed.json"), std::string::npos);
    auto again = get(handler, {{"If-None-Match", std::string(*res.header("ETag"))}});
    EXPECT_EQ(again.status, 304);
}

}  // namespace
}  // namespace starpunk::feeds
