// Micropub `photo` (issue 14, part 2): parsing (micropub/request.hpp), the
// create mapping and the q=source / update mapping (micropub/post_model.hpp).
#include <gtest/gtest.h>

#include <string>

#include "micropub/post_model.hpp"
#include "micropub/request.hpp"

namespace starpunk::micropub {
namespace {

constexpr std::string_view kSite = "https://site.example";

PostRequest parse_json(const std::string& body) {
    auto r = parse_post("application/json", body);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : PostRequest{};
}

TEST(MicropubPhotos, JsonValueWithAltAndPlainUrlsBecomePhotosInOrder) {
    auto req = parse_json(R"({"type":["h-entry"],"properties":{"content":["hi"],
        "photo":[{"value":"https://a.example/1.jpg","alt":"One"},"https://a.example/2.jpg"]}})");
    auto create = build_create(req);
    ASSERT_TRUE(create) << create.error().message;
    const auto& photos = create->note.photos;
    ASSERT_EQ(photos.size(), 2u);
    EXPECT_EQ(photos[0], (notes::NewPhoto{std::nullopt, "https://a.example/1.jpg", "One"}));
    EXPECT_EQ(photos[1], (notes::NewPhoto{std::nullopt, "https://a.example/2.jpg", ""}));
}

TEST(MicropubPhotos, FormPhotoUrlsToo) {
    auto req = parse_post("application/x-www-form-urlencoded",
                          "h=entry&content=hi&photo[]=https%3A%2F%2Fa.example%2F1.jpg&photo[]=http%3A%2F%2Fb.example%2F2.png");
    ASSERT_TRUE(req);
    auto create = build_create(*req);
    ASSERT_TRUE(create);
    ASSERT_EQ(create->note.photos.size(), 2u);
    EXPECT_EQ(create->note.photos[1].url, "http://b.example/2.png");
}

TEST(MicropubPhotos, NonHttpSchemesAreInvalid) {
    for (const char* url : {"javascript:alert(1)", "data:image/png;base64,AA", "file:///etc/passwd", "/relative.jpg"}) {
        auto req = parse_json(std::string(R"({"type":["h-entry"],"properties":{"content":["hi"],"photo":[")") + url +
                              "\"]}}");
        auto create = build_create(req);
        ASSERT_FALSE(create) << url;
        EXPECT_EQ(create.error().code, ErrorCode::invalid_input);
    }
}

StoredPost post_with_photos() {
    StoredPost post;
    post.note.slug = "n";
    post.note.published = true;
    post.content = "Body";
    notes::NotePhoto stored;
    stored.media_id = 4;
    stored.url = "/media/2026/12/abc.jpg";
    stored.alt = "Stored one";
    notes::NotePhoto external;
    external.url = "https://a.example/x.jpg";
    post.photos = {stored, external};
    return post;
}

TEST(MicropubPhotos, SourceGivesAbsoluteUrlsAndAltObjects) {
    auto props = post_properties(post_with_photos(), kSite);
    ASSERT_TRUE(props.contains("photo"));
    EXPECT_EQ(props["photo"], nlohmann::json::parse(R"([{"value":"https://site.example/media/2026/12/abc.jpg",
        "alt":"Stored one"},"https://a.example/x.jpg"])"));
    StoredPost none;
    none.content = "x";
    EXPECT_FALSE(post_properties(none, kSite).contains("photo"));
}

UpdateOps ops_of(const std::string& json) {
    auto req = parse_json(R"({"action":"update","url":"https://site.example/note/n",)" + json + "}");
    EXPECT_TRUE(req.update);
    return req.update ? *req.update : UpdateOps{};
}

TEST(MicropubPhotos, UpdateKeepsStoredImagesAndAddsUrls) {
    auto change = build_update(post_with_photos(),
                               ops_of(R"("add":{"photo":[{"value":"https://b.example/new.jpg","alt":"New"}]})"), kSite);
    ASSERT_TRUE(change) << change.error().message;
    ASSERT_TRUE(change->photos);
    ASSERT_EQ(change->photos->size(), 3u);
    EXPECT_EQ((*change->photos)[0], (notes::NewPhoto{4, "/media/2026/12/abc.jpg", "Stored one"}));
    EXPECT_EQ((*change->photos)[2], (notes::NewPhoto{std::nullopt, "https://b.example/new.jpg", "New"}));
    EXPECT_FALSE(change->content);  // photos alone never rewrite the file
}

TEST(MicropubPhotos, UpdateDeletesByUrlAndReplaces) {
    auto one = build_update(post_with_photos(),
                            ops_of(R"("delete":{"photo":["https://site.example/media/2026/12/abc.jpg"]})"), kSite);
    ASSERT_TRUE(one && one->photos);
    ASSERT_EQ(one->photos->size(), 1u);
    EXPECT_EQ((*one->photos)[0].url, "https://a.example/x.jpg");

    auto all = build_update(post_with_photos(), ops_of(R"("delete":["photo"])"), kSite);
    ASSERT_TRUE(all && all->photos);
    EXPECT_TRUE(all->photos->empty());

    auto bad = build_update(post_with_photos(), ops_of(R"j("replace":{"photo":["javascript:alert(1)"]})j"), kSite);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, ErrorCode::invalid_input);

    auto other = build_update(post_with_photos(), ops_of(R"("replace":{"category":["x"]})"), kSite);
    ASSERT_TRUE(other);
    EXPECT_FALSE(other->photos);  // untouched
}

}  // namespace
}  // namespace starpunk::micropub
