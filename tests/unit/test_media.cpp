// media/: sniffing, processing (libvips) and storing images (issue 14).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "media/image_type.hpp"
#include "media/media_service.hpp"
#include "media/processor.hpp"
#include "storage/migrations.hpp"
#include "storage/pool.hpp"
#include "support/images.hpp"
#include "support/temp_dir.hpp"
#include "util/crypto.hpp"

namespace starpunk {
namespace {

using media::ImageType;
using testing::make_image;
using testing::temp_file_with;

TEST(MediaSniff, RecognisesEachTypeByItsBytesOnly) {
    EXPECT_EQ(media::sniff(make_image("jpg", 8, 8)), ImageType::jpeg);
    EXPECT_EQ(media::sniff(make_image("png", 8, 8)), ImageType::png);
    EXPECT_EQ(media::sniff(make_image("gif", 8, 8)), ImageType::gif);
    EXPECT_EQ(media::sniff(make_image("webp", 8, 8)), ImageType::webp);
    EXPECT_FALSE(media::sniff("<svg xmlns=\"http://www.w3.org/2000/svg\"/>"));
    EXPECT_FALSE(media::sniff("<!DOCTYPE html><html>"));
    EXPECT_FALSE(media::sniff(std::string_view("RIFF\x10\0\0\0WAVEfmt ", 16)));  // RIFF, but a WAVE
    EXPECT_FALSE(media::sniff(""));
}

TEST(MediaPath, OnlyNamesStoreMakesAreMediaPaths) {
    const std::string h(64, 'a');
    EXPECT_TRUE(media::is_media_path("2026/12/" + h + ".jpg"));
    EXPECT_TRUE(media::is_media_path("2026/12/" + h + "-640.webp"));
    EXPECT_FALSE(media::is_media_path("2026/12/../../starpunk.db"));
    EXPECT_FALSE(media::is_media_path("../12/" + h + ".jpg"));
    EXPECT_FALSE(media::is_media_path("2026/12/" + h + ".svg"));
    EXPECT_FALSE(media::is_media_path("2026/12/" + h + ".jpg.tmp"));
    EXPECT_FALSE(media::is_media_path("2026/12/" + std::string(64, 'A') + ".jpg"));
    EXPECT_FALSE(media::is_media_path("2026/12/" + h + "-.jpg"));
    EXPECT_FALSE(media::is_media_path("2026/12//" + h + ".jpg"));
}

class MediaProcess : public ::testing::Test {
protected:
    testing::TempDir dir;
};

TEST_F(MediaProcess, EachTypeRoundTripsWithVariantsNarrowerThanTheImage) {
    for (std::string_view fmt : {"jpg", "png", "gif", "webp"}) {
        auto file = temp_file_with(dir.path(), make_image(fmt, 1500, 1000));
        auto out = media::process(*file, {});
        ASSERT_TRUE(out) << fmt << ": " << out.error().message;
        EXPECT_EQ(media::extension(out->type), fmt);
        EXPECT_EQ(media::sniff(out->original.bytes), out->type);
        EXPECT_EQ(out->original.width, 1500);
        EXPECT_EQ(out->original.height, 1000);
        ASSERT_EQ(out->variants.size(), 2u) << fmt;
        EXPECT_EQ(out->variants[0].width, 640);
        EXPECT_EQ(out->variants[0].height, 427);
        EXPECT_EQ(out->variants[1].width, 1280);
        auto dims = media::probe(out->variants[1].bytes);
        ASSERT_TRUE(dims) << dims.error().message;
        EXPECT_EQ(dims->width, 1280);
    }
}

// A HEIC or AVIF file made by Debian's `vips` command in a child process (its
// encoders — x265, aom — stay out of this sanitizer-instrumented process).
std::string heif_fixture(const std::filesystem::path& dir, std::string_view ext, int width, int height) {
    const auto path = dir / ("fixture." + std::string(ext));
    const std::string cmd = "vips gaussnoise '" + path.string() + "' " + std::to_string(width) + " " +
                            std::to_string(height) + " --mean 128 --sigma 30 >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) return {};
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_F(MediaProcess, HeicAndAvifAreAcceptedAndStoredAsJpeg) {
    for (std::string_view ext : {"heic", "avif"}) {
        const std::string bytes = heif_fixture(dir.path(), ext, 1400, 900);
        ASSERT_FALSE(bytes.empty()) << "vips could not write " << ext;
        EXPECT_EQ(media::sniff(bytes), ImageType::heif) << ext;
        auto file = temp_file_with(dir.path(), bytes);
        auto out = media::process(*file, {});
        ASSERT_TRUE(out) << ext << ": " << out.error().message;
        EXPECT_EQ(out->type, ImageType::jpeg);
        EXPECT_EQ(media::sniff(out->original.bytes), ImageType::jpeg);
        EXPECT_EQ(out->original.width, 1400);
        EXPECT_EQ(out->original.height, 900);
        ASSERT_EQ(out->variants.size(), 2u);
        EXPECT_EQ(media::sniff(out->variants[0].bytes), ImageType::jpeg);
        EXPECT_EQ(out->variants[0].width, 640);
    }
    // An ISO media file of another kind (an MP4 video) is not an image.
    EXPECT_FALSE(media::sniff(std::string_view("\0\0\0\x18" "ftypmp42\0\0\0\0", 16)));
}

TEST_F(MediaProcess, SmallImagesGetNoVariants) {
    auto file = temp_file_with(dir.path(), make_image("png", 600, 400));
    auto out = media::process(*file, {});
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_TRUE(out->variants.empty());
}

TEST_F(MediaProcess, ExifOrientationIsAppliedAndMetadataStripped) {
    const std::string jpeg = make_image("jpg", 200, 100, 6);  // 6: rotate 90° clockwise to view
    ASSERT_NE(jpeg.find("Exif"), std::string::npos);          // the fixture does carry EXIF
    auto file = temp_file_with(dir.path(), jpeg);
    auto out = media::process(*file, {});
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(out->original.width, 100);
    EXPECT_EQ(out->original.height, 200);
    EXPECT_EQ(out->original.bytes.find("Exif"), std::string::npos);
    EXPECT_EQ(out->original.bytes.find("http://ns.adobe.com/xap"), std::string::npos);
}

TEST_F(MediaProcess, OtherTypesAre415AndBrokenImages400) {
    auto svg = temp_file_with(dir.path(), "<svg xmlns=\"http://www.w3.org/2000/svg\"><script/></svg>");
    auto r = media::process(*svg, {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::unsupported);

    std::string jpeg = make_image("jpg", 64, 64);
    auto truncated = temp_file_with(dir.path(), jpeg.substr(0, 40));
    r = media::process(*truncated, {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
}

TEST_F(MediaProcess, ThePixelLimitIsCheckedOnTheHeader) {
    auto file = temp_file_with(dir.path(), make_image("png", 300, 200));
    media::ProcessLimits limits;
    limits.max_pixels = 300 * 200 - 1;
    auto r = media::process(*file, limits);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::too_large);
    EXPECT_NE(r.error().message.find("300×200"), std::string::npos) << r.error().message;
    limits.max_pixels = 300 * 200;
    EXPECT_TRUE(media::process(*file, limits));
}

class MediaStore : public ::testing::Test {
protected:
    void SetUp() override {
        auto m = storage::run_migrations(dir / "starpunk.db");
        ASSERT_TRUE(m) << m.error().message;
        storage::ConnectionPool::Options po;
        po.path = dir / "starpunk.db";
        po.size = 3;
        auto p = storage::ConnectionPool::open(po);
        ASSERT_TRUE(p) << p.error().message;
        pool = *p;
        std::filesystem::create_directories(dir / "uploads");
        service = std::make_unique<media::MediaService>(
            storage::posix_fs(), pool, clock, media::MediaService::Options{dir / "media", dir / "uploads", {}});
    }
    std::string read(const std::string& rel) {
        auto r = storage::posix_fs().read_file(dir / ("media/" + rel));
        return r ? *r : std::string();
    }

    testing::TempDir dir;
    FakeClock clock{Timestamp{} + std::chrono::seconds(1796601600)};  // 2026-12-06
    std::shared_ptr<storage::ConnectionPool> pool;
    std::unique_ptr<media::MediaService> service;
};

TEST_F(MediaStore, FilesAreContentAddressedUnderYearAndMonth) {
    auto file = temp_file_with(dir / "uploads", make_image("jpg", 1400, 700));
    auto item = service->store(*file);
    ASSERT_TRUE(item) << item.error().message;
    EXPECT_EQ(item->type, "image/jpeg");
    EXPECT_EQ(item->file.path, "2026/12/" + item->file.hash + ".jpg");
    EXPECT_EQ(sha256_hex(read(item->file.path)), item->file.hash);
    ASSERT_EQ(item->variants.size(), 2u);
    EXPECT_EQ(item->variants[0].path, "2026/12/" + item->file.hash + "-640.jpg");
    EXPECT_EQ(sha256_hex(read(item->variants[1].path)), item->variants[1].hash);
    EXPECT_TRUE(testing::temp_files(dir / "media").empty());

    auto found = service->find_by_path(item->variants[0].path);
    ASSERT_TRUE(found && *found);
    EXPECT_EQ((*found)->id, item->id);
    auto check = service->check();
    ASSERT_TRUE(check);
    EXPECT_EQ(check->files_checked, 3u);
    EXPECT_TRUE(check->problems.empty());
    EXPECT_TRUE(check->orphans.empty());
}

TEST_F(MediaStore, TheSameImageTwiceIsOneRow) {
    const std::string png = make_image("png", 100, 80);
    auto a = service->store(*temp_file_with(dir / "uploads", png));
    auto b = service->store(*temp_file_with(dir / "uploads", png));
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->id, b->id);
    auto all = service->list(10);
    ASSERT_TRUE(all);
    EXPECT_EQ(all->size(), 1u);
}

TEST_F(MediaStore, ARefusedUploadLeavesNoFileAndNoRow) {
    auto r = service->store(*temp_file_with(dir / "uploads", "<html><body>hi</body></html>"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::unsupported);
    EXPECT_FALSE(std::filesystem::exists(dir / "media"));
    auto all = service->list(10);
    ASSERT_TRUE(all);
    EXPECT_TRUE(all->empty());
}

TEST_F(MediaStore, CheckFindsAlteredMissingAndOrphanFiles) {
    auto item = service->store(*temp_file_with(dir / "uploads", make_image("jpg", 800, 600)));
    ASSERT_TRUE(item) << item.error().message;
    {
        std::FILE* f = std::fopen((dir / ("media/" + item->file.path)).c_str(), "ab");
        std::fputs("x", f);
        std::fclose(f);
    }
    std::filesystem::remove(dir / ("media/" + item->variants[0].path));
    std::filesystem::create_directories(dir / "media/2026/11");
    const std::string orphan = "2026/11/" + std::string(64, 'b') + ".png";
    std::FILE* f = std::fopen((dir / ("media/" + orphan)).c_str(), "wb");
    std::fputs("png?", f);
    std::fclose(f);
    auto check = service->check();
    ASSERT_TRUE(check);
    ASSERT_EQ(check->problems.size(), 2u);
    EXPECT_NE(check->problems[0].find(item->file.path), std::string::npos);
    EXPECT_NE(check->problems[0].find("does not match"), std::string::npos);
    EXPECT_NE(check->problems[1].find(item->variants[0].path), std::string::npos);
    ASSERT_EQ(check->orphans.size(), 1u);
    EXPECT_EQ(check->orphans[0], orphan);
}

TEST_F(MediaStore, ConcurrentUploadsOfDifferentImagesAllLand) {
    std::vector<std::thread> threads;
    std::vector<bool> ok(4, false);
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back([&, i] {
            auto r = service->store(*temp_file_with(dir / "uploads", make_image("png", 50 + i, 40)));
            ok[static_cast<size_t>(i)] = r.ok();
        });
    }
    for (auto& t : threads) t.join();
    for (bool b : ok) EXPECT_TRUE(b);
    auto all = service->list(10);
    ASSERT_TRUE(all);
    EXPECT_EQ(all->size(), 4u);
}

TEST_F(MediaStore, StartUpRemovesStaleTempFiles) {
    std::filesystem::create_directories(dir / "media/2026/12");
    std::FILE* f = std::fopen((dir / "media/2026/12/x.jpg.abc.tmp").c_str(), "wb");
    std::fclose(f);
    f = std::fopen((dir / "uploads/upload-abcdef").c_str(), "wb");
    std::fclose(f);
    auto removed = service->remove_stale_temp_files();
    ASSERT_TRUE(removed) << removed.error().message;
    EXPECT_EQ(*removed, 2u);
    EXPECT_FALSE(std::filesystem::exists(dir / "uploads/upload-abcdef"));
}

}  // namespace
}  // namespace starpunk
