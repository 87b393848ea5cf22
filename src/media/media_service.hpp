// Stored images (issue 14): processing an upload, the files under
// DATA_PATH/media/YYYY/MM/ and the `media` / `media_variants` rows.
//
// Invariants of store():
//   1. Nothing is written before the image has been sniffed, checked against
//      the pixel limit and processed (media/processor.hpp): a refused upload
//      leaves no file and no row.
//   2. Files are named by content: <sha256 of the stored bytes>.<ext> for the
//      full-size image, <that hash>-<width>.<ext> for each narrower variant;
//      YYYY/MM come from the upload's time (UTC). Each file goes through THE
//      atomic-write helper (storage/atomic_write.hpp: temp, fsync, rename,
//      fsync dir), every variant before the full-size image.
//   3. Then one transaction inserts the media row and its variant rows. A
//      crash before the commit leaves files without a row — orphans, which
//      `starpunk check` lists and nothing serves as a photo — never a row
//      whose file is missing or incomplete.
//   4. The same image stored twice (same bytes after processing) is one row:
//      the second store() returns the first row and writes nothing.
// check() re-hashes every file against its row and lists files under the
// media directory that no row names (orphans); remove_stale_temp_files() is
// for start-up (atomic-write leftovers and upload temp files of a process
// that was killed).
//
// Errors are values: those of process() (unsupported → 415, too_large → 413,
// invalid_input → 400), io when a file cannot be written, and SQLite's.
// Thread-safety: every method may be called from several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "media/processor.hpp"
#include "storage/fs.hpp"
#include "storage/pool.hpp"
#include "util/clock.hpp"
#include "util/temp_file.hpp"

namespace starpunk::media {

struct MediaFile {
    std::string path;  // relative to the media directory: "2026/12/<hash>-640.jpg"
    std::string hash;  // SHA-256 of the file, lowercase hex
    int width = 0;
    int height = 0;
    std::uint64_t bytes = 0;
};

struct MediaItem {
    std::int64_t id = 0;
    std::string type;                 // "image/jpeg"
    MediaFile file;                   // the full-size image; file.hash names it
    std::vector<MediaFile> variants;  // increasing width
    Timestamp created_at{};
};

struct MediaCheck {
    std::size_t files_checked = 0;
    std::vector<std::string> problems;  // missing or altered files (path: what)
    std::vector<std::string> orphans;   // files no row names (relative paths)
};

class MediaService {
public:
    struct Options {
        std::string media_dir;   // DATA_PATH/media
        std::string upload_dir;  // where request bodies are spooled (unlinked temp files)
        ProcessLimits limits;
    };
    MediaService(storage::FileSystem& fs, std::shared_ptr<storage::ConnectionPool> pool, const Clock& clock,
                 Options options);

    const Options& options() const { return options_; }

    // Processes and stores the image in `upload` (see the invariants above).
    Result<MediaItem> store(const TempFile& upload);

    // The item whose full-size file or one of whose variants is at
    // `relative_path`; nullopt when none.
    Result<std::optional<MediaItem>> find_by_path(std::string_view relative_path);
    // The newest items first, at most `limit`.
    Result<std::vector<MediaItem>> list(int limit);

    // Every file the rows name (full-size and variants; path and hash only).
    Result<std::vector<MediaFile>> all_files();
    Result<MediaCheck> check();
    // Removes *.tmp files under the media directory and every file in the
    // upload directory (creating both when missing); returns how many.
    Result<std::size_t> remove_stale_temp_files();

private:
    Result<MediaItem> load(storage::Connection& conn, std::int64_t id);

    storage::FileSystem& fs_;
    std::shared_ptr<storage::ConnectionPool> pool_;
    const Clock& clock_;
    Options options_;
};

// True when `relative_path` has the shape of a name store() makes
// ("YYYY/MM/<64 hex>[-<width>].<jpg|png|gif|webp>"): the only paths /media/
// serves, so nothing outside the media directory can ever be named.
bool is_media_path(std::string_view relative_path);

}  // namespace starpunk::media
