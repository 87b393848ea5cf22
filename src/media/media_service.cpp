#include "media/media_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "storage/atomic_write.hpp"
#include "storage/sqlite.hpp"
#include "util/crypto.hpp"

namespace starpunk::media {

namespace {

bool all_of_class(std::string_view s, bool (*pred)(char)) {
    return !s.empty() && std::all_of(s.begin(), s.end(), pred);
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); }

constexpr std::string_view kSelectItem =
    "SELECT id, hash, path, type, width, height, bytes, created_at FROM media";

MediaItem read_item(const storage::Statement& q) {
    MediaItem m;
    m.id = q.integer(0);
    m.file.hash = q.text(1);
    m.file.path = q.text(2);
    m.type = q.text(3);
    m.file.width = static_cast<int>(q.integer(4));
    m.file.height = static_cast<int>(q.integer(5));
    m.file.bytes = static_cast<std::uint64_t>(q.integer(6));
    m.created_at = parse_timestamp(q.text(7)).value_or(Timestamp{});
    return m;
}

Result<std::optional<std::int64_t>> id_of_hash(storage::Connection& conn, const std::string& hash) {
    auto q = conn.prepare("SELECT id FROM media WHERE hash = ?1");
    if (!q) return std::move(q).error();
    (*q)->bind(1, hash);
    auto row = (*q)->step();
    if (!row) return std::move(row).error();
    if (!*row) return std::optional<std::int64_t>{};
    std::int64_t id = (*q)->integer(0);
    (*q)->reset();
    return std::optional<std::int64_t>(id);
}

// The media row and its variants in one transaction; false (nothing written)
// when a row with the same hash exists. Sets item.id.
Result<bool> insert_rows(storage::Connection& conn, MediaItem& item, const std::string& when) {
    auto tx = storage::Transaction::begin(conn);
    if (!tx) return std::move(tx).error();
    auto ins = conn.prepare(
        "INSERT INTO media (hash, path, type, width, height, bytes, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
        "ON CONFLICT(hash) DO NOTHING");
    if (!ins) return std::move(ins).error();
    const MediaFile& f = item.file;
    auto st = (*ins)->bind(1, f.hash).bind(2, f.path).bind(3, item.type).bind(4, f.width).bind(5, f.height)
                  .bind(6, static_cast<std::int64_t>(f.bytes)).bind(7, when).run();
    if (!st) return std::move(st).error();
    if (conn.changes() == 0) return false;  // the transaction rolls back (nothing to undo)
    item.id = conn.last_insert_rowid();
    for (const auto& v : item.variants) {
        auto vin = conn.prepare(
            "INSERT INTO media_variants (media_id, width, height, path, hash, bytes) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
        if (!vin) return std::move(vin).error();
        auto vst = (*vin)->bind(1, item.id).bind(2, v.width).bind(3, v.height).bind(4, v.path).bind(5, v.hash)
                       .bind(6, static_cast<std::int64_t>(v.bytes)).run();
        if (!vst) return std::move(vst).error();
    }
    if (auto c = tx->commit(); !c) return std::move(c).error();
    return true;
}

}  // namespace

bool is_media_path(std::string_view p) {
    // YYYY/MM/
    if (p.size() < 8 || !all_of_class(p.substr(0, 4), is_digit) || p[4] != '/' ||
        !all_of_class(p.substr(5, 2), is_digit) || p[7] != '/') {
        return false;
    }
    std::string_view name = p.substr(8);
    if (name.size() < 64 || !all_of_class(name.substr(0, 64), is_lower_hex)) return false;
    name.remove_prefix(64);
    if (!name.empty() && name.front() == '-') {
        size_t dot = name.find('.');
        if (dot == std::string_view::npos || dot == 1 || dot > 6 || !all_of_class(name.substr(1, dot - 1), is_digit)) {
            return false;
        }
        name.remove_prefix(dot);
    }
    if (name.empty() || name.front() != '.') return false;
    return type_of_extension(name.substr(1)).has_value();
}

MediaService::MediaService(storage::FileSystem& fs, std::shared_ptr<storage::ConnectionPool> pool, const Clock& clock,
                           Options options)
    : fs_(fs), pool_(std::move(pool)), clock_(clock), options_(std::move(options)) {}

Result<MediaItem> MediaService::store(const TempFile& upload) {
    auto processed = process(upload, options_.limits);
    if (!processed) return std::move(processed).error();
    const std::string hash = sha256_hex(processed->original.bytes);
    const std::string ext(extension(processed->type));

    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    storage::Connection& conn = **lease;
    // (4) the same image again: the row that exists, nothing written.
    auto existing = id_of_hash(conn, hash);
    if (!existing) return std::move(existing).error();
    if (*existing) return load(conn, **existing);

    const Timestamp now = clock_.now();
    const std::string when = format_db_time(now);  // "2026-12-06 18:40:00.000000"
    const std::string dir = when.substr(0, 4) + "/" + when.substr(5, 2);
    if (auto st = fs_.create_dirs(options_.media_dir + "/" + dir); !st) return std::move(st).error();

    MediaItem item;
    item.type = std::string(mime_type(processed->type));
    item.created_at = now;
    // (2) variants first, the full-size file last.
    for (const auto& v : processed->variants) {
        MediaFile f{dir + "/" + hash + "-" + std::to_string(v.width) + "." + ext, sha256_hex(v.bytes), v.width, v.height,
                    v.bytes.size()};
        if (auto st = storage::write_file_atomically(fs_, options_.media_dir + "/" + f.path, v.bytes); !st) {
            return std::move(st).error();
        }
        item.variants.push_back(std::move(f));
    }
    const auto& o = processed->original;
    item.file = MediaFile{dir + "/" + hash + "." + ext, hash, o.width, o.height, o.bytes.size()};
    if (auto st = storage::write_file_atomically(fs_, options_.media_dir + "/" + item.file.path, o.bytes); !st) {
        return std::move(st).error();
    }

    // (3) the rows, in one transaction.
    auto inserted = insert_rows(conn, item, when);
    if (!inserted) return std::move(inserted).error();
    if (*inserted) return item;
    // Another request stored the same image between our look-up and now.
    auto raced = id_of_hash(conn, hash);
    if (!raced) return std::move(raced).error();
    if (!*raced) return make_error(ErrorCode::conflict, "the image was stored and removed at once; send it again");
    return load(conn, **raced);
}

Result<MediaItem> MediaService::load(storage::Connection& conn, std::int64_t id) {
    MediaItem item;
    {
        auto q = conn.prepare(std::string(kSelectItem) + " WHERE id = ?1");
        if (!q) return std::move(q).error();
        (*q)->bind(1, id);
        auto row = (*q)->step();
        if (!row) return std::move(row).error();
        if (!*row) return make_error(ErrorCode::not_found, "no media item " + std::to_string(id));
        item = read_item(**q);
        (*q)->reset();
    }
    auto q = conn.prepare("SELECT path, hash, width, height, bytes FROM media_variants WHERE media_id = ?1 ORDER BY width");
    if (!q) return std::move(q).error();
    (*q)->bind(1, id);
    auto rows = (*q)->each_row([&](const storage::Statement& r) {
        item.variants.push_back(MediaFile{r.text(0), r.text(1), static_cast<int>(r.integer(2)),
                                          static_cast<int>(r.integer(3)),
                                          static_cast<std::uint64_t>(r.integer(4))});
    });
    if (!rows) return std::move(rows).error();
    return item;
}

Result<std::optional<MediaItem>> MediaService::find_by_path(std::string_view relative_path) {
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    auto q = (*lease)->prepare(
        "SELECT id FROM media WHERE path = ?1 UNION ALL SELECT media_id FROM media_variants WHERE path = ?1 LIMIT 1");
    if (!q) return std::move(q).error();
    (*q)->bind(1, relative_path);
    auto row = (*q)->step();
    if (!row) return std::move(row).error();
    if (!*row) return std::optional<MediaItem>{};
    std::int64_t id = (*q)->integer(0);
    (*q)->reset();
    auto item = load(**lease, id);
    if (!item) return std::move(item).error();
    return std::optional<MediaItem>(std::move(*item));
}

Result<std::vector<MediaItem>> MediaService::list(int limit) {
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    std::vector<std::int64_t> ids;
    {
        auto q = (*lease)->prepare("SELECT id FROM media ORDER BY created_at DESC, id DESC LIMIT ?1");
        if (!q) return std::move(q).error();
        (*q)->bind(1, limit);
        auto rows = (*q)->each_row([&](const storage::Statement& r) { ids.push_back(r.integer(0)); });
        if (!rows) return std::move(rows).error();
    }
    std::vector<MediaItem> out;
    for (auto id : ids) {
        auto item = load(**lease, id);
        if (!item) return std::move(item).error();
        out.push_back(std::move(*item));
    }
    return out;
}

Result<std::vector<MediaFile>> MediaService::all_files() {
    std::vector<MediaFile> files;
    auto lease = pool_->acquire();
    if (!lease) return std::move(lease).error();
    for (std::string_view sql : {std::string_view("SELECT path, hash FROM media"),
                                 std::string_view("SELECT path, hash FROM media_variants")}) {
        auto q = (*lease)->prepare(sql);
        if (!q) return std::move(q).error();
        auto rows = (*q)->each_row([&](const storage::Statement& r) {
            files.push_back(MediaFile{r.text(0), r.text(1), 0, 0, 0});
        });
        if (!rows) return std::move(rows).error();
    }
    return files;
}

Result<MediaCheck> MediaService::check() {
    MediaCheck report;
    std::set<std::string> known;
    auto all = all_files();
    if (!all) return std::move(all).error();
    const std::vector<MediaFile>& files = *all;
    for (const auto& f : files) {
        known.insert(f.path);
        ++report.files_checked;
        auto bytes = fs_.read_file(options_.media_dir + "/" + f.path);
        if (!bytes) {
            report.problems.push_back(f.path + ": " + bytes.error().message);
            continue;
        }
        if (sha256_hex(*bytes) != f.hash) report.problems.push_back(f.path + ": content does not match its hash");
    }
    auto exists = fs_.exists(options_.media_dir);
    if (!exists) return std::move(exists).error();
    if (*exists) {
        auto listed = fs_.list_files(options_.media_dir);
        if (!listed) return std::move(listed).error();
        for (const auto& rel : *listed) {
            if (!known.contains(rel)) report.orphans.push_back(rel);
        }
    }
    return report;
}

Result<std::size_t> MediaService::remove_stale_temp_files() {
    std::size_t removed = 0;
    for (const auto& dir : {options_.media_dir, options_.upload_dir}) {
        if (auto st = fs_.create_dirs(dir); !st) return std::move(st).error();
        auto listed = fs_.list_files(dir);
        if (!listed) return std::move(listed).error();
        for (const auto& rel : *listed) {
            const bool stale = dir == options_.upload_dir ||
                               (rel.size() > storage::kTempSuffix.size() && rel.ends_with(storage::kTempSuffix));
            if (!stale) continue;
            if (auto st = fs_.remove(dir + "/" + rel); !st) return std::move(st).error();
            ++removed;
        }
    }
    return removed;
}

}  // namespace starpunk::media
