// A fault-injecting FileSystem for tests (after LevelDB's
// db/fault_injection_test.cc). It wraps a real FileSystem (posix_fs() by
// default) and can
//
//   * fail chosen calls: the Nth call of an operation from now on, or every
//     call, optionally only for paths containing a substring, with any errno
//     (EIO, ENOSPC, ...). A failed call does not reach the real file system,
//     except: a failed append writes the first half of its data first (a
//     short write, as a full disk does), and a failed close still releases the
//     descriptor (as close(2) does);
//
//   * simulate a power loss, drop_unsynced(): every file written through this
//     wrapper is cut back to the size it had at its last successful sync()
//     (0 if it never was synced), and every directory change made through this
//     wrapper (file creation, rename, remove) that was not followed by a
//     successful sync_dir() of that directory is undone, newest first: a
//     created file disappears, a renamed file moves back to its old name and
//     the name it replaced gets back its old (durable) content, a removed file
//     comes back with its durable content.
//
// Model and its limits (keep tests honest about what they prove):
//   * Files never written through this wrapper count as fully durable.
//   * A truncated existing file (create_file over it) is durable at size 0
//     until synced: the pessimistic choice.
//   * create_dirs() is passed to the real file system, whose create_dirs syncs
//     every parent it changes, so new directories count as durable.
//   * Renames are assumed to stay in one directory (FileSystem::rename's
//     contract); the change is journaled under the target's directory.
//   * The SQLite database is not covered (SQLite has its own VFS).
//   * drop_unsynced() expects no WritableFile from this wrapper to be open.
//
// Thread-safe: all state sits behind one mutex.
#pragma once

#include <cerrno>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "storage/fs.hpp"

namespace starpunk::testing {

enum class FsOp {
    create_file,
    append,  // WritableFile::append ("write" in error messages)
    sync,    // WritableFile::sync ("fsync")
    close,   // WritableFile::close
    read_file,
    rename,  // rename and rename_no_replace
    sync_dir,
    remove,
    create_dirs,
    exists,
    list_files,
};

const char* fs_op_name(FsOp op);

class FaultFs final : public storage::FileSystem {
public:
    explicit FaultFs(storage::FileSystem& base = storage::posix_fs());

    // The nth (1-based) matching call of `op` from now on fails with `err`;
    // later calls succeed again. `path_contains`: only calls whose path (for
    // rename: either path) contains it are counted.
    void fail_nth(FsOp op, int nth, int err = EIO, std::string path_contains = {});
    // Every matching call of `op` fails with `err` until clear_faults().
    void fail_always(FsOp op, int err = EIO, std::string path_contains = {});
    void clear_faults();
    // How many faults fired since construction (or reset_counters()).
    int faults_fired() const;
    // Calls of `op` seen (failed ones included) since construction.
    int calls(FsOp op) const;
    void reset_counters();

    // Power loss: see the header comment. Returns what it could not undo.
    Status drop_unsynced();
    // Forget all durability tracking: everything on disk now counts as durable.
    void mark_all_durable();
    // Number of directory changes not yet made durable (all directories).
    size_t unsynced_dir_changes() const;

    // FileSystem
    Result<std::unique_ptr<storage::WritableFile>> create_file(const std::string& path) override;
    Result<std::string> read_file(const std::string& path) override;
    Result<bool> is_symlink(const std::string& path) override { return base_.is_symlink(path); }
    Status rename(const std::string& from, const std::string& to) override;
    Status rename_no_replace(const std::string& from, const std::string& to) override;
    Status sync_dir(const std::string& dir) override;
    Status remove(const std::string& path) override;
    Status create_dirs(const std::string& path) override;
    Result<bool> exists(const std::string& path) override;
    Result<std::vector<std::string>> list_files(const std::string& dir) override;

private:
    friend class FaultWritableFile;

    struct Fault {
        FsOp op;
        int remaining;  // calls to let pass before failing (nth - 1); ignored when always
        bool always;
        int err;
        std::string path_contains;
        bool done = false;
    };
    // Per written file: bytes written and bytes made durable by sync().
    struct FileState {
        uint64_t size = 0;
        uint64_t synced = 0;
    };
    // A directory change not yet made durable.
    struct DirChange {
        enum Kind { created, renamed, removed } kind;
        std::string dir;                       // the directory whose sync_dir makes it durable
        std::string path;                      // created/removed: the file; renamed: the target
        std::string from;                      // renamed: the source
        std::optional<std::string> displaced;  // renamed: durable content the target had (nullopt: none);
                                               // removed: durable content of the removed file
    };

    // Returns the errno to fail with, or 0. Counts the call. Caller holds mu_.
    int check_fault(FsOp op, const std::string& path, const std::string& path2 = {});
    // Durable content of `path` right now (what a power loss would leave). Caller holds mu_.
    std::optional<std::string> durable_content(const std::string& path);
    Status do_rename(const std::string& raw_from, const std::string& raw_to, bool no_replace);

    storage::FileSystem& base_;
    mutable std::mutex mu_;
    std::vector<Fault> faults_;
    std::map<FsOp, int> calls_;
    int fired_ = 0;
    std::map<std::string, FileState> files_;  // by normalised path
    std::vector<DirChange> journal_;          // oldest first
};

}  // namespace starpunk::testing
