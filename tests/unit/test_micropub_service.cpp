// The Micropub endpoint (micropub/micropub_service.hpp) on a real notes
// service (temporary DATA_PATH) with a scripted token endpoint: creates in
// every encoding, the order of checks, every error's status and JSON body, and
// the queries. The last tests go through web::App and the route table.
#include "micropub/micropub_service.hpp"

#include <gtest/gtest.h>

#include <deque>

#include <nlohmann/json.hpp>

#include "support/fake_http_client.hpp"
#include "support/notes_harness.hpp"
#include "support/site_harness.hpp"
#include "util/strings.hpp"
#include "web/access.hpp"
#include "web/app.hpp"
#include "web/micropub_adapter.hpp"
#include "support/content_types.hpp"

namespace starpunk::micropub {
namespace {

using starpunk::testing::FakeHttpClient;

constexpr const char* kServiceSite = "https://site.example";
constexpr const char* kServiceEndpoint = "https://tokens.example/token";
constexpr const char* kServiceToken = "good-token-0123456789";
using starpunk::testing::kForm;
using starpunk::testing::kJson;
const std::string kBearer = std::string("Bearer ") + kServiceToken;

class MicropubServiceTest : public ::testing::Test {
protected:
    void SetUp() override { start({}); }

    void start(testing::NotesHarness::Options o) {
        harness = std::make_unique<testing::NotesHarness>(o);
        ASSERT_EQ(harness->start(), "");
        config.site_url = kServiceSite;
        config.admin_me = "https://me.example/";
        config.token_endpoint = kServiceEndpoint;
        verifier = std::make_unique<TokenVerifier>(config, http, harness->clock);
        service = std::make_unique<MicropubService>(config, *verifier, harness->svc());
        endpoint_answers(200, R"({"me":"https://me.example/","client_id":"https://app.example/","scope":"create"})");
    }

    // What the token endpoint answers from now on (the fake answers per URL,
    // whatever the token; a token already verified stays cached).
    void endpoint_answers(int status, std::string body) { http.on_get(kServiceEndpoint, {status, std::move(body), {}}); }

    Reply post(std::string_view content_type, std::string_view body, std::optional<std::string> auth = kBearer) {
        bodies_.emplace_back(body);
        types_.emplace_back(content_type);
        if (auth) auths_.push_back(*auth);
        Incoming in;
        if (auth) in.authorization = auths_.back();
        in.content_type = types_.back();
        in.body = bodies_.back();
        return service->post(in);
    }
    Reply get(std::string_view query, std::optional<std::string> auth = kBearer) {
        bodies_.emplace_back(query);
        if (auth) auths_.push_back(*auth);
        Incoming in;
        if (auth) in.authorization = auths_.back();
        in.query = bodies_.back();
        return service->query(in);
    }

    static void expect_error(const Reply& r, int status, const std::string& error) {
        EXPECT_EQ(r.status, status) << r.body.dump();
        ASSERT_TRUE(r.body.is_object()) << r.body.dump();
        EXPECT_EQ(r.body.value("error", ""), error) << r.body.dump();
        EXPECT_FALSE(r.body.value("error_description", "").empty());
        EXPECT_EQ(r.body.size(), 2u);
        EXPECT_TRUE(r.location.empty());
        EXPECT_FALSE(r.created);
    }

    notes::Note created(const Reply& r) {
        EXPECT_EQ(r.status, 201) << r.body.dump();
        EXPECT_TRUE(r.created);
        return r.created ? *r.created : notes::Note{};
    }
    std::string content_of(const notes::Note& n) {
        auto c = harness->svc().read_content(n);
        return c ? *c : "<" + c.error().message + ">";
    }
    int64_t note_count() { return std::stoll(harness->sql_text("SELECT count(*) FROM notes")); }

    std::unique_ptr<testing::NotesHarness> harness;
    config::Config config;
    FakeHttpClient http;
    std::unique_ptr<TokenVerifier> verifier;
    std::unique_ptr<MicropubService> service;
    std::deque<std::string> bodies_, types_, auths_;
};

// ---------------------------------------------------------------------------
// Creates

TEST_F(MicropubServiceTest, FormCreateIs201WithLocation) {
    auto r = post(kForm, "h=entry&content=Hello+Micropub+world&category[]=a&category[]=b");
    auto n = created(r);
    EXPECT_EQ(r.location, "https://site.example/note/hello-micropub-world");
    EXPECT_EQ(r.location.find("//note"), std::string::npos);
    EXPECT_TRUE(r.body.is_null());
    EXPECT_TRUE(n.published);
    EXPECT_EQ(content_of(n), "Hello Micropub world");
    auto res = web::micropub_response(r);
    EXPECT_EQ(res.status, 201);
    EXPECT_EQ(res.header("Location").value_or(""), r.location);
    EXPECT_EQ(res.header("Cache-Control").value_or(""), "no-store");
}

TEST_F(MicropubServiceTest, TrailingSlashOnSiteUrlNeverDoublesTheSlash) {
    // config::load_config normalises SITE_URL; the Location is built from it.
    auto r = post(kForm, "content=x");
    EXPECT_EQ(r.location.rfind("https://site.example/note/", 0), 0u);
}

TEST_F(MicropubServiceTest, JsonCreateWithHtmlIsSanitisedAndStored) {
    auto r = post(kJson, R"({"type":["h-entry"],"properties":{"name":["Article"],
        "content":[{"html":"<p>Safe <b>bold</b><script>alert('x')</script></p>"}],"category":["c"]}})");
    auto n = created(r);
    EXPECT_EQ(r.location, "https://site.example/note/article-safe-bold");
    const std::string stored = content_of(n);
    EXPECT_EQ(stored.find("script"), std::string::npos) << stored;
    EXPECT_EQ(stored, "# Article\n\n<div><p>Safe <b>bold</b></p></div>");
}

TEST_F(MicropubServiceTest, MultipartCreate) {
    std::string body =
        "--b0undary\r\nContent-Disposition: form-data; name=\"h\"\r\n\r\nentry\r\n"
        "--b0undary\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\nSent as multipart\r\n"
        "--b0undary\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"p.jpg\"\r\n"
        "Content-Type: image/jpeg\r\n\r\n\x01\x02\x03\r\n"
        "--b0undary--\r\n";
    auto r = post("multipart/form-data; boundary=b0undary", body);
    auto n = created(r);
    EXPECT_EQ(content_of(n), "Sent as multipart");
}

TEST_F(MicropubServiceTest, DraftIsUnpublished) {
    auto n = created(post(kForm, "content=Secret+draft&post-status=draft"));
    EXPECT_FALSE(n.published);
    auto j = created(post(kJson, R"({"type":["h-entry"],"properties":{"content":["J draft"],"post-status":["draft"]}})"));
    EXPECT_FALSE(j.published);
}

TEST_F(MicropubServiceTest, PublishedSetsCreatedAtAndTheFolder) {
    auto n = created(post(kForm, "content=Old+news&published=2020-05-06T07%3A08%3A09Z"));
    EXPECT_EQ(format_rfc3339(n.created_at), "2020-05-06T07:08:09+00:00");
    EXPECT_EQ(n.file_path, "2020/05/old-news.md");
}

TEST_F(MicropubServiceTest, MpSlugIsUsedWhenUsable) {
    auto r = post(kForm, "content=Whatever&mp-slug=my-chosen-slug");
    created(r);
    EXPECT_EQ(r.location, "https://site.example/note/my-chosen-slug");
    auto again = post(kForm, "content=Whatever+else&mp-slug=my-chosen-slug");
    created(again);
    EXPECT_EQ(again.location, "https://site.example/note/my-chosen-slug-2");
}

TEST_F(MicropubServiceTest, UnusableMpSlugFallsBackToTheAutomaticOne) {
    for (const char* bad : {"admin", "a/b", "%F0%9F%8E%89", "micropub"}) {
        auto r = post(kForm, std::string("content=Fallback+slug+note&mp-slug=") + bad);
        auto n = created(r);
        EXPECT_EQ(n.slug.rfind("fallback-slug-note", 0), 0u) << bad << " -> " << n.slug;
    }
}

TEST_F(MicropubServiceTest, AccessTokenInTheFormIsAcceptedAndNeverStored) {
    auto r = post(kForm, std::string("access_token=") + kServiceToken + "&content=Form+token+note", std::nullopt);
    auto n = created(r);
    EXPECT_EQ(content_of(n), "Form token note");
    EXPECT_EQ(harness->sql_text("SELECT count(*) FROM notes_fts WHERE notes_fts MATCH 'good'"), "0");
}

// ---------------------------------------------------------------------------
// Errors, in the order they are checked

TEST_F(MicropubServiceTest, NoTokenIs401WithAChallenge) {
    auto r = post(kForm, "content=x", std::nullopt);
    expect_error(r, 401, "unauthorized");
    EXPECT_EQ(r.www_authenticate, "Bearer");
    EXPECT_EQ(web::micropub_response(r).header("WWW-Authenticate").value_or(""), "Bearer");
    EXPECT_EQ(note_count(), 0);
    EXPECT_EQ(http.requests().size(), 0u);
}

TEST_F(MicropubServiceTest, TokenInHeaderAndFormIs400) {
    auto r = post(kForm, std::string("access_token=") + kServiceToken + "&content=x");
    expect_error(r, 400, "invalid_request");
    EXPECT_EQ(note_count(), 0);
}

TEST_F(MicropubServiceTest, BadTokenIs401) {
    endpoint_answers(401, R"({"error":"invalid_token"})");
    auto r = post(kForm, "content=x");
    expect_error(r, 401, "unauthorized");
    EXPECT_NE(r.www_authenticate.find("invalid_token"), std::string::npos);
    EXPECT_EQ(note_count(), 0);
}

TEST_F(MicropubServiceTest, SomeoneElsesTokenIs403Forbidden) {
    endpoint_answers(200, R"({"me":"https://intruder.example/","scope":"create"})");
    auto r = post(kForm, "content=x");
    expect_error(r, 403, "forbidden");
    EXPECT_EQ(note_count(), 0);
}

TEST_F(MicropubServiceTest, TokenWithoutCreateScopeIs403InsufficientScope) {
    // SPEC §5.2 decision: 403 as IndieAuth/RFC 6750 say (micropub.rocks 804 expects 401).
    endpoint_answers(200, R"({"me":"https://me.example/","scope":"read"})");
    auto r = post(kForm, "content=x");
    expect_error(r, 403, "insufficient_scope");
    EXPECT_NE(web::micropub_response(r).header("WWW-Authenticate").value_or("").find("insufficient_scope"), std::string::npos);
    EXPECT_EQ(note_count(), 0);
}

TEST_F(MicropubServiceTest, TokenEndpointDownFailsClosed) {
    FakeHttpClient::Answer down;
    down.error = make_error(ErrorCode::io, "connection refused");
    http.on_get(kServiceEndpoint, down);
    auto r = post(kForm, "content=x");
    expect_error(r, 503, "temporarily_unavailable");
    EXPECT_EQ(note_count(), 0);
}

TEST_F(MicropubServiceTest, MalformedBodyWithAHeaderTokenIsVerifiedThen400) {
    auto r = post(kJson, "{not json");
    expect_error(r, 400, "invalid_request");
    EXPECT_EQ(http.requests().size(), 1u);  // the token was checked first
    endpoint_answers(401, "{}");
    verifier->clear_cache();
    expect_error(post(kJson, "{not json"), 401, "unauthorized");
}

TEST_F(MicropubServiceTest, MalformedBodyWithoutAHeaderTokenIs400) {
    expect_error(post(kForm, "content=%zz", std::nullopt), 400, "invalid_request");
    expect_error(post("text/plain", "hello", std::nullopt), 400, "invalid_request");
    EXPECT_EQ(http.requests().size(), 0u);
}

// Issue 12: an unauthenticated `[1e999]` was a 500 (the JSON number overflow
// escaped as an exception).
TEST_F(MicropubServiceTest, JsonNumberOverflowIs400NotA500) {
    for (const char* body : {"[1e999]", R"({"type":["h-entry"],"properties":{"content":[1e999]}})"}) {
        SCOPED_TRACE(body);
        Reply r = Reply::from(Failure{500, "not run", "", {}});
        EXPECT_NO_THROW(r = post(kJson, body, std::nullopt));
        expect_error(r, 400, "invalid_request");
        EXPECT_NE(r.body.value("error_description", "").find("JSON"), std::string::npos) << r.body.dump();
    }
    EXPECT_EQ(http.requests().size(), 0u);
}

// A header token is checked before the body is parsed at all: a rejected
// token gets its 401 whatever the body holds.
TEST_F(MicropubServiceTest, AHeaderTokenIsVerifiedBeforeTheBodyIsParsed) {
    endpoint_answers(401, R"({"error":"invalid_token"})");
    for (const char* body : {"[1e999]", "{not json", R"({"a": 1})"}) {
        SCOPED_TRACE(body);
        Reply r = Reply::from(Failure{500, "not run", "", {}});
        EXPECT_NO_THROW(r = post(kJson, body));
        expect_error(r, 401, "unauthorized");
    }
}

// ---------------------------------------------------------------------------
// Actions: update, delete, undelete

struct MicropubActions : MicropubServiceTest {
    // A POST with a token the endpoint grants `scope` (a token per scope: the
    // verifier caches by token).
    Reply post_as(const std::string& scope, std::string_view type, std::string_view body) {
        endpoint_answers(200, R"({"me":"https://me.example/","client_id":"https://app.example/","scope":")" + scope + "\"}");
        return post(type, body, "Bearer tok-" + std::to_string(++tokens_));
    }
    Reply update(const std::string& url, const std::string& ops) {
        return post_as("update", kJson, R"({"action":"update","url":")" + url + "\"," + ops + "}");
    }
    std::string url_of(const notes::Note& n) { return std::string(kServiceSite) + "/note/" + n.slug; }
    notes::Note reload(const notes::Note& n) { return *harness->svc().get_by_id(n.id); }
    std::vector<std::string> tags(const notes::Note& n) {
        std::vector<std::string> out;
        auto found = harness->svc().tags_of(n.id);
        EXPECT_TRUE(found.ok());
        if (found.ok()) {
            for (const auto& t : found.value()) out.push_back(t.display);
        }
        return out;
    }
    int tokens_ = 0;
};

TEST_F(MicropubActions, DeleteAndUndeleteAreSoftAndNeedTheirScopes) {
    auto n = created(post(kForm, "content=Soon+gone"));
    const std::string form = "action=delete&url=" + percent_encode(url_of(n));
    expect_error(post_as("create update", kForm, form), 403, "insufficient_scope");
    EXPECT_FALSE(reload(n).is_deleted());
    auto del = post_as("delete", kForm, form);
    EXPECT_EQ(del.status, 204) << del.body.dump();
    EXPECT_TRUE(del.body.is_null());
    EXPECT_TRUE(reload(n).is_deleted());
    EXPECT_EQ(content_of(reload(n)), "Soon gone");  // soft: the file stays
    expect_error(post_as("delete", kJson, R"({"action":"undelete","url":")" + url_of(n) + "\"}"), 403,
                 "insufficient_scope");
    auto undel = post_as("undelete", kJson, R"({"action":"undelete","url":")" + url_of(n) + "\"}");
    EXPECT_EQ(undel.status, 204) << undel.body.dump();
    EXPECT_FALSE(reload(n).is_deleted());
    // Again: idempotent.
    EXPECT_EQ(post_as("undelete", kForm, "action=undelete&url=" + percent_encode(url_of(n))).status, 204);
}

TEST_F(MicropubActions, ActionErrorsAre400) {
    auto n = created(post(kForm, "content=Here"));
    expect_error(post_as("delete", kForm, "action=delete&url=https%3A%2F%2Fsite.example%2Fnote%2Fmissing"), 400,
                 "invalid_request");
    expect_error(post_as("delete", kForm, "action=delete"), 400, "invalid_request");
    expect_error(post_as("delete", kForm, "action=explode&url=" + percent_encode(url_of(n))), 400, "invalid_request");
    // Updates are JSON only (the Micropub spec).
    auto form_update = post_as("update", kForm, "action=update&url=" + percent_encode(url_of(n)) + "&content=x");
    expect_error(form_update, 400, "invalid_request");
    EXPECT_NE(form_update.body["error_description"].get<std::string>().find("JSON"), std::string::npos);
    for (const char* ops : {R"("replace":"not an object")", R"("replace":{"content":"not an array"})",
                            R"("add":{"category":"x"})", R"("delete":"category")", R"("delete":[1])",
                            R"("nothing":{})"}) {
        expect_error(update(url_of(n), ops), 400, "invalid_request");
    }
    expect_error(update(url_of(n), R"("replace":{"summary":["a","b"]})"), 400, "invalid_request");
    expect_error(update(url_of(n), R"("replace":{"content":["a","b"]})"), 400, "invalid_request");
    expect_error(update(url_of(n), R"("add":{"content":["more"]})"), 400, "invalid_request");
    expect_error(update(url_of(n), R"("replace":{"post-status":["secret"]})"), 400, "invalid_request");
    expect_error(update(url_of(n), R"("replace":{"published":["yesterday"]})"), 400, "invalid_request");
    expect_error(update(url_of(n), R"("delete":["content"])"), 400, "invalid_request");
    EXPECT_EQ(content_of(reload(n)), "Here");  // nothing changed by any of them
    expect_error(post_as("create", kJson, R"({"action":"update","url":")" + url_of(n) + R"(","replace":{"content":["x"]}})"),
                 403, "insufficient_scope");
}

TEST_F(MicropubActions, ReplaceContentKeepsTheNameHeadingAsWritten) {
    auto n = created(post(kJson, R"({"type":["h-entry"],"properties":{"name":["My *Title*"],"content":["Old body."]}})"));
    ASSERT_TRUE(harness->svc().update(n.id, {std::string("# My *Title*\n\nOld body."), std::nullopt, std::nullopt,
                                             std::nullopt}));
    auto r = update(url_of(n), R"("replace":{"content":["New body."]})");
    EXPECT_EQ(r.status, 204) << r.body.dump();
    EXPECT_EQ(content_of(reload(n)), "# My *Title*\n\nNew body.");
    EXPECT_EQ(reload(n).slug, n.slug);  // the URL never changes
    auto renamed = update(url_of(n), R"("replace":{"name":["Plain"]})");
    EXPECT_EQ(renamed.status, 204) << renamed.body.dump();
    EXPECT_EQ(content_of(reload(n)), "# Plain\n\nNew body.");
    EXPECT_EQ(update(url_of(n), R"("delete":["name"])").status, 204);
    EXPECT_EQ(content_of(reload(n)), "New body.");
}

TEST_F(MicropubActions, SummaryIsKeptBesideTheContent) {
    auto n = created(post(kForm, "content=The+body&summary=In+short"));
    EXPECT_EQ(reload(n).summary, std::optional<std::string>("In short"));
    EXPECT_EQ(content_of(n), "The body");
    auto source = get("q=source&url=" + percent_encode(url_of(n)));
    EXPECT_EQ(source.body["properties"]["summary"], (nlohmann::json{"In short"}));
    EXPECT_EQ(update(url_of(n), R"("replace":{"summary":["Shorter"]})").status, 204);
    EXPECT_EQ(reload(n).summary, std::optional<std::string>("Shorter"));
    EXPECT_EQ(content_of(reload(n)), "The body");  // the file is untouched
    EXPECT_EQ(update(url_of(n), R"("delete":["summary"])").status, 204);
    EXPECT_FALSE(reload(n).summary.has_value());
    EXPECT_FALSE(get("q=source&url=" + percent_encode(url_of(n))).body["properties"].contains("summary"));
    EXPECT_EQ(update(url_of(n), R"("add":{"summary":["Added"]})").status, 204);
    EXPECT_EQ(reload(n).summary, std::optional<std::string>("Added"));
    // Without content the summary is the body, as before.
    auto only = created(post(kForm, "summary=Just+this"));
    EXPECT_EQ(content_of(only), "Just this");
    EXPECT_FALSE(reload(only).summary.has_value());
}

TEST_F(MicropubActions, HtmlContentIsSanitisedOnUpdate) {
    auto n = created(post(kForm, "content=x"));
    EXPECT_EQ(update(url_of(n), R"("replace":{"content":[{"html":"<p>Hi <script>alert(1)</script><b>there</b></p>"}]})").status,
              204);
    const std::string c = content_of(reload(n));
    EXPECT_EQ(c.find("script"), std::string::npos) << c;
    EXPECT_NE(c.find("<b>there</b>"), std::string::npos) << c;
}

TEST_F(MicropubActions, CategoriesAddDeleteValuesAndDeleteAll) {
    auto n = created(post(kForm, "content=Tagged&category=one&category=Two"));
    EXPECT_EQ(tags(n), (std::vector<std::string>{"one", "Two"}));
    EXPECT_EQ(update(url_of(n), R"("add":{"category":["three","ONE"]})").status, 204);
    EXPECT_EQ(tags(n), (std::vector<std::string>{"one", "Two", "three"}));
    EXPECT_EQ(update(url_of(n), R"("delete":{"category":["two"]})").status, 204);
    EXPECT_EQ(tags(n), (std::vector<std::string>{"one", "three"}));
    EXPECT_EQ(update(url_of(n), R"("delete":["category"])").status, 204);
    EXPECT_TRUE(tags(n).empty());
    EXPECT_EQ(update(url_of(n), R"("add":{"category":["fresh"]})").status, 204);  // onto a missing property
    EXPECT_EQ(tags(n), (std::vector<std::string>{"fresh"}));
    EXPECT_EQ(content_of(reload(n)), "Tagged");  // the file was never rewritten
}

TEST_F(MicropubActions, StatusAndPublishedAndTheAnnouncedChange) {
    auto n = created(post(kForm, "content=Dated"));
    const uint64_t before = harness->svc().changes().generation();
    EXPECT_EQ(update(url_of(n), R"("replace":{"post-status":["draft"],"published":["2020-01-02T03:04:05Z"]})").status, 204);
    EXPECT_GT(harness->svc().changes().generation(), before);  // caches follow
    auto back = reload(n);
    EXPECT_FALSE(back.published);
    EXPECT_EQ(format_rfc3339(back.created_at), "2020-01-02T03:04:05+00:00");
    EXPECT_EQ(update(url_of(n), R"("delete":["post-status"])").status, 204);
    EXPECT_TRUE(reload(n).published);
    // Unknown properties are ignored, as on create.
    EXPECT_EQ(update(url_of(n), R"("replace":{"location":["geo:1,2"]})").status, 204);
}

TEST_F(MicropubActions, UpdatesOfDeletedOrHugeNotesAreRefused) {
    auto n = created(post(kForm, "content=Small"));
    const std::string huge(2 * 1024 * 1024, 'x');
    expect_error(update(url_of(n), R"("replace":{"content":[")" + huge + "\"]}"), 413, "request_too_large");
    ASSERT_TRUE(harness->svc().soft_delete(n.id));
    expect_error(update(url_of(n), R"("replace":{"content":["x"]})"), 400, "invalid_request");
    EXPECT_EQ(content_of(reload(n)), "Small");
}

TEST_F(MicropubActions, SourceListsAndCategoryQueries) {
    auto a = created(post(kForm, "content=First&category=Cats"));
    harness->clock.advance(std::chrono::seconds(5));
    auto b = created(post(kForm, "content=Second&category=cats&category=dogs&post-status=draft"));
    auto one = get("q=source&url=" + percent_encode(url_of(a)));
    EXPECT_EQ(one.body["properties"]["category"], (nlohmann::json{"Cats"}));
    auto list = get("q=source&limit=1");
    ASSERT_EQ(list.status, 200) << list.body.dump();
    ASSERT_EQ(list.body["items"].size(), 1u);
    EXPECT_EQ(list.body["items"][0]["properties"]["url"][0], url_of(b));  // newest first, drafts included
    EXPECT_EQ(list.body["items"][0]["properties"]["post-status"][0], "draft");
    auto next = get("q=source&limit=1&offset=1&properties[]=url");
    EXPECT_EQ(next.body["items"][0]["properties"], (nlohmann::json{{"url", {url_of(a)}}}));
    expect_error(get("q=source&limit=0"), 400, "invalid_request");
    expect_error(get("q=source&limit=abc"), 400, "invalid_request");
    EXPECT_EQ(get("q=category").body["categories"], (nlohmann::json{"Cats", "dogs"}));
    EXPECT_EQ(get("q=category&filter=DO").body["categories"], (nlohmann::json{"dogs"}));
}

TEST_F(MicropubServiceTest, NoContentIs400) {
    auto r = post(kForm, "h=entry&category=x");
    expect_error(r, 400, "invalid_request");
    EXPECT_EQ(note_count(), 0);
}

TEST_F(MicropubServiceTest, BadPublishedIs400NamingTheValue) {
    auto r = post(kForm, "content=x&published=last+tuesday");
    expect_error(r, 400, "invalid_request");
    EXPECT_NE(r.body["error_description"].get<std::string>().find("last tuesday"), std::string::npos);
}

TEST_F(MicropubServiceTest, OtherPostTypesAre400) {
    expect_error(post(kForm, "h=event&name=Party"), 400, "invalid_request");
    expect_error(post(kJson, R"({"type":["h-event"],"properties":{"name":["Party"]}})"), 400, "invalid_request");
}

TEST_F(MicropubServiceTest, OversizedNoteIs413) {
    start({.max_content_bytes = 16});
    auto r = post(kForm, "content=" + std::string(17, 'a'));
    expect_error(r, 413, "request_too_large");
}

// ---------------------------------------------------------------------------
// Queries

TEST_F(MicropubServiceTest, QueryConfig) {
    auto r = get("q=config");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body["syndicate-to"], nlohmann::json::array());
    EXPECT_EQ(r.body["q"], (nlohmann::json{"config", "source", "syndicate-to", "category"}));
    ASSERT_TRUE(r.body["post-types"].is_array());
    EXPECT_EQ(r.body["post-types"][0]["type"], "note");
    EXPECT_FALSE(r.body.contains("media-endpoint"));
    EXPECT_EQ(web::micropub_response(r).header("Content-Type").value_or(""), "application/json; charset=utf-8");
}

TEST_F(MicropubServiceTest, QuerySyndicateTo) {
    auto r = get("q=syndicate-to");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, (nlohmann::json{{"syndicate-to", nlohmann::json::array()}}));
}

TEST_F(MicropubServiceTest, QueriesNeedAValidToken) {
    expect_error(get("q=config", std::nullopt), 401, "unauthorized");
    auto via_query = get(std::string("q=config&access_token=") + kServiceToken, std::nullopt);
    EXPECT_EQ(via_query.status, 200);
    expect_error(get(std::string("q=config&access_token=") + kServiceToken), 400, "invalid_request");
    endpoint_answers(200, R"({"me":"https://intruder.example/"})");
    verifier->clear_cache();
    expect_error(get("q=config"), 403, "forbidden");
}

TEST_F(MicropubServiceTest, QueriesNeedNoScope) {
    endpoint_answers(200, R"({"me":"https://me.example/","scope":"read"})");
    EXPECT_EQ(get("q=config").status, 200);
}

TEST_F(MicropubServiceTest, UnknownOrMissingQueryIs400) {
    expect_error(get("q=nonsense"), 400, "invalid_request");
    expect_error(get(""), 400, "invalid_request");
    expect_error(get("q=%zz"), 400, "invalid_request");
}

TEST_F(MicropubServiceTest, QuerySourceOfAPost) {
    auto n = created(post(kForm, "name=The+Title&content=Body+with+*markdown*.&published=2024-03-04T05%3A06%3A07Z"));
    auto r = get("q=source&url=https%3A%2F%2Fsite.example%2Fnote%2F" + n.slug);
    ASSERT_EQ(r.status, 200) << r.body.dump();
    EXPECT_EQ(r.body["type"], nlohmann::json{"h-entry"});
    const auto& p = r.body["properties"];
    EXPECT_EQ(p["content"], nlohmann::json{"Body with *markdown*."});
    EXPECT_EQ(p["name"], nlohmann::json{"The Title"});
    EXPECT_EQ(p["published"], nlohmann::json{"2024-03-04T05:06:07+00:00"});
    EXPECT_EQ(p["url"], nlohmann::json{"https://site.example/note/" + n.slug});
    EXPECT_EQ(p["post-status"], nlohmann::json{"published"});
}

TEST_F(MicropubServiceTest, QuerySourceOfADraftWithoutName) {
    auto n = created(post(kForm, "content=Just+a+draft&post-status=draft"));
    auto r = get("q=source&url=https://site.example/note/" + n.slug);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body["properties"]["post-status"], nlohmann::json{"draft"});
    EXPECT_EQ(r.body["properties"]["content"], nlohmann::json{"Just a draft"});
    EXPECT_FALSE(r.body["properties"].contains("name"));
}

TEST_F(MicropubServiceTest, QuerySourceHonoursProperties) {
    auto n = created(post(kForm, "content=Selective"));
    auto r = get("q=source&properties[]=content&properties[]=post-status&properties[]=nope&url=https://site.example/note/" +
                 n.slug);
    ASSERT_EQ(r.status, 200);
    EXPECT_FALSE(r.body.contains("type"));
    EXPECT_EQ(r.body["properties"],
              (nlohmann::json{{"content", {"Selective"}}, {"post-status", {"published"}}}));
    auto one = get("q=source&properties=url&url=https://site.example/note/" + n.slug);
    EXPECT_EQ(one.body["properties"], (nlohmann::json{{"url", {"https://site.example/note/" + n.slug}}}));
}

TEST_F(MicropubServiceTest, QuerySourceOfUnknownUrlsIs400) {
    auto n = created(post(kForm, "content=Exists"));
    for (std::string url : {std::string("https://site.example/note/missing"), std::string("https://other.example/note/") + n.slug,
                            std::string("https://site.example/") + n.slug, std::string("https://site.example/note/"),
                            std::string("https://site.example/note/a/b"), std::string("")}) {
        expect_error(get("q=source&url=" + url), 400, "invalid_request");
    }
    EXPECT_EQ(get("q=source").status, 200);  // without url: the list of posts
}

TEST_F(MicropubServiceTest, QuerySourceOfADeletedPostIs400) {
    auto n = created(post(kForm, "content=Soon+gone"));
    ASSERT_TRUE(harness->svc().soft_delete(n.id));
    expect_error(get("q=source&url=https://site.example/note/" + n.slug), 400, "invalid_request");
}

// ---------------------------------------------------------------------------
// Through the route table and the gate

struct MicropubRouteTest : MicropubServiceTest {
    void SetUp() override {
        MicropubServiceTest::SetUp();
        services = std::make_unique<testing::SiteServices>(*harness);
        site = services->site(config);
        site->micropub = service.get();
        app = std::make_unique<web::App>(site);
    }

    http::Response send(http::Method method, const std::string& target, std::vector<http::Header> headers,
                        std::string body = {}) {
        strings_.push_back(target);
        const std::string& t = strings_.back();
        http::Request req;
        req.method = method;
        req.method_text = http::method_name(method);
        req.target = t;
        const size_t q = t.find('?');
        req.raw_path = std::string_view(t).substr(0, q);
        req.path = std::string(req.raw_path);
        if (q != std::string::npos) req.query = std::string_view(t).substr(q + 1);
        req.headers = std::move(headers);
        req.body = std::move(body);
        (void)app->prepare(req);
        return app->handle(req);
    }

    std::unique_ptr<testing::SiteServices> services;
    std::shared_ptr<web::Site> site;
    std::unique_ptr<web::App> app;
    std::deque<std::string> strings_;
};

TEST_F(MicropubRouteTest, RoutesAreBearerAndBlocking) {
    int found = 0;
    for (const auto& route : app->router().routes()) {
        if (route.pattern != "/micropub") continue;
        EXPECT_EQ(web::access_of(route), web::Access::bearer);
        EXPECT_EQ(route.execution, http::Execution::blocking);
        ++found;
    }
    EXPECT_EQ(found, 2);
}

TEST_F(MicropubRouteTest, CreateIsExemptFromTheCrossSiteCheckAndInvalidatesPages) {
    const uint64_t before = services->pages.generation();
    auto res = send(http::Method::post, "/micropub",
                    {{"Authorization", kBearer}, {"Content-Type", kForm}, {"Origin", "https://quill.example"},
                     {"Sec-Fetch-Site", "cross-site"}},
                    "h=entry&content=From+a+client");
    EXPECT_EQ(res.status, 201) << res.body;
    EXPECT_EQ(res.header("Location").value_or(""), "https://site.example/note/from-a-client");
    EXPECT_GT(services->pages.generation(), before);
}

TEST_F(MicropubRouteTest, FailedCreatesLeaveThePageCacheAlone) {
    const uint64_t before = services->pages.generation();
    auto res = send(http::Method::post, "/micropub", {{"Content-Type", kForm}}, "content=x");
    EXPECT_EQ(res.status, 401);
    EXPECT_EQ(services->pages.generation(), before);
}

TEST_F(MicropubRouteTest, QueryThroughTheApp) {
    auto res = send(http::Method::get, "/micropub?q=config", {{"Authorization", kBearer}});
    EXPECT_EQ(res.status, 200);
    auto body = nlohmann::json::parse(res.body);
    EXPECT_TRUE(body.contains("syndicate-to"));
}

TEST_F(MicropubRouteTest, WrongMethodIs405JsonWithAllow) {
    auto res = send(http::Method::put, "/micropub", {});
    EXPECT_EQ(res.status, 405);
    EXPECT_EQ(res.header("Allow").value_or(""), "GET, HEAD, POST");
    EXPECT_EQ(nlohmann::json::parse(res.body)["error"], "method_not_allowed");
}

TEST_F(MicropubRouteTest, WithoutAServiceTheEndpointSays503) {
    site->micropub = nullptr;
    auto res = send(http::Method::get, "/micropub?q=config", {{"Authorization", kBearer}});
    EXPECT_EQ(res.status, 503);
    EXPECT_EQ(nlohmann::json::parse(res.body)["error"], "temporarily_unavailable");
}

}  // namespace
}  // namespace starpunk::micropub
