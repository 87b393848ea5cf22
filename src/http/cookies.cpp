#include "http/cookies.hpp"

#include <cstring>

#include "http/form.hpp"
#include "util/strings.hpp"
#include "http/request.hpp"

namespace starpunk::http {

namespace {

// Calls fn(name, value) for each well-formed pair, in order, until fn returns
// false or `max_pairs` pairs have been passed. Duplicates are passed too.
template <typename Fn>
void for_each_cookie(std::string_view header, size_t max_pairs, Fn fn) {
    size_t seen = 0;
    size_t pos = 0;
    while (pos < header.size() && seen < max_pairs) {
        size_t semi = header.find(';', pos);
        if (semi == std::string_view::npos) semi = header.size();
        const std::string_view piece = header.substr(pos, semi - pos);
        pos = semi + 1;

        const size_t eq = piece.find('=');
        if (eq == std::string_view::npos) continue;
        const std::string_view name = trim_ows(piece.substr(0, eq));
        if (name.empty()) continue;
        std::string_view value = trim_ows(piece.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
            value = value.substr(1, value.size() - 2);
        ++seen;
        if (!fn(name, value)) return;
    }
}

bool is_cookie_octet(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u == 0x21 || (u >= 0x23 && u <= 0x2B) || (u >= 0x2D && u <= 0x3A) ||
           (u >= 0x3C && u <= 0x5B) || (u >= 0x5D && u <= 0x7E);
}

bool is_cookie_value(std::string_view v) {
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    for (char c : v) {
        if (!is_cookie_octet(c)) return false;
    }
    return true;
}

bool is_path_value(std::string_view p) {
    for (char c : p) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F || c == ';') return false;
    }
    return true;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> parse_cookie_header(std::string_view header,
                                                                     size_t max_cookies) {
    std::vector<std::pair<std::string, std::string>> out;
    for_each_cookie(header, max_cookies, [&](std::string_view name, std::string_view value) {
        for (const auto& kv : out) {
            if (kv.first == name) return true;
        }
        out.emplace_back(std::string(name), std::string(value));
        return true;
    });
    return out;
}

std::optional<std::string> find_cookie(std::string_view header, std::string_view name) {
    std::optional<std::string> found;
    for_each_cookie(header, 64, [&](std::string_view n, std::string_view v) {
        if (n != name) return true;
        found.emplace(v);
        return false;
    });
    return found;
}

Result<std::string> format_set_cookie(std::string_view name, std::string_view value,
                                      const CookieOptions& opts) {
    if (name.empty()) return make_error(ErrorCode::invalid_input, "cookie name is empty");
    for (char c : name) {
        if (!is_tchar(c)) {
            return make_error(ErrorCode::invalid_input,
                              "cookie name \"" + printable_excerpt(name) + "\" is not an RFC 7230 token");
        }
    }
    if (!is_cookie_value(value)) {
        return make_error(ErrorCode::invalid_input, "value of cookie \"" + std::string(name) +
                                                        "\" contains a character not allowed in cookies");
    }
    if (!is_path_value(opts.path)) {
        return make_error(ErrorCode::invalid_input,
                          "cookie path \"" + printable_excerpt(opts.path) + "\" contains a control character or ';'");
    }
    if (opts.max_age_seconds && *opts.max_age_seconds < 0) {
        return make_error(ErrorCode::invalid_input, "cookie Max-Age must not be negative");
    }
    std::string same_site;
    if (iequals(opts.same_site, "Strict")) {
        same_site = "Strict";
    } else if (iequals(opts.same_site, "Lax")) {
        same_site = "Lax";
    } else if (iequals(opts.same_site, "None")) {
        if (!opts.secure)
            return make_error(ErrorCode::invalid_input, "SameSite=None requires the Secure attribute");
        same_site = "None";
    } else if (!opts.same_site.empty()) {
        return make_error(ErrorCode::invalid_input, "cookie SameSite must be Strict, Lax or None, not \"" +
                                                        printable_excerpt(opts.same_site) + "\"");
    }

    std::string out;
    out.reserve(name.size() + value.size() + 64);
    out.append(name).append("=").append(value);
    if (!opts.path.empty()) out.append("; Path=").append(opts.path);
    if (opts.max_age_seconds) out.append("; Max-Age=").append(std::to_string(*opts.max_age_seconds));
    if (opts.http_only) out.append("; HttpOnly");
    if (opts.secure) out.append("; Secure");
    if (!same_site.empty()) out.append("; SameSite=").append(same_site);
    return out;
}

}  // namespace starpunk::http
