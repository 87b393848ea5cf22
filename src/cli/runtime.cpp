#include "cli/runtime.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "storage/fs.hpp"
#include "storage/migrations.hpp"

namespace starpunk::cli {

std::optional<config::Config> load_config_or_report(config::Purpose purpose) {
    auto env = config::read_environment(".env");
    if (!env) {
        std::fprintf(stderr, "starpunk: configuration error:\n  - %s\n", env.error().message.c_str());
        return std::nullopt;
    }
    auto loaded = config::load_config(*env, purpose);
    if (!loaded.problems.empty()) {
        std::fprintf(stderr, "starpunk: the configuration has %zu problem(s):\n", loaded.problems.size());
        for (const auto& p : loaded.problems) std::fprintf(stderr, "  - %s\n", p.c_str());
        std::fprintf(stderr, "Set these in the environment or in ./.env (see docs/configuration.md).\n");
        return std::nullopt;
    }
    for (const auto& w : loaded.warnings) spdlog::warn("{}", w);
    return std::move(loaded.config);
}

Result<config::Config> load_config_with(config::Purpose purpose, const config::Environment& overrides) {
    auto env = config::read_environment(".env");
    if (!env) return std::move(env).error();
    for (const auto& [key, value] : overrides) (*env)[key] = value;
    auto loaded = config::load_config(*env, purpose);
    if (!loaded.problems.empty()) return make_error(ErrorCode::invalid_input, "configuration: " + loaded.problems.front());
    return std::move(loaded.config);
}

Result<Storage> open_storage(const config::Config& cfg, storage::StatementObserver observer,
                             std::function<Result<notes::RenderedNote>(std::string_view)> render) {
    auto& fs = storage::posix_fs();
    if (auto st = fs.create_dirs(cfg.data_path); !st) return std::move(st).error();
    if (auto st = fs.create_dirs(cfg.notes_path); !st) return std::move(st).error();
    if (auto st = fs.create_dirs(storage::parent_dir(cfg.database_path)); !st) return std::move(st).error();
    auto report = storage::run_migrations(cfg.database_path);
    if (!report) return std::move(report).error();
    for (const auto& name : report->applied) spdlog::info("applied migration {}", name);
    auto pool = storage::ConnectionPool::open({cfg.database_path, cfg.db_pool_size, cfg.db_timeout_seconds, std::move(observer)});
    if (!pool) return std::move(pool).error();
    Storage s;
    s.pool = std::move(*pool);
    notes::NotesService::Options options{cfg.notes_path, cfg.max_note_bytes};
    options.render = std::move(render);
    s.notes = std::make_unique<notes::NotesService>(s.pool, fs, system_clock(), std::move(options));
    return s;
}

Result<std::unique_ptr<search::SearchService>> open_search(const config::Config& cfg, Storage& storage) {
    search::SearchService::Options options;
    options.force_fallback = cfg.search_force_fallback;
    auto service = search::SearchService::open(*storage.notes, options);
    if (!service) return service;
    spdlog::info("search: {}{}", search::mode_name((*service)->mode()),
                 cfg.search_enabled ? "" : " (SEARCH_ENABLED=false)");
    if (!cfg.search_enabled) return service;
    auto needed = (*service)->index_needs_rebuild();
    if (!needed) return std::move(needed).error();
    if (*needed) {
        spdlog::warn("search: the index is empty but notes exist; rebuilding it");
        auto start = std::chrono::steady_clock::now();
        auto report = (*service)->rebuild();
        if (!report) return std::move(report).error();
        for (const auto& f : report->failed) spdlog::warn("search: not indexed: {}", f);
        auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
        spdlog::info("search: indexed {} note(s) in {} ms", report->indexed, took.count());
    }
    return service;
}

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

void draw_progress(size_t done, size_t total, std::string_view label) {
    constexpr int width = 30;
    int filled = total == 0 ? width : static_cast<int>(static_cast<double>(done) / static_cast<double>(total) * width);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\r[%s] %zu/%zu %.*s\033[K", bar.c_str(), done, total, static_cast<int>(label.size()),
                 label.data());
    if (done >= total) std::fprintf(stderr, "\n");
    std::fflush(stderr);
}

}  // namespace starpunk::cli
