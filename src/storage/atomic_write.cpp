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
    return fs.sync_dir(parent_dir(path));
}

}  // namespace starpunk::storage
