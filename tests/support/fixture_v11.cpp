#include "support/fixture_v11.hpp"

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#ifndef STARPUNK_TEST_FIXTURES_DIR
#error "STARPUNK_TEST_FIXTURES_DIR must be defined (tests/CMakeLists.txt)"
#endif

namespace starpunk::testing {

namespace fs = std::filesystem;

const std::vector<FixtureNote>& v11_fixture_notes() {
    static const std::vector<FixtureNote> notes = {
        {"hello-world", "2024/11/hello-world.md", true, false},
        {"a-draft-about-tea", "2024/11/a-draft-about-tea.md", false, false},
        {"creme-brulee-recipe", "2024/12/creme-brulee-recipe.md", true, false},
        {"old-deleted-note", "2024/12/old-deleted-note.md", true, true},
        {"20250101-000000", "2025/01/20250101-000000.md", true, false},
    };
    return notes;
}

std::string fixtures_dir() { return STARPUNK_TEST_FIXTURES_DIR; }

Result<std::string> slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error(ErrorCode::not_found, "cannot read " + path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

Status build_v11_fixture(const std::string& data_dir, V11Variant variant) {
    const std::string src = fixtures_dir() + "/starpunk-1.1";
    const std::string notes = data_dir + "/notes";
    std::error_code ec;
    fs::copy(src + "/notes", notes, fs::copy_options::recursive, ec);
    if (ec) return make_error(ErrorCode::io, "copy fixture notes: " + ec.message());

    auto schema = slurp(src + (variant == V11Variant::v1_1 ? "/schema-1.1.sql" : "/schema-1.0.sql"));
    if (!schema) return std::move(schema).error();
    auto data = slurp(src + "/data.sql");
    if (!data) return std::move(data).error();
    std::string rows = *data;
    const std::string placeholder = "@NOTES_PATH@";
    for (size_t p; (p = rows.find(placeholder)) != std::string::npos;) rows.replace(p, placeholder.size(), notes);

    // The Python app used the default rollback journal; WAL is ours to turn on.
    sqlite3* db = nullptr;
    if (sqlite3_open(( data_dir + "/starpunk.db").c_str(), &db) != SQLITE_OK) {
        sqlite3_close(db);
        return make_error(ErrorCode::io, "open fixture database");
    }
    char* err = nullptr;
    std::string sql = "BEGIN;" + *schema + rows + "COMMIT;";
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    std::string msg = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    if (rc != SQLITE_OK) return make_error(ErrorCode::io, "fixture SQL: " + msg);
    return {};
}

}  // namespace starpunk::testing
