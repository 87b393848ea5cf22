// Builds a StarPunk 1.1 data directory from tests/fixtures/starpunk-1.1
// (see the README there): <data_dir>/starpunk.db and <data_dir>/notes/….
#pragma once

#include <string>
#include <vector>

#include "util/result.hpp"

namespace starpunk::testing {

enum class V11Variant {
    v1_1,  // schema-1.1.sql: code_verifier, schema_migrations with foreign names
    v1_0,  // schema-1.0.sql: no code_verifier, no schema_migrations table
};

struct FixtureNote {
    std::string slug;
    std::string relative_file;  // relative to NOTES_PATH
    bool published;
    bool deleted;
};

// The notes data.sql holds, in id order.
const std::vector<FixtureNote>& v11_fixture_notes();

// The fixture's source directory (compile-time STARPUNK_TEST_FIXTURES_DIR).
std::string fixtures_dir();

// Copies the note files and creates the database. `data_dir` must exist.
Status build_v11_fixture(const std::string& data_dir, V11Variant variant = V11Variant::v1_1);

// Reads a file byte-exactly (test helper); not_found error when it cannot.
Result<std::string> slurp(const std::string& path);

}  // namespace starpunk::testing
