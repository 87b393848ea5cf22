#include "metrics/sql_text.hpp"

#include <cctype>
#include <vector>

namespace starpunk::metrics {

namespace {

bool ident_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

// Words and quoted identifiers of `sql`, in order; literals, comments and
// punctuation are skipped. Stops after `limit` words (enough to classify).
std::vector<std::string> words(std::string_view sql, size_t limit) {
    std::vector<std::string> out;
    size_t i = 0;
    const size_t n = sql.size();
    while (i < n && out.size() < limit) {
        char c = sql[i];
        if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
            while (i < n && sql[i] != '\n') ++i;
        } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
            auto end = sql.find("*/", i + 2);
            i = end == std::string_view::npos ? n : end + 2;
        } else if (c == '\'') {  // string literal ('' escapes a quote)
            ++i;
            while (i < n) {
                if (sql[i] == '\'' && !(i + 1 < n && sql[i + 1] == '\'')) break;
                i += sql[i] == '\'' ? 2 : 1;
            }
            ++i;
        } else if (c == '"' || c == '`' || c == '[') {
            char close = c == '[' ? ']' : c;
            auto end = sql.find(close, i + 1);
            if (end == std::string_view::npos) end = n;
            out.emplace_back(sql.substr(i + 1, end - i - 1));
            i = end + 1;
        } else if (ident_char(c)) {
            size_t start = i;
            while (i < n && ident_char(sql[i])) ++i;
            out.emplace_back(sql.substr(start, i - start));
        } else {
            ++i;
        }
    }
    return out;
}

// The word after the first occurrence of any of `markers` (case-insensitive),
// skipping IF [NOT] EXISTS and OR <conflict clause>.
std::string word_after(const std::vector<std::string>& w, std::initializer_list<std::string_view> markers) {
    for (size_t i = 0; i < w.size(); ++i) {
        std::string u = upper(w[i]);
        bool hit = false;
        for (auto m : markers) hit = hit || u == m;
        if (!hit) continue;
        size_t j = i + 1;
        while (j < w.size()) {
            std::string v = upper(w[j]);
            if (v == "IF" || v == "NOT" || v == "EXISTS" || v == "OR" || v == "ROLLBACK" || v == "ABORT" ||
                v == "REPLACE" || v == "FAIL" || v == "IGNORE" || v == "ONLY") {
                ++j;
                continue;
            }
            break;
        }
        if (j < w.size()) return w[j];
        return {};
    }
    return {};
}

}  // namespace

StatementShape classify_sql(std::string_view sql) {
    StatementShape shape;
    auto w = words(sql, 64);
    if (w.empty()) return shape;
    shape.kind = upper(w[0]);
    const std::string& k = shape.kind;
    if (k == "SELECT" || k == "DELETE" || k == "WITH") {
        shape.table = word_after(w, {"FROM"});
    } else if (k == "INSERT" || k == "REPLACE") {
        shape.table = word_after(w, {"INTO"});
    } else if (k == "UPDATE") {
        shape.table = word_after(w, {"UPDATE"});
    } else if (k == "CREATE" || k == "DROP" || k == "ALTER") {
        shape.table = word_after(w, {"TABLE", "INDEX", "TRIGGER", "VIEW"});
    } else if (k == "PRAGMA" && w.size() > 1) {
        shape.table = w[1];
    }
    // "main.notes" arrives as two words; keep the table, not the schema.
    if ((shape.table == "main" || shape.table == "temp") && sql.find(shape.table + ".") != std::string_view::npos) {
        for (size_t i = 0; i + 1 < w.size(); ++i)
            if (w[i] == shape.table) {
                shape.table = w[i + 1];
                break;
            }
    }
    return shape;
}

std::string shorten_sql(std::string_view sql, size_t max_bytes) {
    std::string out;
    out.reserve(std::min(sql.size(), max_bytes));
    bool space = false;
    for (char c : sql) {
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            space = !out.empty();
            continue;
        }
        if (space) {
            if (out.size() + 1 >= max_bytes) break;
            out.push_back(' ');
            space = false;
        }
        if (out.size() >= max_bytes) break;
        out.push_back(c);
    }
    // Never end inside a UTF-8 sequence: drop a trailing incomplete character.
    size_t end = out.size();
    size_t i = end;
    while (i > 0 && (static_cast<unsigned char>(out[i - 1]) & 0xC0) == 0x80) --i;
    if (i > 0 && static_cast<unsigned char>(out[i - 1]) >= 0xC0) {
        unsigned char lead = static_cast<unsigned char>(out[i - 1]);
        size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
        if (end - (i - 1) < need) out.resize(i - 1);
    }
    return out;
}

}  // namespace starpunk::metrics
