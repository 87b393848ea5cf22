// Micropub request bodies (micropub/request.hpp): the three encodings, arrays
// and category[], nested objects ignored, the access_token never a property,
// and how a create becomes a note (body choice, name as heading, HTML
// sanitised, draft, visibility, published, mp-slug).
#include "micropub/request.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "notes/note_renderer.hpp"
#include "notes/note_text.hpp"
#include "support/content_types.hpp"

namespace starpunk::micropub {
namespace {

using starpunk::testing::kForm;
using starpunk::testing::kJson;

std::vector<std::string> texts(const PostRequest& r, const std::string& property) {
    std::vector<std::string> out;
    auto it = r.properties.find(property);
    if (it == r.properties.end()) return out;
    for (const auto& v : it->second) out.push_back(v.text);
    return out;
}

PostRequest parse_ok(std::string_view type, std::string_view body) {
    auto r = parse_post(type, body);
    EXPECT_TRUE(r) << body << ": " << (r ? "" : r.error().message);
    return r ? std::move(*r) : PostRequest{};
}

CreateRequest create_ok(std::string_view type, std::string_view body) {
    auto r = parse_post(type, body);
    EXPECT_TRUE(r) << body << ": " << (r ? "" : r.error().message);
    if (!r) return {};
    auto c = build_create(*r);
    EXPECT_TRUE(c) << body << ": " << (c ? "" : c.error().message);
    return c ? std::move(*c) : CreateRequest{};
}

Error create_error(std::string_view type, std::string_view body) {
    auto r = parse_post(type, body);
    if (!r) return r.error();
    auto c = build_create(*r);
    EXPECT_FALSE(c) << body;
    return c ? Error{} : c.error();
}

std::string multipart(const std::vector<std::pair<std::string, std::string>>& fields, bool with_file = false) {
    std::string b;
    for (const auto& [name, value] : fields) {
        b += "--XyZ\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n";
    }
    if (with_file) {
        b += "--XyZ\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.jpg\"\r\n"
             "Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff\xe0 binary\r\n";
    }
    b += "--XyZ--\r\n";
    return b;
}

// ---------------------------------------------------------------------------
// Form-encoded

TEST(MicropubParse, FormCreateWithEveryField) {
    auto r = parse_ok(kForm,
                      "h=entry&content=Hello+world&category[]=one&category[]=two&mp-slug=my-slug"
                      "&published=2024-01-02T03%3A04%3A05Z&post-status=draft&name=Title&summary=Sum"
                      "&access_token=tok123");
    EXPECT_FALSE(r.action);
    EXPECT_EQ(r.access_token.value_or(""), "tok123");
    EXPECT_FALSE(r.properties.contains("access_token"));
    EXPECT_FALSE(r.properties.contains("h"));
    EXPECT_EQ(texts(r, "content"), std::vector<std::string>{"Hello world"});
    EXPECT_EQ(texts(r, "category"), (std::vector<std::string>{"one", "two"}));
    EXPECT_EQ(texts(r, "mp-slug"), std::vector<std::string>{"my-slug"});
    EXPECT_EQ(texts(r, "published"), std::vector<std::string>{"2024-01-02T03:04:05Z"});
    EXPECT_EQ(texts(r, "post-status"), std::vector<std::string>{"draft"});
}

TEST(MicropubParse, FormRepeatedNamesWithoutBracketsAlsoMakeArrays) {
    auto r = parse_ok(kForm, "content=x&category=a&category=b&category%5B%5D=c");
    EXPECT_EQ(texts(r, "category"), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(MicropubParse, FormWithoutHIsAnEntry) {
    auto r = parse_ok(kForm, "content=x");
    EXPECT_EQ(texts(r, "content"), std::vector<std::string>{"x"});
}

TEST(MicropubParse, FormNestedObjectsAreIgnored) {
    auto r = parse_ok(kForm, "content=x&location[latitude]=1.5&location[longitude]=2&[]=z&a]b=1");
    EXPECT_EQ(r.properties.size(), 1u);
    EXPECT_TRUE(r.properties.contains("content"));
}

TEST(MicropubParse, FormHtmlContent) {
    auto r = parse_ok(kForm, "content%5Bhtml%5D=%3Cp%3EHi%3C%2Fp%3E");
    ASSERT_NE(r.first("content"), nullptr);
    EXPECT_TRUE(r.first("content")->html);
    EXPECT_EQ(r.first("content")->text, "<p>Hi</p>");
}

TEST(MicropubParse, FormOtherTypesAreRefused) {
    auto r = parse_post(kForm, "h=event&name=Party");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
    EXPECT_NE(r.error().message.find("h-entry"), std::string::npos);
}

TEST(MicropubParse, FormActionIsRecognised) {
    auto r = parse_ok(kForm, "action=delete&url=https%3A%2F%2Fsite.example%2Fnote%2Fx");
    EXPECT_EQ(r.action.value_or(""), "delete");
    EXPECT_EQ(r.url.value_or(""), "https://site.example/note/x");
}

TEST(MicropubParse, MalformedFormIsInvalidInput) {
    auto r = parse_post(kForm, "content=%zz");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
}

TEST(MicropubParse, ContentTypeParametersAndCaseDoNotMatter) {
    auto r = parse_ok("Application/X-WWW-Form-Urlencoded; charset=utf-8", "content=x");
    EXPECT_EQ(texts(r, "content"), std::vector<std::string>{"x"});
}

TEST(MicropubParse, UnsupportedOrMissingContentTypeIsInvalidInput) {
    for (const char* type : {"text/plain", "", "application/xml"}) {
        auto r = parse_post(type, "content=x");
        ASSERT_FALSE(r) << type;
        EXPECT_EQ(r.error().code, ErrorCode::invalid_input) << type;
    }
}

// ---------------------------------------------------------------------------
// JSON

TEST(MicropubParse, JsonCreateWithArrays) {
    auto r = parse_ok(kJson, R"({"type":["h-entry"],"properties":{"content":["Hello"],"category":["a","b"],
                                 "mp-slug":["slug"],"post-status":["draft"],"published":["2024-01-02T03:04:05+01:00"]}})");
    EXPECT_EQ(texts(r, "content"), std::vector<std::string>{"Hello"});
    EXPECT_EQ(texts(r, "category"), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(texts(r, "mp-slug"), std::vector<std::string>{"slug"});
    EXPECT_EQ(texts(r, "post-status"), std::vector<std::string>{"draft"});
}

TEST(MicropubParse, JsonHtmlAndValueObjects) {
    auto r = parse_ok(kJson, R"({"type":["h-entry"],"properties":{
        "content":[{"html":"<b>x</b>","value":"x"}],"summary":[{"value":"plain"}]}})");
    ASSERT_NE(r.first("content"), nullptr);
    EXPECT_TRUE(r.first("content")->html);
    EXPECT_EQ(r.first("content")->text, "<b>x</b>");
    ASSERT_NE(r.first("summary"), nullptr);
    EXPECT_FALSE(r.first("summary")->html);
    EXPECT_EQ(r.first("summary")->text, "plain");
}

TEST(MicropubParse, JsonNestedObjectsAndOddValuesAreIgnored) {
    auto r = parse_ok(kJson, R"({"type":["h-entry"],"properties":{
        "content":["x"],
        "checkin":[{"type":["h-card"],"properties":{"name":["Cafe"]}}],
        "location":[{"type":["h-geo"],"properties":{"latitude":["1"]}}],
        "rating":[5], "flag":[true], "nothing":[null], "empty":[], "obj":[{}],
        "category":["ok", {"type":["h-card"],"properties":{}}, 3]}})");
    EXPECT_EQ(texts(r, "content"), std::vector<std::string>{"x"});
    EXPECT_EQ(texts(r, "category"), std::vector<std::string>{"ok"});
    for (const char* gone : {"checkin", "location", "rating", "flag", "nothing", "empty", "obj"})
        EXPECT_FALSE(r.properties.contains(gone)) << gone;
}

TEST(MicropubParse, JsonScalarValuesAreTakenLeniently) {
    auto r = parse_ok(kJson, R"({"type":"h-entry","properties":{"content":"Hello","category":"one"}})");
    EXPECT_EQ(texts(r, "content"), std::vector<std::string>{"Hello"});
    EXPECT_EQ(texts(r, "category"), std::vector<std::string>{"one"});
}

TEST(MicropubParse, JsonWithoutTypeIsAnEntry) {
    auto r = parse_ok(kJson, R"({"properties":{"content":["x"]}})");
    EXPECT_EQ(texts(r, "content"), std::vector<std::string>{"x"});
}

TEST(MicropubParse, JsonOtherTypesAndShapesAreRefused) {
    for (const char* body : {R"({"type":["h-event"],"properties":{"name":["x"]}})", R"(["h-entry"])", R"("x")",
                             R"({"type":["h-entry"],"properties":["content"]})", R"({"action":5})", "{nope",
                             R"({"type":[],"properties":{}})"}) {
        auto r = parse_post(kJson, body);
        ASSERT_FALSE(r) << body;
        EXPECT_EQ(r.error().code, ErrorCode::invalid_input) << body;
    }
}

TEST(MicropubParse, JsonTooDeepIsRefusedBeforeParsing) {
    std::string deep = R"({"properties":{"content":)" + std::string(100, '[') + std::string(100, ']') + "}}";
    auto r = parse_post(kJson, deep);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
}

TEST(MicropubParse, JsonAction) {
    auto r = parse_ok("application/json; charset=utf-8", R"({"action":"update","url":"https://site.example/note/x",
                                                            "replace":{"content":["y"]}})");
    EXPECT_EQ(r.action.value_or(""), "update");
    EXPECT_EQ(r.url.value_or(""), "https://site.example/note/x");
}

TEST(MicropubParse, JsonAccessTokenIsNeverAFormTokenOrProperty) {
    auto r = parse_ok(kJson, R"({"access_token":"tok","properties":{"content":["x"]}})");
    EXPECT_FALSE(r.access_token);
    EXPECT_FALSE(r.properties.contains("access_token"));
}

// ---------------------------------------------------------------------------
// Multipart

TEST(MicropubParse, MultipartLikeAForm) {
    auto r = parse_ok("multipart/form-data; boundary=XyZ",
                      multipart({{"h", "entry"}, {"content", "Hello from multipart"}, {"category[]", "a"},
                                 {"category[]", "b"}, {"access_token", "tok"}, {"mp-slug", "mp"}},
                                true));
    EXPECT_EQ(texts(r, "content"), std::vector<std::string>{"Hello from multipart"});
    EXPECT_EQ(texts(r, "category"), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(r.access_token.value_or(""), "tok");
    EXPECT_FALSE(r.properties.contains("photo"));
    EXPECT_EQ(r.ignored_files, 1u);
}

TEST(MicropubParse, MalformedMultipartIsInvalidInput) {
    auto r = parse_post("multipart/form-data; boundary=XyZ", "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
    auto no_boundary = parse_post("multipart/form-data", "x");
    ASSERT_FALSE(no_boundary);
}

// ---------------------------------------------------------------------------
// Creates

TEST(MicropubCreate, BodyIsContentElseSummaryElseName) {
    EXPECT_EQ(create_ok(kForm, "content=C&summary=S").note.content, "C");
    EXPECT_EQ(create_ok(kForm, "summary=S").note.content, "S");
    EXPECT_EQ(create_ok(kForm, "name=N").note.content, "N");
    EXPECT_EQ(create_ok(kForm, "content=+++&summary=S").note.content, "S");  // blank content counts as none
    auto e = create_error(kForm, "h=entry&category=x");
    EXPECT_EQ(e.code, ErrorCode::invalid_input);
    EXPECT_NE(e.message.find("content"), std::string::npos);
    EXPECT_EQ(create_error(kForm, "content=%20%0A").code, ErrorCode::invalid_input);
    EXPECT_EQ(create_error(kJson, R"({"type":["h-entry"],"properties":{"content":[]}})").code, ErrorCode::invalid_input);
}

TEST(MicropubCreate, MarkdownContentIsStoredExactly) {
    auto c = create_ok(kJson, R"({"type":["h-entry"],"properties":{"content":["# Head\n\n*em* <b>raw</b>\n\n    code"]}})");
    EXPECT_EQ(c.note.content, "# Head\n\n*em* <b>raw</b>\n\n    code");
}

TEST(MicropubCreate, DefaultsArePublishedWithFallBackSlugPolicy) {
    auto c = create_ok(kForm, "content=x");
    EXPECT_TRUE(c.note.published);
    EXPECT_FALSE(c.note.created_at);
    EXPECT_EQ(c.note.custom_slug, "");
    EXPECT_EQ(c.note.slug_policy, notes::CustomSlugPolicy::fall_back);
    EXPECT_FALSE(c.private_visibility);
}

TEST(MicropubCreate, NameBecomesTheTitleHeading) {
    auto c = create_ok(kForm, "name=My+Article&content=The+body.");
    EXPECT_EQ(c.note.content, "# My Article\n\nThe body.");
    EXPECT_EQ(notes::explicit_title(c.note.content).value_or(""), "My Article");
}

TEST(MicropubCreate, NameThatRepeatsTheContentIsNotATitle) {
    auto c = create_ok(kForm, "name=Just+a+note&content=Just+a+note+about+tea.");
    EXPECT_EQ(c.note.content, "Just a note about tea.");
}

TEST(MicropubCreate, NameIsEscapedSoItRendersLiterally) {
    const std::string name = "C# & *stars* <tag> [link](x) `code` a_b ~x~ #";
    nlohmann::json doc = {{"type", {"h-entry"}}, {"properties", {{"name", {name}}, {"content", {"Body text."}}}}};
    auto c = create_ok(kJson, doc.dump());
    EXPECT_EQ(c.note.content.rfind("# ", 0), 0u) << c.note.content;
    EXPECT_EQ(notes::explicit_title(c.note.content).value_or(""), name) << c.note.content;
    auto rendered = notes::NoteRenderer::render_content(c.note.content);
    EXPECT_EQ(rendered.name.value_or(""), name);
    EXPECT_EQ(rendered.html.find("<em>"), std::string::npos) << rendered.html;
    EXPECT_EQ(rendered.html.find("<a"), std::string::npos) << rendered.html;
}

TEST(MicropubCreate, MultiLineNameIsOneLine) {
    auto c = create_ok(kForm, "name=Two%0Alines&content=Body");
    EXPECT_EQ(c.note.content, "# Two lines\n\nBody");
}

TEST(MicropubCreate, HtmlContentIsSanitisedBeforeStorage) {
    auto c = create_ok(kJson, R"({"type":["h-entry"],"properties":{"content":[{"html":
        "<p onclick=\"x()\">Hello <script>alert(1)</script><b>world</b></p><iframe src=\"https://evil.example\"></iframe><a href=\"javascript:alert(1)\">link</a>"}]}})");
    const std::string& s = c.note.content;
    EXPECT_EQ(s.find("<script"), std::string::npos) << s;
    EXPECT_EQ(s.find("alert"), std::string::npos) << s;
    EXPECT_EQ(s.find("onclick"), std::string::npos) << s;
    EXPECT_EQ(s.find("iframe"), std::string::npos) << s;
    EXPECT_EQ(s.find("javascript"), std::string::npos) << s;
    EXPECT_NE(s.find("<b>world</b>"), std::string::npos) << s;
    auto rendered = notes::NoteRenderer::render_content(s);
    EXPECT_NE(rendered.html.find("<p>Hello <b>world</b></p>"), std::string::npos) << rendered.html;
    EXPECT_EQ(rendered.title, "Hello world");
}

TEST(MicropubCreate, HtmlContentSurvivesMarkdownRenderingUnchanged) {
    // Blank lines would end cmark's raw HTML block and let Markdown rewrite the
    // rest; Markdown syntax inside HTML text must stay literal.
    const std::string html = "<p>one *not emphasis* 2_3_4</p>\n\n<pre>a\n\n  b</pre>\n\n<p>two</p>";
    nlohmann::json doc = {{"type", {"h-entry"}}, {"properties", {{"content", {{{"html", html}}}}}}};
    auto c = create_ok(kJson, doc.dump());
    EXPECT_EQ(c.note.content.find("\n\n"), std::string::npos) << c.note.content;
    auto rendered = notes::NoteRenderer::render_content(c.note.content);
    EXPECT_NE(rendered.html.find("<p>one *not emphasis* 2_3_4</p>"), std::string::npos) << rendered.html;
    EXPECT_NE(rendered.html.find("<pre>a\n\n  b</pre>"), std::string::npos) << rendered.html;
    EXPECT_NE(rendered.html.find("<p>two</p>"), std::string::npos) << rendered.html;
    EXPECT_EQ(rendered.html.find("<em>"), std::string::npos) << rendered.html;
}

TEST(MicropubCreate, HtmlThatSanitisesToNothingIsNoContent) {
    EXPECT_EQ(create_error(kJson, R"({"properties":{"content":[{"html":"<script>x()</script>"}]}})").code,
              ErrorCode::invalid_input);
    auto c = create_ok(kJson, R"({"properties":{"content":[{"html":"<script>x()</script>"}],"summary":["S"]}})");
    EXPECT_EQ(c.note.content, "S");
}

TEST(MicropubCreate, NameWithHtmlContent) {
    auto c = create_ok(kJson, R"({"properties":{"name":["Title"],"content":[{"html":"<p>Body</p>"}]}})");
    EXPECT_EQ(c.note.content, "# Title\n\n<div><p>Body</p></div>");
    auto rendered = notes::NoteRenderer::render_content(c.note.content);
    EXPECT_EQ(rendered.name.value_or(""), "Title");
    EXPECT_NE(rendered.html.find("<p>Body</p>"), std::string::npos);
}

TEST(MicropubCreate, FormHtmlContentIsSanitisedToo) {
    auto c = create_ok(kForm, "content%5Bhtml%5D=%3Cp%3EHi%3Cscript%3Ex()%3C%2Fscript%3E%3C%2Fp%3E");
    EXPECT_EQ(c.note.content, "<div><p>Hi</p></div>");
}

TEST(MicropubCreate, PostStatus) {
    EXPECT_FALSE(create_ok(kForm, "content=x&post-status=draft").note.published);
    EXPECT_FALSE(create_ok(kJson, R"({"properties":{"content":["x"],"post-status":["Draft"]}})").note.published);
    EXPECT_TRUE(create_ok(kForm, "content=x&post-status=published").note.published);
    auto e = create_error(kForm, "content=x&post-status=private");
    EXPECT_EQ(e.code, ErrorCode::invalid_input);
    EXPECT_NE(e.message.find("post-status"), std::string::npos);
}

TEST(MicropubCreate, PrivateOrUnlistedVisibilityIsStoredAsADraft) {
    for (const char* v : {"private", "unlisted"}) {
        auto c = create_ok(kForm, std::string("content=x&visibility=") + v);
        EXPECT_FALSE(c.note.published) << v;
        EXPECT_TRUE(c.private_visibility) << v;
    }
    EXPECT_TRUE(create_ok(kForm, "content=x&visibility=public").note.published);
    EXPECT_EQ(create_error(kForm, "content=x&visibility=friends").code, ErrorCode::invalid_input);
}

TEST(MicropubCreate, PublishedBecomesCreatedAt) {
    using namespace std::chrono;
    auto c = create_ok(kForm, "content=x&published=2024-01-02T03%3A04%3A05%2B01%3A00");
    ASSERT_TRUE(c.note.created_at);
    EXPECT_EQ(format_rfc3339(*c.note.created_at), "2024-01-02T02:04:05+00:00");
    auto z = create_ok(kJson, R"({"properties":{"content":["x"],"published":["2024-06-30T23:59:59Z"]}})");
    ASSERT_TRUE(z.note.created_at);
    EXPECT_EQ(format_rfc3339(*z.note.created_at), "2024-06-30T23:59:59+00:00");
    auto day = create_ok(kForm, "content=x&published=2024-02-29");
    ASSERT_TRUE(day.note.created_at);
    EXPECT_EQ(format_rfc3339(*day.note.created_at), "2024-02-29T00:00:00+00:00");
}

TEST(MicropubCreate, UnparseablePublishedIs400WithAMessage) {
    for (const char* bad : {"yesterday", "2024-13-01T00:00:00Z", "2023-02-29", "2024-01-02T25:00:00Z", "1700000000"}) {
        auto e = create_error(kForm, std::string("content=x&published=") + bad);
        EXPECT_EQ(e.code, ErrorCode::invalid_input) << bad;
        EXPECT_NE(e.message.find("published"), std::string::npos) << bad;
        EXPECT_NE(e.message.find(bad), std::string::npos) << e.message;
    }
}

TEST(MicropubCreate, MpSlugIsTheCustomSlugWithFallBack) {
    auto c = create_ok(kForm, "content=x&mp-slug=+My+Slug+");
    EXPECT_EQ(c.note.custom_slug, "My Slug");  // normalised by the notes service
    EXPECT_EQ(c.note.slug_policy, notes::CustomSlugPolicy::fall_back);
}

TEST(MicropubCreate, CategoriesBecomeTheNotesTags) {
    auto c = create_ok(kForm, "content=x&category[]=a&category[]=b&category=");
    EXPECT_EQ(c.note.tags, (std::vector<std::string>{"a", "b"}));
    auto j = create_ok(kJson, R"({"type":["h-entry"],"properties":{"content":["x"],"category":["c",{"type":["h-card"],"properties":{"name":["Person"]}}]}})");
    EXPECT_EQ(j.note.tags, (std::vector<std::string>{"c"}));  // person tags dropped, not fatal
}

TEST(MicropubCreate, AccessTokenNeverReachesTheNote) {
    auto c = create_ok(kForm, "access_token=tok-secret&content=hello");
    EXPECT_EQ(c.note.content, "hello");
}

TEST(MicropubHtml, BodyHelper) {
    EXPECT_EQ(html_note_body(""), "");
    EXPECT_EQ(html_note_body("<script>x</script>"), "");
    EXPECT_EQ(html_note_body("a\n\nb"), "<div>a&#10;\nb</div>");
    EXPECT_EQ(html_note_body("a\n \t\n\nb"), "<div>a&#10; \t&#10;\nb</div>");
}

TEST(MicropubHtml, HeadingHelper) {
    EXPECT_EQ(markdown_heading("  Hello   world \n again "), "# Hello world again");
    EXPECT_EQ(markdown_heading("*x*"), "# \\*x\\*");
}

}  // namespace
}  // namespace starpunk::micropub
