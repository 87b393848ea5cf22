// A temporary directory for one test, removed (recursively) on destruction.
// Set STARPUNK_KEEP_TEST_DIRS=1 to keep it for a post-mortem.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace starpunk::testing {

// Files under `dir` (recursively, relative paths, sorted) whose names end in
// ".tmp": what a failed or interrupted atomic write may leave behind.
inline std::vector<std::string> temp_files(const std::string& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.size() >= 4 && name.compare(name.size() - 4, 4, ".tmp") == 0)
            out.push_back(std::filesystem::relative(it->path(), dir).generic_string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

class TempDir {
public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "starpunk-test-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        if (std::getenv("STARPUNK_KEEP_TEST_DIRS") != nullptr) return;
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return path_; }
    std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

private:
    std::string path_;
};

}  // namespace starpunk::testing
