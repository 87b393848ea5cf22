#include "metrics/sql_text.hpp"

#include <array>

#include "util/strings.hpp"

namespace starpunk::metrics {

namespace {

bool ident_char(char c) {
    auto u = static_cast<unsigned char>(c);
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || u >= 0x80;
}

constexpr std::array<std::string_view, 22> kKinds = {
    "SELECT", "INSERT",  "UPDATE", "DELETE", "REPLACE", "WITH",    "PRAGMA",  "BEGIN",  "COMMIT", "ROLLBACK", "END",
    "CREATE", "DROP",    "ALTER",  "VACUUM", "ANALYZE", "REINDEX", "ATTACH",  "DETACH", "EXPLAIN", "SAVEPOINT",
    "RELEASE"};

// Words of an SQL text in order: identifiers and keywords, and quoted
// identifiers without their quotes; literals, comments and punctuation skipped.
class Words {
public:
    explicit Words(std::string_view sql) : s_(sql) {}

    // The next word, or an empty view at the end. `dotted` tells whether the
    // word is directly followed by '.' (a schema name).
    std::string_view next(bool* dotted = nullptr) {
        const size_t n = s_.size();
        while (i_ < n) {
            char c = s_[i_];
            if (c == '-' && i_ + 1 < n && s_[i_ + 1] == '-') {
                while (i_ < n && s_[i_] != '\n') ++i_;
            } else if (c == '/' && i_ + 1 < n && s_[i_ + 1] == '*') {
                auto end = s_.find("*/", i_ + 2);
                i_ = end == std::string_view::npos ? n : end + 2;
            } else if (c == '\'') {  // string literal; '' is an escaped quote
                ++i_;
                while (i_ < n) {
                    if (s_[i_] == '\'') {
                        if (i_ + 1 < n && s_[i_ + 1] == '\'') {
                            i_ += 2;
                            continue;
                        }
                        break;
                    }
                    ++i_;
                }
                ++i_;
            } else if (c == '"' || c == '`' || c == '[') {
                char close = c == '[' ? ']' : c;
                auto end = s_.find(close, i_ + 1);
                if (end == std::string_view::npos) end = n;
                std::string_view w = s_.substr(i_ + 1, end - i_ - 1);
                i_ = end + 1;
                return finish(w, dotted);
            } else if (ident_char(c)) {
                size_t start = i_;
                while (i_ < n && ident_char(s_[i_])) ++i_;
                return finish(s_.substr(start, i_ - start), dotted);
            } else {
                ++i_;
            }
        }
        if (dotted) *dotted = false;
        return {};
    }

private:
    std::string_view finish(std::string_view w, bool* dotted) {
        if (dotted) *dotted = i_ < s_.size() && s_[i_] == '.';
        return w;
    }
    std::string_view s_;
    size_t i_ = 0;
};

bool is_skip_word(std::string_view w) {
    for (std::string_view k : {"IF", "NOT", "EXISTS", "OR", "ROLLBACK", "ABORT", "REPLACE", "FAIL", "IGNORE", "ONLY",
                               "UNIQUE", "VIRTUAL", "TEMP", "TEMPORARY"})
        if (iequals(w, k)) return true;
    return false;
}

// The name after the first of `markers`, skipping IF NOT EXISTS / OR … and a
// schema prefix ("main.notes" -> notes).
template <size_t N>
std::string_view name_after(Words& words, const std::array<std::string_view, N>& markers) {
    for (std::string_view w = words.next(); !w.empty(); w = words.next()) {
        bool hit = false;
        for (auto m : markers) hit = hit || iequals(w, m);
        if (!hit) continue;
        bool dotted = false;
        std::string_view name = words.next(&dotted);
        while (!name.empty() && is_skip_word(name)) name = words.next(&dotted);
        if (dotted) name = words.next();
        return name;
    }
    return {};
}

}  // namespace

StatementShape classify_sql(std::string_view sql) {
    StatementShape shape;
    Words words(sql);
    std::string_view first = words.next();
    if (first.empty()) return shape;
    shape.kind = "OTHER";
    for (auto k : kKinds)
        if (iequals(first, k)) shape.kind = k;
    const std::string_view k = shape.kind;
    if (k == "SELECT" || k == "DELETE" || k == "WITH") {
        shape.table = name_after(words, std::array<std::string_view, 1>{"FROM"});
    } else if (k == "INSERT" || k == "REPLACE") {
        shape.table = name_after(words, std::array<std::string_view, 1>{"INTO"});
    } else if (k == "UPDATE") {
        bool dotted = false;
        std::string_view name = words.next(&dotted);
        while (!name.empty() && is_skip_word(name)) name = words.next(&dotted);
        if (dotted) name = words.next();
        shape.table = name;
    } else if (k == "CREATE" || k == "DROP" || k == "ALTER") {
        shape.table = name_after(words, std::array<std::string_view, 4>{"TABLE", "INDEX", "TRIGGER", "VIEW"});
    } else if (k == "PRAGMA") {
        bool dotted = false;
        std::string_view name = words.next(&dotted);
        if (dotted) name = words.next();
        shape.table = name;
    }
    return shape;
}

std::string_view shorten_sql(std::string_view sql, std::span<char> out) {
    const size_t cap = out.size();
    size_t len = 0;
    bool space = false;
    for (char c : sql) {
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            space = len > 0;
            continue;
        }
        if (space) {
            if (len + 1 >= cap) break;
            out[len++] = ' ';
            space = false;
        }
        if (len >= cap) break;
        out[len++] = c;
    }
    // Never end inside a UTF-8 sequence: drop a trailing incomplete character.
    size_t i = len;
    while (i > 0 && (static_cast<unsigned char>(out[i - 1]) & 0xC0) == 0x80) --i;
    if (i > 0 && static_cast<unsigned char>(out[i - 1]) >= 0xC0) {
        auto lead = static_cast<unsigned char>(out[i - 1]);
        size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
        if (len - (i - 1) < need) len = i - 1;
    }
    return {out.data(), len};
}

}  // namespace starpunk::metrics
