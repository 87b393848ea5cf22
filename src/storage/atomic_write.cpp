#include "storage/atomic_write.hpp"

#include "util/crypto.hpp"
#include "util/strings.hpp"

namespace starpunk::storage {

Status write_file_atomically(FileSystem& fs, const std::string& path, std::string_view data, WriteMode mode) {
    auto nonce = random_bytes(6);
    if (!nonce) return std::move(nonce).error();
    const std::string tmp = path + "." + to_hex(*nonce) + std::string(kTempSuffix);
    auto file = fs.create_file(tmp);
    if (!file) return std::move(file).error();
    Status st = (*file)->append(data);
    if (st) st = (*file)->sync();
    Status closed = (*file)->close();
    if (st && !closed) st = closed;
    if (st) st = mode == WriteMode::create_new ? fs.rename_no_replace(tmp, path) : fs.rename(tmp, path);
    if (!st) {
        (void)fs.remove(tmp);  // best effort; start-up sweeps leftovers
        return st;
    }
    Status synced = fs.sync_dir(parent_dir(path));
    if (!synced && mode == WriteMode::create_new) {
        // The no-replace rename made the final name ours, but the call fails:
        // take the name back, so a failed create leaves nothing behind (no
        // orphan for the caller to explain). Best effort: if even this fails,
        // the file stays, complete, as an orphan that start-up reports.
        if (fs.remove(path)) (void)fs.sync_dir(parent_dir(path));
    }
    return synced;
}

}  // namespace starpunk::storage
