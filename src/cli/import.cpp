#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>

#include "cli/commands.hpp"
#include "cli/runtime.hpp"
#include "notes/slug.hpp"
#include "storage/fs.hpp"
#include "util/crypto.hpp"

namespace starpunk::cli {

namespace {

std::optional<Timestamp> modification_time(const std::string& path) {
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0) return std::nullopt;
    auto since_epoch = std::chrono::seconds(st.st_mtim.tv_sec) +
                       std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::nanoseconds(st.st_mtim.tv_nsec));
    return Timestamp(std::chrono::duration_cast<std::chrono::microseconds>(since_epoch));
}

}  // namespace

int import_notes(const std::string& dir, bool as_draft) {
    auto cfg = load_config_or_report(config::Purpose::maintenance);
    if (!cfg) return kExitUsage;
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
        std::fprintf(stderr, "starpunk import: %s is not a directory\n", dir.c_str());
        return kExitUsage;
    }
    auto storage = open_storage(*cfg);
    if (!storage) {
        spdlog::error("{}", storage.error().message);
        return kExitFailure;
    }
    auto& fs = storage::posix_fs();
    auto files = fs.list_files(dir);
    if (!files) {
        spdlog::error("{}", files.error().message);
        return kExitFailure;
    }
    std::vector<std::string> markdown;
    for (const auto& f : *files) {
        if (f.ends_with(".md")) markdown.push_back(f);
    }
    const bool progress = stderr_is_terminal();
    size_t imported = 0, skipped = 0, failed = 0, done = 0;
    for (const auto& rel : markdown) {
        std::string path = dir + "/" + rel;
        std::string name = std::filesystem::path(rel).stem().string();
        auto content = fs.read_file(path);
        if (!content) {
            spdlog::error("{}: {}", rel, content.error().message);
            ++failed;
        } else {
            // Re-running skips files already imported with the same content: by
            // slug, or by content hash when the name was unusable as a slug.
            std::string hash = sha256_hex(*content);
            auto normalised = notes::validate_custom_slug(name);
            bool already = false;
            if (normalised) {
                auto existing = storage->notes->get_by_slug(*normalised);
                already = existing && existing->content_hash == hash;
            } else {
                auto seen = storage->notes->has_content_hash(hash);
                already = seen && *seen;
            }
            if (already) {
                ++skipped;
            } else {
                notes::NewNote note;
                note.content = std::move(*content);
                note.custom_slug = name;
                note.published = !as_draft;
                note.created_at = modification_time(path);
                note.slug_policy = notes::CustomSlugPolicy::fall_back;
                auto created = storage->notes->create(note);
                if (created) {
                    ++imported;
                } else {
                    spdlog::error("{}: {}", rel, created.error().message);
                    ++failed;
                }
            }
        }
        ++done;
        if (progress) draw_progress(done, markdown.size(), rel);
    }
    std::printf("imported %zu, skipped %zu, failed %zu\n", imported, skipped, failed);
    return failed == 0 ? kExitOk : kExitFailure;
}

}  // namespace starpunk::cli
