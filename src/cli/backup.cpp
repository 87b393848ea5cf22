#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>

#include "cli/commands.hpp"
#include "cli/runtime.hpp"
#include "storage/atomic_write.hpp"
#include "storage/fs.hpp"
#include "media/media_service.hpp"
#include "util/crypto.hpp"

namespace starpunk::cli {

namespace {

// Copies the file of every note listed in the backup database, verifying each
// against the hash recorded in that same backup (so the copy is consistent
// with the database snapshot).
Status copy_note_files(notes::NotesService& live, const std::string& dest) {
    auto& fs = storage::posix_fs();
    auto pool = storage::ConnectionPool::open({dest + "/starpunk.db", 1, 10.0, {}});
    if (!pool) return std::move(pool).error();
    notes::NotesService snapshot(*pool, fs, system_clock(), {dest + "/notes", live.options().max_content_bytes});
    size_t copied = 0;
    for (auto visibility : {notes::Visibility::all, notes::Visibility::trash}) {
        auto page = snapshot.list(visibility, INT64_MAX, 0);
        if (!page) return std::move(page).error();
        for (const auto& note : page->notes) {
            auto content = live.read_content(note);  // checks the snapshot's hash
            if (!content) return std::move(content).error();
            auto target = snapshot.absolute_path(note);
            if (!target) return std::move(target).error();
            if (auto st = fs.create_dirs(storage::parent_dir(*target)); !st) return st;
            if (auto st = storage::write_file_atomically(fs, *target, *content); !st) return st;
            ++copied;
        }
    }
    std::printf("copied %zu note file(s)\n", copied);
    return {};
}

// Copies every media file the backup database names, each verified against
// the hash recorded there.
Status copy_media_files(const std::string& media_dir, const std::string& dest) {
    auto& fs = storage::posix_fs();
    auto pool = storage::ConnectionPool::open({dest + "/starpunk.db", 1, 10.0, {}});
    if (!pool) return std::move(pool).error();
    media::MediaService snapshot(fs, *pool, system_clock(), {dest + "/media", dest + "/uploads", {}});
    auto files = snapshot.all_files();
    if (!files) return std::move(files).error();
    for (const auto& f : *files) {
        auto bytes = fs.read_file(media_dir + "/" + f.path);
        if (!bytes) return std::move(bytes).error();
        if (sha256_hex(*bytes) != f.hash) {
            return make_error(ErrorCode::io, "media file " + f.path + " does not match its hash; run `starpunk check`");
        }
        const std::string target = dest + "/media/" + f.path;
        if (auto st = fs.create_dirs(storage::parent_dir(target)); !st) return st;
        if (auto st = storage::write_file_atomically(fs, target, *bytes); !st) return st;
    }
    std::printf("copied %zu media file(s)\n", files->size());
    return {};
}

}  // namespace

int backup(const std::string& dest) {
    auto cfg = load_config_or_report(config::Purpose::maintenance);
    if (!cfg) return kExitUsage;
    std::error_code ec;
    if (std::filesystem::exists(dest, ec)) {
        std::fprintf(stderr, "starpunk backup: %s already exists; choose a new directory\n", dest.c_str());
        return kExitUsage;
    }
    auto storage = open_storage(*cfg);
    if (!storage) {
        spdlog::error("{}", storage.error().message);
        return kExitFailure;
    }
    auto& fs = storage::posix_fs();
    Status st = fs.create_dirs(dest + "/notes");
    if (st) {
        auto lease = storage->pool->acquire();
        if (!lease) {
            st = std::move(lease).error();
        } else {
            st = storage::backup_database(**lease, dest + "/starpunk.db");
        }
    }
    if (st) st = copy_note_files(*storage->notes, dest);
    if (st) st = copy_media_files(cfg->data_path + "/media", dest);
    if (!st) {
        spdlog::error("backup failed: {}", st.error().message);
        return kExitFailure;
    }
    std::printf("backup written to %s (use it as DATA_PATH to restore)\n", dest.c_str());
    return kExitOk;
}

}  // namespace starpunk::cli
