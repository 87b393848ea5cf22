// THE atomic-write helper (storage/atomic_write.hpp) against the real file
// system and the fault-injecting one (tests/support/fault_fs.hpp), plus tests
// of the fault-injecting file system itself, so that what it proves elsewhere
// can be trusted.
#include "storage/atomic_write.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <atomic>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "support/fault_fs.hpp"
#include "support/fixture_v11.hpp"
#include "support/temp_dir.hpp"

namespace starpunk::storage {
namespace {

using starpunk::testing::FaultFs;
using starpunk::testing::FsOp;
using starpunk::testing::slurp;
using starpunk::testing::temp_files;
using starpunk::testing::TempDir;
namespace stdfs = std::filesystem;

void put(const std::string& path, const std::string& content) {
    auto f = posix_fs().create_file(path);
    ASSERT_TRUE(f) << f.error().message;
    ASSERT_TRUE((*f)->append(content));
    ASSERT_TRUE((*f)->sync());
    ASSERT_TRUE((*f)->close());
}

bool exists(const std::string& path) {
    struct stat st{};
    return ::lstat(path.c_str(), &st) == 0;
}

const std::vector<std::string> kNone;
const std::string kOld = "# Old\n\nThe content that was there before.\n";
// Large enough that a half-done write is visibly torn.
const std::string kNew = "# New\n\n" + std::string(100'000, 'n') + "\nend\n";

TEST(AtomicWrite, CreatesANewFileWithExactContent) {
    TempDir dir;
    const std::string path = dir / "note.md";
    ASSERT_TRUE(write_file_atomically(posix_fs(), path, kNew));
    EXPECT_EQ(*slurp(path), kNew);
    EXPECT_EQ(temp_files(dir.path()), kNone);
}

TEST(AtomicWrite, ReplacesExistingContent) {
    TempDir dir;
    const std::string path = dir / "note.md";
    put(path, kOld);
    ASSERT_TRUE(write_file_atomically(posix_fs(), path, kNew));
    EXPECT_EQ(*slurp(path), kNew);
    ASSERT_TRUE(write_file_atomically(posix_fs(), path, ""));
    EXPECT_EQ(*slurp(path), "");
    EXPECT_EQ(temp_files(dir.path()), kNone);
}

TEST(AtomicWrite, AStaleTempFileLeftByACrashDoesNotGetInTheWay) {
    TempDir dir;
    const std::string path = dir / "note.md";
    put(path, kOld);
    put(path + ".tmp", "half a note from a crashed wri");
    ASSERT_TRUE(write_file_atomically(posix_fs(), path, kNew));
    EXPECT_EQ(*slurp(path), kNew);
    // Every call writes its own "<path>.<random>.tmp", so a stale file is never
    // reused or touched: it is start-up's to sweep, and nothing else is left.
    EXPECT_EQ(temp_files(dir.path()), std::vector<std::string>{"note.md.tmp"});
    EXPECT_EQ(*slurp(path + ".tmp"), "half a note from a crashed wri");
}

TEST(AtomicWrite, CreateNewModeCreates) {
    TempDir dir;
    const std::string path = dir / "note.md";
    ASSERT_TRUE(write_file_atomically(posix_fs(), path, kNew, WriteMode::create_new));
    EXPECT_EQ(*slurp(path), kNew);
    EXPECT_EQ(temp_files(dir.path()), kNone);
}

TEST(AtomicWrite, CreateNewModeNeverReplacesAnExistingFile) {
    TempDir dir;
    FaultFs fs;
    const std::string path = dir / "note.md";
    put(path, kOld);
    auto st = write_file_atomically(fs, path, kNew, WriteMode::create_new);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, ErrorCode::conflict);
    EXPECT_EQ(*slurp(path), kOld);
    EXPECT_EQ(temp_files(dir.path()), kNone);
    ASSERT_TRUE(fs.drop_unsynced());
    EXPECT_EQ(*slurp(path), kOld);
    EXPECT_EQ(temp_files(dir.path()), kNone);
}

// Concurrent writers of one path each use their own temp file: every call
// succeeds and the final name holds one complete version.
TEST(AtomicWrite, ConcurrentWritersOfOnePathNeverTearOrFail) {
    TempDir dir;
    const std::string path = dir / "note.md";
    std::vector<std::string> versions;
    for (int t = 0; t < 3; ++t) versions.push_back(std::string(20'000 + t * 7'000, static_cast<char>('a' + t)));
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 20; ++i)
                if (!write_file_atomically(posix_fs(), path, versions[static_cast<size_t>(t)])) ++failures;
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    const std::string final_content = *slurp(path);
    EXPECT_TRUE(final_content == versions[0] || final_content == versions[1] || final_content == versions[2])
        << "torn: " << final_content.size() << " bytes";
    EXPECT_EQ(temp_files(dir.path()), kNone);
}

// The real file system, except that create_file first plants a symlink to
// `target` at exactly the path it was asked to open (as an attacker who can
// write to the notes directory and guesses the name would), then opens it
// with posix_fs(). Records the planted paths.
class SymlinkPlantingFs final : public FileSystem {
public:
    explicit SymlinkPlantingFs(std::string target) : target_(std::move(target)) {}
    std::vector<std::string> planted;

    Result<std::unique_ptr<WritableFile>> create_file(const std::string& path) override {
        if (::symlink(target_.c_str(), path.c_str()) != 0) return errno_error("plant symlink", path, errno);
        planted.push_back(path);
        return posix_fs().create_file(path);
    }
    Result<std::string> read_file(const std::string& p) override { return posix_fs().read_file(p); }
    Result<bool> is_symlink(const std::string& p) override { return posix_fs().is_symlink(p); }
    Status rename(const std::string& a, const std::string& b) override { return posix_fs().rename(a, b); }
    Status rename_no_replace(const std::string& a, const std::string& b) override {
        return posix_fs().rename_no_replace(a, b);
    }
    Status sync_dir(const std::string& d) override { return posix_fs().sync_dir(d); }
    Status remove(const std::string& p) override { return posix_fs().remove(p); }
    Status create_dirs(const std::string& p) override { return posix_fs().create_dirs(p); }
    Result<bool> exists(const std::string& p) override { return posix_fs().exists(p); }
    Result<std::vector<std::string>> list_files(const std::string& d) override { return posix_fs().list_files(d); }

private:
    std::string target_;
};

// A symlink at the very name the helper opens for its temp file: the open must
// refuse it (ELOOP), so the call fails, the link's target keeps its content,
// and the final name keeps the old file (no symlink renamed over it).
TEST(AtomicWrite, NeverWritesThroughASymlinkPlantedAtTheTempName) {
    for (auto mode : {WriteMode::replace, WriteMode::create_new}) {
        SCOPED_TRACE(mode == WriteMode::replace ? "replace" : "create_new");
        TempDir dir;
        const std::string path = dir / "note.md";
        const std::string victim = dir / "victim.txt";
        put(victim, "precious");
        if (mode == WriteMode::replace) put(path, kOld);
        SymlinkPlantingFs fs(victim);
        auto st = write_file_atomically(fs, path, kNew, mode);
        ASSERT_EQ(fs.planted.size(), 1u) << "the helper opened no temp file";
        EXPECT_EQ(fs.planted[0].rfind(path + ".", 0), 0u) << fs.planted[0];
        EXPECT_TRUE(fs.planted[0].ends_with(kTempSuffix)) << fs.planted[0];
        ASSERT_FALSE(st) << "wrote through the symlink at " << fs.planted[0];
        EXPECT_EQ(st.error().code, ErrorCode::io);
        EXPECT_NE(st.error().message.find(std::strerror(ELOOP)), std::string::npos) << st.error().message;
        EXPECT_EQ(*slurp(victim), "precious");
        if (mode == WriteMode::replace) {
            EXPECT_FALSE(*posix_fs().is_symlink(path));
            EXPECT_EQ(*slurp(path), kOld);
        } else {
            EXPECT_FALSE(exists(path));
        }
    }
}

// The file system's create itself, on a symlink: ELOOP, and neither an
// existing target (not truncated) nor a missing one (not created) is touched.
TEST(PosixFs, CreateFileRefusesASymlinkWithEloop) {
    TempDir dir;
    const std::string victim = dir / "victim.txt";
    put(victim, "precious");
    ASSERT_EQ(::symlink(victim.c_str(), (dir / "link").c_str()), 0);
    auto f = posix_fs().create_file(dir / "link");
    ASSERT_FALSE(f) << "opened a symlink for writing";
    EXPECT_NE(f.error().message.find(std::strerror(ELOOP)), std::string::npos) << f.error().message;
    EXPECT_EQ(*slurp(victim), "precious");

    const std::string nowhere = dir / "nowhere.txt";
    ASSERT_EQ(::symlink(nowhere.c_str(), (dir / "dangling").c_str()), 0);
    auto g = posix_fs().create_file(dir / "dangling");
    ASSERT_FALSE(g) << "created a file through a dangling symlink";
    EXPECT_NE(g.error().message.find(std::strerror(ELOOP)), std::string::npos) << g.error().message;
    EXPECT_FALSE(exists(nowhere));
}

TEST(AtomicWrite, MissingDirectoryIsANotFoundErrorNamingThePath) {
    TempDir dir;
    const std::string path = dir / "no/such/dir/note.md";
    auto st = write_file_atomically(posix_fs(), path, kNew);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, ErrorCode::not_found);
    EXPECT_NE(st.error().message.find(path), std::string::npos) << st.error().message;
}

TEST(AtomicWrite, SuccessfulWriteSurvivesPowerLoss) {
    TempDir dir;
    FaultFs fs;
    const std::string path = dir / "note.md";
    put(path, kOld);
    ASSERT_TRUE(write_file_atomically(fs, path, kNew));
    EXPECT_EQ(fs.unsynced_dir_changes(), 0u) << "the rename must have been made durable";
    ASSERT_TRUE(fs.drop_unsynced());
    EXPECT_EQ(*slurp(path), kNew);
    EXPECT_EQ(temp_files(dir.path()), kNone);
}

TEST(AtomicWrite, SuccessfulCreateSurvivesPowerLoss) {
    TempDir dir;
    FaultFs fs;
    const std::string path = dir / "fresh.md";
    ASSERT_TRUE(write_file_atomically(fs, path, kNew));
    ASSERT_TRUE(fs.drop_unsynced());
    EXPECT_EQ(*slurp(path), kNew);
}

// ---- every step failing, with EIO and with ENOSPC -------------------------------------------

struct Step {
    FsOp op;
    const char* word;  // how the error message names the operation
};

class AtomicWriteFault : public ::testing::TestWithParam<std::tuple<Step, int>> {};

TEST_P(AtomicWriteFault, FailsNamingOperationAndPathAndKeepsOldContent) {
    const auto [step, err] = GetParam();
    for (bool had_old : {true, false}) {
        SCOPED_TRACE(had_old ? "replacing a file" : "creating a file");
        TempDir dir;
        FaultFs fs;
        const std::string path = dir / "note.md";
        if (had_old) put(path, kOld);
        fs.fail_nth(step.op, 1, err);

        auto st = write_file_atomically(fs, path, kNew);
        ASSERT_FALSE(st) << "an injected " << fs_op_name(step.op) << " failure must fail the call";
        EXPECT_EQ(fs.faults_fired(), 1);
        EXPECT_EQ(st.error().code, err == ENOSPC ? ErrorCode::no_space : ErrorCode::io)
            << "a full disk is told apart (the server answers 507)";
        const std::string& msg = st.error().message;
        EXPECT_EQ(msg.rfind(std::string(step.word) + " ", 0), 0u) << msg;
        EXPECT_NE(msg.find(step.op == FsOp::sync_dir ? dir.path() : path), std::string::npos) << msg;
        EXPECT_NE(msg.find(std::strerror(err)), std::string::npos) << msg;

        // The final name holds the old or the new content, complete: never a mix.
        const bool renamed = step.op == FsOp::sync_dir;  // the only step after the rename
        if (renamed) {
            EXPECT_EQ(*slurp(path), kNew) << "the rename happened; only its durability is in doubt";
        } else if (had_old) {
            EXPECT_EQ(*slurp(path), kOld);
        } else {
            EXPECT_FALSE(exists(path));
        }
        EXPECT_EQ(temp_files(dir.path()), kNone) << "the temp file must be cleaned up";

        // Power loss right after the failure: what was durable before is what remains.
        ASSERT_TRUE(fs.drop_unsynced());
        if (had_old) {
            EXPECT_EQ(*slurp(path), kOld);
        } else {
            EXPECT_FALSE(exists(path));
        }
        EXPECT_EQ(temp_files(dir.path()), kNone);

        // And the next attempt works.
        fs.clear_faults();
        ASSERT_TRUE(write_file_atomically(fs, path, kNew));
        EXPECT_EQ(*slurp(path), kNew);
    }
}

INSTANTIATE_TEST_SUITE_P(
    EveryStep, AtomicWriteFault,
    ::testing::Combine(::testing::Values(Step{FsOp::create_file, "create"}, Step{FsOp::append, "write"},
                                         Step{FsOp::sync, "fsync"}, Step{FsOp::close, "close"},
                                         Step{FsOp::rename, "rename"}, Step{FsOp::sync_dir, "fsync directory"}),
                       ::testing::Values(EIO, ENOSPC)),
    [](const auto& param_info) {
        return std::string(fs_op_name(std::get<0>(param_info.param).op)) +
               (std::get<1>(param_info.param) == EIO ? "_EIO" : "_ENOSPC");
    });

TEST(AtomicWrite, CreateNewModeTakesItsFileBackWhenTheDirectorySyncFails) {
    for (int err : {EIO, ENOSPC}) {
        TempDir dir;
        FaultFs fs;
        const std::string path = dir / "note.md";
        fs.fail_nth(FsOp::sync_dir, 1, err);
        auto st = write_file_atomically(fs, path, kNew, WriteMode::create_new);
        ASSERT_FALSE(st);
        EXPECT_EQ(fs.faults_fired(), 1);
        EXPECT_EQ(st.error().message.rfind("fsync directory ", 0), 0u) << st.error().message;
        EXPECT_FALSE(exists(path)) << "a failed create must not leave its file (an orphan) behind";
        EXPECT_EQ(temp_files(dir.path()), kNone);
        fs.clear_faults();
        ASSERT_TRUE(write_file_atomically(fs, path, kNew, WriteMode::create_new));
        EXPECT_EQ(*slurp(path), kNew);
    }
}

TEST(AtomicWrite, FailedTempCleanupStillReportsTheOriginalError) {
    TempDir dir;
    FaultFs fs;
    const std::string path = dir / "note.md";
    put(path, kOld);
    fs.fail_nth(FsOp::sync, 1, EIO);
    fs.fail_nth(FsOp::remove, 1, EIO);
    auto st = write_file_atomically(fs, path, kNew);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().message.rfind("fsync ", 0), 0u) << st.error().message;
    EXPECT_EQ(*slurp(path), kOld);
    // A stale temp file may remain (start-up sweeps it); the final name is intact.
}

// ---- the fault-injecting file system itself ---------------------------------------------------

TEST(FaultFs, FailNthCountsOnlyMatchingCallsAndFiresOnce) {
    TempDir dir;
    FaultFs fs;
    fs.fail_nth(FsOp::create_file, 2, ENOSPC, "b.md");
    EXPECT_TRUE(fs.create_file(dir / "a.md"));
    EXPECT_TRUE(fs.create_file(dir / "b.md"));  // 1st matching call
    auto third = fs.create_file(dir / "b.md");  // 2nd matching call: fails
    ASSERT_FALSE(third);
    EXPECT_NE(third.error().message.find("No space left on device"), std::string::npos);
    EXPECT_TRUE(fs.create_file(dir / "b.md"));
    EXPECT_EQ(fs.faults_fired(), 1);
    EXPECT_EQ(fs.calls(FsOp::create_file), 4);
}

TEST(FaultFs, FailAlwaysUntilCleared) {
    TempDir dir;
    FaultFs fs;
    fs.fail_always(FsOp::sync_dir);
    EXPECT_FALSE(fs.sync_dir(dir.path()));
    EXPECT_FALSE(fs.sync_dir(dir.path()));
    fs.clear_faults();
    EXPECT_TRUE(fs.sync_dir(dir.path()));
}

TEST(FaultFs, FailedAppendIsAShortWrite) {
    TempDir dir;
    FaultFs fs;
    fs.fail_nth(FsOp::append, 1, ENOSPC);
    auto f = fs.create_file(dir / "x");
    ASSERT_TRUE(f);
    EXPECT_FALSE((*f)->append("0123456789"));
    EXPECT_TRUE((*f)->close());
    EXPECT_EQ(*slurp(dir / "x"), "01234");
}

TEST(FaultFs, PowerLossCutsFilesBackToTheirSyncedSize) {
    TempDir dir;
    FaultFs fs;
    ASSERT_TRUE(fs.sync_dir(dir.path()));
    auto f = fs.create_file(dir / "log");
    ASSERT_TRUE(f);
    ASSERT_TRUE(fs.sync_dir(dir.path()));  // the name is durable
    ASSERT_TRUE((*f)->append("durable|"));
    ASSERT_TRUE((*f)->sync());
    ASSERT_TRUE((*f)->append("lost"));
    ASSERT_TRUE((*f)->close());
    EXPECT_EQ(*slurp(dir / "log"), "durable|lost");
    ASSERT_TRUE(fs.drop_unsynced());
    EXPECT_EQ(*slurp(dir / "log"), "durable|");
}

TEST(FaultFs, PowerLossUndoesUnsyncedCreateRenameAndRemove) {
    TempDir dir;
    FaultFs fs;
    put(dir / "old", "old content");
    put(dir / "gone", "removed but not durably");
    // A naive "atomic" write that forgets the directory fsync.
    auto f = fs.create_file(dir / "old.tmp");
    ASSERT_TRUE(f);
    ASSERT_TRUE((*f)->append("new content"));
    ASSERT_TRUE((*f)->sync());
    ASSERT_TRUE((*f)->close());
    ASSERT_TRUE(fs.rename(dir / "old.tmp", dir / "old"));
    ASSERT_TRUE(fs.remove(dir / "gone"));
    auto g = fs.create_file(dir / "brand-new");
    ASSERT_TRUE(g);
    ASSERT_TRUE((*g)->append("never synced"));
    ASSERT_TRUE((*g)->close());
    EXPECT_EQ(fs.unsynced_dir_changes(), 4u);

    ASSERT_TRUE(fs.drop_unsynced());
    EXPECT_EQ(*slurp(dir / "old"), "old content");
    EXPECT_FALSE(exists(dir / "old.tmp")) << "its creation was not durable either";
    EXPECT_EQ(*slurp(dir / "gone"), "removed but not durably");
    EXPECT_FALSE(exists(dir / "brand-new"));
}

TEST(FaultFs, RenameNoReplaceIsJournaledAndRefusesAnExistingTarget) {
    TempDir dir;
    FaultFs fs;
    put(dir / "taken", "someone's");
    put(dir / "a.tmp", "mine");
    auto refused = fs.rename_no_replace(dir / "a.tmp", dir / "taken");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::conflict);
    EXPECT_EQ(*slurp(dir / "taken"), "someone's");
    ASSERT_TRUE(fs.rename_no_replace(dir / "a.tmp", dir / "free"));
    EXPECT_EQ(fs.unsynced_dir_changes(), 1u);
    fs.fail_nth(FsOp::rename, 1, EIO);
    EXPECT_FALSE(fs.rename_no_replace(dir / "free", dir / "other")) << "rename faults cover rename_no_replace";
    ASSERT_TRUE(fs.drop_unsynced());
    EXPECT_FALSE(exists(dir / "free"));
    EXPECT_EQ(*slurp(dir / "a.tmp"), "mine");
}

TEST(FaultFs, DirectorySyncMakesChangesDurable) {
    TempDir dir;
    FaultFs fs;
    put(dir / "old", "old content");
    auto f = fs.create_file(dir / "old.tmp");
    ASSERT_TRUE(f);
    ASSERT_TRUE((*f)->append("new content"));
    ASSERT_TRUE((*f)->close());  // data never synced
    ASSERT_TRUE(fs.rename(dir / "old.tmp", dir / "old"));
    ASSERT_TRUE(fs.sync_dir(dir.path() + "/"));  // spelling of the directory does not matter
    EXPECT_EQ(fs.unsynced_dir_changes(), 0u);
    ASSERT_TRUE(fs.drop_unsynced());
    // The rename is durable but the data was not: the classic zero-length file
    // that a missing fsync before rename produces.
    EXPECT_EQ(*slurp(dir / "old"), "");
}

}  // namespace
}  // namespace starpunk::storage
