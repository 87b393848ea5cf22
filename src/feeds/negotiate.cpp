#include "feeds/negotiate.hpp"

#include <array>
#include <string>
#include <vector>

#include "util/strings.hpp"

namespace starpunk::feeds {

namespace {

struct Offer {
    std::string_view type;
    std::string_view subtype;
    Format format;
};

// In tie-break order: RSS before Atom before JSON Feed; each format's
// canonical media type (the one it is served as) first.
constexpr std::array<Offer, 6> kOffers = {{
    {"application", "rss+xml", Format::rss},
    {"application", "xml", Format::rss},
    {"text", "xml", Format::rss},
    {"application", "atom+xml", Format::atom},
    {"application", "feed+json", Format::json},
    {"application", "json", Format::json},
}};

struct Range {
    std::string type;     // lowercase; "*" for a wildcard
    std::string subtype;  // lowercase; "*" for a wildcard
    int q = 1000;         // thousandths
};

bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        if (!is_tchar(c)) return false;
    }
    return true;
}

// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in thousandths.
std::optional<int> parse_q(std::string_view v) {
    if (v.empty() || (v[0] != '0' && v[0] != '1')) return std::nullopt;
    int whole = v[0] - '0';
    if (v.size() == 1) return whole * 1000;
    if (v[1] != '.' || v.size() > 5) return std::nullopt;
    int frac = 0;
    int scale = 100;
    for (char c : v.substr(2)) {
        if (c < '0' || c > '9') return std::nullopt;
        frac += (c - '0') * scale;
        scale /= 10;
    }
    if (whole == 1 && frac != 0) return std::nullopt;
    return whole * 1000 + frac;
}

// Splits on `sep` outside double-quoted strings.
std::vector<std::string_view> split_unquoted(std::string_view s, char sep) {
    std::vector<std::string_view> parts;
    bool quoted = false;
    size_t start = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (quoted && c == '\\') {
            ++i;
        } else if (c == '"') {
            quoted = !quoted;
        } else if (c == sep && !quoted) {
            parts.push_back(s.substr(start, i - start));
            start = i + 1;
        }
    }
    parts.push_back(s.substr(start));
    return parts;
}

// One element of the Accept list; nullopt when malformed.
std::optional<Range> parse_range(std::string_view element) {
    auto pieces = split_unquoted(element, ';');
    std::string_view media = trim(pieces[0]);
    size_t slash = media.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    std::string_view type = media.substr(0, slash);
    std::string_view subtype = media.substr(slash + 1);
    if (!is_token(type) || !is_token(subtype)) return std::nullopt;
    if (type == "*" && subtype != "*") return std::nullopt;
    Range r{to_lower(type), to_lower(subtype), 1000};
    for (size_t i = 1; i < pieces.size(); ++i) {
        std::string_view param = trim(pieces[i]);
        if (param.empty()) continue;  // "type/sub;" or ";;": nothing there
        size_t eq = param.find('=');
        if (eq == std::string_view::npos) return std::nullopt;
        std::string_view name = trim(param.substr(0, eq));
        std::string_view value = trim(param.substr(eq + 1));
        if (!is_token(name)) return std::nullopt;
        if (to_lower(name) == "q") {
            auto q = parse_q(value);
            if (!q) return std::nullopt;
            r.q = *q;
            break;  // what follows q are accept-extensions: ignored
        }
    }
    return r;
}

// 3 exact, 2 type/*, 1 */*, 0 no match.
int specificity(const Range& r, const Offer& o) {
    if (r.type == "*") return 1;
    if (r.type != o.type) return 0;
    if (r.subtype == "*") return 2;
    return r.subtype == o.subtype ? 3 : 0;
}

}  // namespace

std::optional<Format> negotiate_format(std::optional<std::string_view> accept) {
    if (!accept || trim(*accept).empty()) return Format::rss;
    std::vector<Range> ranges;
    for (std::string_view element : split_unquoted(*accept, ',')) {
        if (trim(element).empty()) continue;  // "a/b, , c/d" is allowed
        if (auto r = parse_range(element)) ranges.push_back(std::move(*r));
    }
    if (ranges.empty()) return Format::rss;

    // A format's weight: its canonical media type's q when a range names that
    // type exactly (the client spoke about it), else the best q of its types.
    std::array<int, 3> weight{};           // per format, thousandths
    std::array<bool, 3> named_exactly{};  // the canonical type has an exact range
    std::array<bool, 3> seen{};
    for (const Offer& o : kOffers) {
        auto f = static_cast<size_t>(o.format);
        bool canonical = !seen[f];
        seen[f] = true;
        int best_specificity = 0;
        int q = 0;
        for (const Range& r : ranges) {
            int s = specificity(r, o);
            if (s == 0) continue;
            if (s > best_specificity) {
                best_specificity = s;
                q = r.q;
            } else if (s == best_specificity) {
                q = std::max(q, r.q);
            }
        }
        if (canonical && best_specificity == 3) {
            weight[f] = q;
            named_exactly[f] = true;
        } else if (!named_exactly[f]) {
            weight[f] = std::max(weight[f], q);
        }
    }
    std::optional<Format> chosen;
    int best = 0;
    for (Format f : {Format::rss, Format::atom, Format::json}) {
        if (weight[static_cast<size_t>(f)] > best) {
            best = weight[static_cast<size_t>(f)];
            chosen = f;
        }
    }
    return chosen;
}

std::string_view offered_media_types() { return "application/rss+xml, application/atom+xml, application/feed+json"; }

}  // namespace starpunk::feeds
