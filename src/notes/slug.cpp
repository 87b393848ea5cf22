#include "notes/slug.hpp"

#include <unicode/translit.h>
#include <unicode/unistr.h>
#include <unicode/utrans.h>

#include <array>
#include <cstdio>
#include <memory>
#include <mutex>
#include <utility>

#include "notes/note_text.hpp"
#include "util/crypto.hpp"
#include "util/strings.hpp"

namespace starpunk::notes {

namespace {

constexpr std::string_view kTransliteratorId = "Any-Latin; Latin-ASCII";

// SPEC §2.5, plus "feed-xml", the normalised form of "feed.xml".
constexpr std::array<std::string_view, 23> kReservedSlugs = {
    "api",  "admin", "auth",  "feed",   "static", "notes", "note",  "login",
    "logout", "settings", "micropub", "callback", "feed.xml", "rss", "atom", "index",
    "home", "about", "search", "health", "media",  "tag",   "feed-xml"};

bool in_reserved_list(std::string_view s) {
    for (std::string_view r : kReservedSlugs)
        if (r == s) return true;
    return false;
}

// The process-wide transliterator, created on first use; null if ICU cannot
// build it (missing data). Never used directly: see thread_transliterator().
const icu::Transliterator* prototype_transliterator() {
    static const std::unique_ptr<icu::Transliterator> prototype = []() -> std::unique_ptr<icu::Transliterator> {
        UErrorCode status = U_ZERO_ERROR;
        UParseError parse_error{};
        std::unique_ptr<icu::Transliterator> t(icu::Transliterator::createInstance(
            icu::UnicodeString::fromUTF8(icu::StringPiece(kTransliteratorId.data(),
                                                          static_cast<int32_t>(kTransliteratorId.size()))),
            UTRANS_FORWARD, parse_error, status));
        if (U_FAILURE(status)) return nullptr;
        return t;
    }();
    return prototype.get();
}

// This thread's clone of the prototype (Transliterator::transliterate mutates
// internal state, e.g. Any-Latin's per-script cache, so instances are never
// shared). The clone is taken under a mutex because the prototype is shared.
icu::Transliterator* thread_transliterator() {
    static std::mutex clone_mutex;
    thread_local const std::unique_ptr<icu::Transliterator> mine = []() -> std::unique_ptr<icu::Transliterator> {
        const icu::Transliterator* prototype = prototype_transliterator();
        if (prototype == nullptr) return nullptr;
        std::lock_guard<std::mutex> lock(clone_mutex);
        return std::unique_ptr<icu::Transliterator>(prototype->clone());
    }();
    return mine.get();
}

// At most `max_chars` code points of `s` (never splits a UTF-8 sequence).
std::string_view first_chars(std::string_view s, std::size_t max_chars) {
    std::size_t count = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if ((static_cast<unsigned char>(s[i]) & 0xC0u) != 0x80u) {
            if (count == max_chars) return s.substr(0, i);
            ++count;
        }
    }
    return s;
}

bool is_ascii(std::string_view s) {
    for (char c : s)
        if (static_cast<unsigned char>(c) >= 0x80) return false;
    return true;
}

// `s` cut to `max_len` with trailing '-' removed (s is already normalised).
std::string cut_slug(std::string s, std::size_t max_len) {
    if (s.size() > max_len) s.resize(max_len);
    while (!s.empty() && s.back() == '-') s.pop_back();
    return s;
}

// 4 characters of [a-z0-9], uniformly: bytes >= 252 (= 7 * 36) are discarded
// so that `% 36` has no bias.
Result<std::string> random_suffix() {
    static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string out;
    while (out.size() < 4) {
        auto bytes = random_bytes(16);
        if (!bytes) return std::move(bytes).error();
        for (char b : *bytes) {
            const auto v = static_cast<unsigned char>(b);
            if (v >= 252) continue;
            out.push_back(kAlphabet[v % 36]);
            if (out.size() == 4) break;
        }
    }
    return out;
}

}  // namespace

bool slug_transliteration_available() { return prototype_transliterator() != nullptr; }

std::string normalize_slug_text(std::string_view text, std::size_t max_len) {
    if (max_len == 0) return {};
    const std::string_view input = first_chars(text, kMaxTransliteratedChars);
    std::string transliterated;
    std::string_view ascii = input;
    if (!is_ascii(input)) {
        if (icu::Transliterator* t = thread_transliterator(); t != nullptr) {
            icu::UnicodeString u =
                icu::UnicodeString::fromUTF8(icu::StringPiece(input.data(), static_cast<int32_t>(input.size())));
            t->transliterate(u);
            u.toUTF8String(transliterated);
            ascii = transliterated;
        }
        // Without ICU, non-ASCII bytes simply act as separators below.
    }
    // Invariant while building: `out` never starts or ends with '-' and never
    // holds "--"; a separator is only written when a character follows it.
    std::string out;
    bool separator = false;
    for (char c : ascii) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (separator && !out.empty()) out.push_back('-');
            separator = false;
            out.push_back(c);
            if (out.size() > max_len) break;
        } else {
            separator = true;
        }
    }
    return cut_slug(std::move(out), max_len);
}

bool is_reserved_slug(std::string_view slug) {
    const std::string lowered = to_lower(trim(slug));
    if (in_reserved_list(lowered)) return true;
    return in_reserved_list(normalize_slug_text(lowered, kCustomSlugMaxLen));
}

std::string slug_from_content(std::string_view content) {
    constexpr int kMaxTokensExamined = 100;
    // Five words rarely need more than a few hundred characters of text; the
    // margin covers tokens that normalise to nothing.
    const std::string text = plain_text(content, 2048);
    std::string out;
    std::size_t words = 0;
    int examined = 0;
    std::size_t start = 0;
    while (start < text.size() && words < kAutoSlugWords && out.size() < kAutoSlugMaxLen &&
           examined < kMaxTokensExamined) {
        std::size_t end = text.find(' ', start);
        if (end == std::string::npos) end = text.size();
        const std::string_view token = std::string_view(text).substr(start, end - start);
        start = end + 1;
        ++examined;
        const std::string word = normalize_slug_text(token, kAutoSlugMaxLen);
        if (word.empty()) continue;
        if (!out.empty()) out.push_back('-');
        out.append(word);
        ++words;
    }
    return cut_slug(std::move(out), kAutoSlugMaxLen);
}

std::string timestamp_slug(std::chrono::system_clock::time_point t) {
    using namespace std::chrono;
    constexpr sys_seconds kMin{sys_days{year{1} / January / 1}};
    constexpr sys_seconds kMax{sys_days{year{9999} / December / 31} + hours{23} + minutes{59} + seconds{59}};
    sys_seconds s = floor<seconds>(t);
    if (s < kMin) s = kMin;
    if (s > kMax) s = kMax;
    const sys_days day = floor<days>(s);
    const year_month_day ymd{day};
    const hh_mm_ss<seconds> hms{s - day};
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d%02u%02u-%02d%02d%02d", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    return buf;
}

Result<std::string> validate_custom_slug(std::string_view requested) {
    const std::string too_long = "slug is too long (at most " + std::to_string(kCustomSlugMaxLen) + " characters)";
    if (requested.size() > kMaxCustomSlugInputBytes) return make_error(ErrorCode::invalid_input, too_long);
    if (requested.find('/') != std::string_view::npos || requested.find('\\') != std::string_view::npos)
        return make_error(ErrorCode::invalid_input, "slug must not contain '/'");
    std::string slug = normalize_slug_text(requested, kCustomSlugMaxLen + 1);
    if (slug.empty()) return make_error(ErrorCode::invalid_input, "slug must contain letters or digits");
    if (slug.size() > kCustomSlugMaxLen) return make_error(ErrorCode::invalid_input, too_long);
    // The message quotes the reserved word itself (ASCII), never raw input.
    const std::string lowered = to_lower(trim(requested));
    if (in_reserved_list(lowered)) return make_error(ErrorCode::invalid_input, "slug '" + lowered + "' is reserved");
    if (in_reserved_list(slug)) return make_error(ErrorCode::invalid_input, "slug '" + slug + "' is reserved");
    return slug;
}

Result<std::string> custom_slug(std::string_view requested, const SlugExists& exists) {
    auto valid = validate_custom_slug(requested);
    if (!valid) return valid;
    const std::string& base = *valid;
    auto taken = exists(base);
    if (!taken) return std::move(taken).error();
    if (!*taken) return valid;
    for (int n = 2; n <= kMaxNumberedSuffix; ++n) {
        const std::string suffix = "-" + std::to_string(n);
        std::string candidate = cut_slug(base, kCustomSlugMaxLen - suffix.size()) + suffix;
        auto t = exists(candidate);
        if (!t) return std::move(t).error();
        if (!*t) return candidate;
    }
    return make_error(ErrorCode::conflict, "slug '" + base + "' is taken, and so are '" + base + "-2' to '" + base +
                                               "-" + std::to_string(kMaxNumberedSuffix) + "'");
}

Result<SlugResult> automatic_slug(std::string_view content, std::chrono::system_clock::time_point created_at,
                                  const SlugExists& exists) {
    SlugResult result;
    std::string base = slug_from_content(content);
    if (base.empty()) {
        base = timestamp_slug(created_at);
        result.used_timestamp_fallback = true;
    }
    // Reserved words count as taken, so content such as "About" gets a suffix.
    auto taken = [&](std::string_view s) -> Result<bool> {
        if (is_reserved_slug(s)) return true;
        return exists(s);
    };
    auto t = taken(base);
    if (!t) return std::move(t).error();
    if (!*t) {
        result.slug = std::move(base);
        return result;
    }
    const std::string stem = cut_slug(base, kAutoSlugMaxLen - 5);  // room for "-xxxx"
    for (int attempt = 0; attempt < kMaxRandomSuffixAttempts; ++attempt) {
        auto suffix = random_suffix();
        if (!suffix) return std::move(suffix).error();
        std::string candidate = stem + "-" + *suffix;
        auto tc = taken(candidate);
        if (!tc) return std::move(tc).error();
        if (!*tc) {
            result.slug = std::move(candidate);
            return result;
        }
    }
    return make_error(ErrorCode::conflict, "no free slug found for '" + base + "' after " +
                                               std::to_string(kMaxRandomSuffixAttempts) + " random suffixes");
}

Result<SlugResult> choose_slug(std::string_view custom, std::string_view content,
                               std::chrono::system_clock::time_point created_at, const SlugExists& exists,
                               CustomSlugPolicy policy) {
    if (trim(custom).empty()) return automatic_slug(content, created_at, exists);
    auto chosen = custom_slug(custom, exists);
    if (chosen) {
        SlugResult result;
        result.slug = std::move(*chosen);
        return result;
    }
    const ErrorCode code = chosen.error().code;
    const bool unusable = code == ErrorCode::invalid_input || code == ErrorCode::conflict;
    if (policy == CustomSlugPolicy::reject || !unusable) return std::move(chosen).error();
    auto fallback = automatic_slug(content, created_at, exists);
    if (!fallback) return fallback;
    fallback->custom_rejected = true;
    fallback->custom_rejected_reason = chosen.error().message;
    return fallback;
}

}  // namespace starpunk::notes
