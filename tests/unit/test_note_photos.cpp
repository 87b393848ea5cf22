// Photos on notes (notes/note_photos.hpp, migration 013): validation, and the
// NotesService writes and reads of note_photos in the note's transaction.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "media/media_service.hpp"
#include "notes/note_photos.hpp"
#include "support/images.hpp"
#include "support/notes_harness.hpp"

namespace starpunk::notes {
namespace {

using testing::NotesHarness;

TEST(PhotoUrl, OnlyHttpAndHttpsWithAHost) {
    EXPECT_TRUE(is_external_photo_url("https://example.com/a.jpg"));
    EXPECT_TRUE(is_external_photo_url("HTTP://example.com"));
    EXPECT_FALSE(is_external_photo_url("javascript:alert(1)"));
    EXPECT_FALSE(is_external_photo_url("data:image/png;base64,AAAA"));
    EXPECT_FALSE(is_external_photo_url("file:///etc/passwd"));
    EXPECT_FALSE(is_external_photo_url("ftp://example.com/a.jpg"));
    EXPECT_FALSE(is_external_photo_url("https:///a.jpg"));
    EXPECT_FALSE(is_external_photo_url("https://example.com/a b.jpg"));
    EXPECT_FALSE(is_external_photo_url("https://user@example.com/a.jpg"));
    EXPECT_FALSE(is_external_photo_url("/media/2026/12/x.jpg"));
    EXPECT_FALSE(is_external_photo_url("https://example.com/a.jpg\"onerror=\"alert(1)"));
    EXPECT_FALSE(is_external_photo_url("https://example.com/<script>"));
    EXPECT_FALSE(is_external_photo_url("https://example.com/" + std::string(kPhotoUrlMaxBytes, 'a')));
    EXPECT_TRUE(is_external_photo_url("https://example.com/a%20b.jpg?x=1&y=2#f"));
}

TEST(ValidatePhotos, TidiesAltAndRefusesBadOnes) {
    auto ok = validate_photos({NewPhoto{std::nullopt, "https://example.com/a.jpg", "  a\ncat\x01 "},
                               NewPhoto{7, "/media/2026/12/x.jpg", ""}});
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ((*ok)[0].alt, "a cat");
    EXPECT_FALSE(validate_photos({NewPhoto{std::nullopt, "javascript:x", ""}}));
    EXPECT_FALSE(validate_photos({NewPhoto{7, "https://example.com/a.jpg", ""}}));  // stored images are /media/ paths
    std::vector<NewPhoto> many(kMaxPhotosPerNote + 1, NewPhoto{std::nullopt, "https://example.com/a.jpg", ""});
    EXPECT_FALSE(validate_photos(many));
    auto long_alt = validate_photos({NewPhoto{std::nullopt, "https://e.com/a", std::string(3000, 'x')}});
    ASSERT_TRUE(long_alt);
    EXPECT_EQ((*long_alt)[0].alt.size(), kPhotoAltMaxChars);
}

struct NotePhotos : ::testing::Test {
    void SetUp() override {
        ASSERT_EQ(h.start(), "");
        std::filesystem::create_directories(h.dir / "uploads");
        store_ = std::make_unique<media::MediaService>(
            storage::posix_fs(), h.pool, h.clock, media::MediaService::Options{h.dir / "media", h.dir / "uploads", {}});
    }
    media::MediaItem stored(int width, int height) {
        auto item = store_->store(*testing::temp_file_with(h.dir / "uploads", testing::make_image("jpg", width, height)));
        EXPECT_TRUE(item) << item.error().message;
        return item ? *item : media::MediaItem{};
    }
    NotesHarness h;
    std::unique_ptr<media::MediaService> store_;
};

TEST_F(NotePhotos, CreateStoresPhotosInOrderWithMediaDetails) {
    auto big = stored(1400, 700);
    NewNote n;
    n.content = "Two photos";
    n.photos = {NewPhoto{big.id, "/media/" + big.file.path, "A wide one"},
                NewPhoto{std::nullopt, "https://example.com/b.jpg", "Elsewhere"}};
    auto note = h.svc().create(n);
    ASSERT_TRUE(note) << note.error().message;
    auto photos = h.svc().photos_of(note->id);
    ASSERT_TRUE(photos) << photos.error().message;
    ASSERT_EQ(photos->size(), 2u);
    const NotePhoto& a = (*photos)[0];
    EXPECT_EQ(a.media_id, big.id);
    EXPECT_EQ(a.url, "/media/" + big.file.path);
    EXPECT_EQ(a.alt, "A wide one");
    EXPECT_EQ(a.type, "image/jpeg");
    EXPECT_EQ(a.width, 1400);
    EXPECT_EQ(a.height, 700);
    EXPECT_EQ(a.bytes, big.file.bytes);
    ASSERT_EQ(a.variants.size(), 2u);
    EXPECT_EQ(a.variants[0].width, 640);
    EXPECT_EQ(a.variants[0].url, "/media/" + big.variants[0].path);
    EXPECT_EQ(a.variants[1].width, 1280);
    const NotePhoto& b = (*photos)[1];
    EXPECT_FALSE(b.stored());
    EXPECT_EQ(b.url, "https://example.com/b.jpg");
    EXPECT_EQ(b.alt, "Elsewhere");
    EXPECT_TRUE(b.variants.empty());
}

TEST_F(NotePhotos, ABadPhotoRefusesTheWholeCreate) {
    NewNote n;
    n.content = "Nope";
    n.photos = {NewPhoto{std::nullopt, "javascript:alert(1)", ""}};
    auto r = h.svc().create(n);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
    n.photos = {NewPhoto{999, "/media/2026/12/none.jpg", ""}};  // no such media row
    r = h.svc().create(n);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
    auto page = h.svc().list(Visibility::all, 10, 0);
    ASSERT_TRUE(page);
    EXPECT_EQ(page->total, 0);  // nothing half-created
}

TEST_F(NotePhotos, UpdateReplacesTheListAndPublishesAChange) {
    NewNote n;
    n.content = "Photo note";
    n.photos = {NewPhoto{std::nullopt, "https://example.com/1.jpg", "one"}};
    auto note = h.svc().create(n);
    ASSERT_TRUE(note);
    const auto before = h.svc().changes().generation();
    NoteChange change;
    change.photos = std::vector<NewPhoto>{NewPhoto{std::nullopt, "https://example.com/2.jpg", "two"},
                                          NewPhoto{std::nullopt, "https://example.com/3.jpg", "three"}};
    ASSERT_TRUE(h.svc().update(note->id, change));
    EXPECT_GT(h.svc().changes().generation(), before);
    auto photos = h.svc().photos_of(note->id);
    ASSERT_TRUE(photos);
    ASSERT_EQ(photos->size(), 2u);
    EXPECT_EQ((*photos)[0].alt, "two");
    EXPECT_EQ((*photos)[1].url, "https://example.com/3.jpg");

    NoteChange other;  // an update without photos keeps them
    other.published = false;
    ASSERT_TRUE(h.svc().update(note->id, other));
    EXPECT_EQ(h.svc().photos_of(note->id)->size(), 2u);

    NoteChange none;
    none.photos = std::vector<NewPhoto>{};
    ASSERT_TRUE(h.svc().update(note->id, none));
    EXPECT_TRUE(h.svc().photos_of(note->id)->empty());
}

TEST_F(NotePhotos, ManyNotesAtOnceAndWhoUsesAMediaItem) {
    auto img = stored(300, 200);
    NewNote a;
    a.content = "First";
    a.photos = {NewPhoto{img.id, "/media/" + img.file.path, ""}};
    auto first = h.svc().create(a);
    h.clock.advance(std::chrono::seconds(1));
    NewNote b;
    b.content = "Second";
    b.photos = a.photos;
    auto second = h.svc().create(b);
    NewNote c;
    c.content = "No photos";
    auto third = h.svc().create(c);
    ASSERT_TRUE(first && second && third);
    auto all = h.svc().photos_of(std::vector<Note>{*first, *second, *third});
    ASSERT_TRUE(all);
    EXPECT_EQ(all->size(), 2u);
    EXPECT_FALSE(all->contains(third->id));
    EXPECT_TRUE(all->at(first->id)[0].variants.empty());  // 300 px: no narrower copies

    auto users = h.svc().notes_using_media({img.id, 12345});
    ASSERT_TRUE(users);
    ASSERT_EQ(users->size(), 1u);
    ASSERT_EQ(users->at(img.id).size(), 2u);
    EXPECT_EQ(users->at(img.id)[0].id, second->id);  // newest first

    ASSERT_TRUE(h.svc().soft_delete(first->id));
    ASSERT_TRUE(h.svc().purge(first->id));
    users = h.svc().notes_using_media({img.id});
    ASSERT_TRUE(users);
    EXPECT_EQ(users->at(img.id).size(), 1u);  // a purged note's photo rows go with it
}

}  // namespace
}  // namespace starpunk::notes
