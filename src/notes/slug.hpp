// Note slugs (SPEC §2.5): the <slug> in /note/<slug>, chosen once at creation
// and never changed.
//
// Invariants of every slug this module returns:
//   1. It matches ^[a-z0-9]([a-z0-9-]*[a-z0-9])?$ (so it is non-empty, ASCII,
//      has no '/', no "--" run and no leading or trailing '-').
//   2. Automatic slugs have at most kAutoSlugMaxLen characters, custom ones at
//      most kCustomSlugMaxLen, suffixes included.
//   3. It is not reserved (is_reserved_slug) and exists() said it was free when
//      it was checked. The check is advisory: a concurrent writer can take the
//      slug before the caller inserts it, so the database's UNIQUE constraint
//      stays the arbiter and the caller retries the whole choice on a conflict.
//
// Normalisation (one function, normalize_slug_text, for automatic and custom
// slugs): transliterate to ASCII with ICU "Any-Latin; Latin-ASCII"
// ("Crème brûlée" -> "Creme brulee", "Привет мир" -> "Privet mir",
// "你好" -> "ni hao"), lowercase, every character outside [a-z0-9] becomes '-',
// runs of '-' collapse, '-' is trimmed from both ends, then the text is cut to
// the length limit and trailing '-' trimmed again. Normalisation is idempotent.
//
// Thread safety: every function may be called from any thread. ICU
// transliterators are not safe to share ("Transliterators are not immutable, so
// they must be synchronized when shared between threads", unicode/translit.h),
// so one is created once per process (the first creation loads ICU data, about
// 75 ms) and each thread uses its own clone (a few microseconds, once per
// thread). Pure-ASCII text never touches ICU.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace starpunk::notes {

inline constexpr std::size_t kAutoSlugMaxLen = 100;
inline constexpr std::size_t kCustomSlugMaxLen = 200;
inline constexpr std::size_t kAutoSlugWords = 5;
// Automatic slugs: random suffixes tried before giving up (36^4 ≈ 1.7 million
// suffixes per base, so a failure means exists() is broken, not bad luck).
inline constexpr int kMaxRandomSuffixAttempts = 16;
// Custom slugs: "-2" … "-<this>" are tried before giving up.
inline constexpr int kMaxNumberedSuffix = 100;
// Only this many code points of a text are transliterated (bounds ICU's work
// on a 1 MB single "word"); custom slugs longer than kMaxCustomSlugInputBytes
// are refused before any work.
inline constexpr std::size_t kMaxTransliteratedChars = 1024;
inline constexpr std::size_t kMaxCustomSlugInputBytes = 1024;

// Whether `slug` is taken, deleted notes included. May fail (a database
// error); the error is passed through unchanged. A lambda returning bool
// converts implicitly.
using SlugExists = std::function<Result<bool>(std::string_view slug)>;

struct SlugResult {
    std::string slug;
    // The content gave no usable characters (emoji only, punctuation only, …)
    // and the slug came from created_at. The caller should log a warning
    // (SPEC §2.5); this module never logs.
    bool used_timestamp_fallback = false;
    // choose_slug(…, CustomSlugPolicy::fall_back) ignored the requested custom
    // slug; the reason is a user-facing message (e.g. "slug 'admin' is reserved").
    bool custom_rejected = false;
    std::string custom_rejected_reason;
};

// Transliterates, lowercases and dashes `text` as described above, cut to at
// most `max_len` characters. Empty when nothing usable remains (or max_len is
// 0). Never fails: should ICU be unusable, non-ASCII characters count as
// separators (see slug_transliteration_available).
std::string normalize_slug_text(std::string_view text, std::size_t max_len);

// True when the ICU transliterator could be created. The first call creates it;
// calling this at start-up moves that cost out of the first request and lets
// `starpunk doctor` report a broken ICU installation.
bool slug_transliteration_available();

// Reserved words (SPEC §2.5), compared case-insensitively on the trimmed text
// and on its normalised form: "ADMIN", " Admin ", "admin!" and "Feed.XML" are
// reserved, and so is "feed-xml" (what "feed.xml" normalises to).
bool is_reserved_slug(std::string_view slug);

// The automatic slug's base: the first kAutoSlugWords words of the note's
// visible text, normalised, joined by '-', at most kAutoSlugMaxLen characters.
// Words are the whitespace-separated tokens of plain_text(content) (see
// note_text.hpp: Markdown/HTML syntax such as '#', '**', link URLs and tags is
// removed first); tokens that normalise to nothing ("—", "🎉", "&") are not
// counted as words. Only the first 100 tokens are examined. Empty when no word
// is found.
std::string slug_from_content(std::string_view content);

// "YYYYMMDD-HHMMSS" of `t` in UTC (the automatic slug's fallback). Times
// outside years 1–9999 are clamped into that range.
std::string timestamp_slug(std::chrono::system_clock::time_point t);

// Checks a custom slug (mp-slug, the admin form's slug field, an imported
// file's name) and returns its normalised form: "My Post!" -> "my-post".
// Errors (ErrorCode::invalid_input; messages are shown to the user as is):
//   * "slug must not contain '/'"            ('/' or '\\' anywhere in the input)
//   * "slug must contain letters or digits" (nothing left after normalising)
//   * "slug is too long (at most 200 characters)"
//   * "slug '<input>' is reserved"
// Does not look at existing notes.
Result<std::string> validate_custom_slug(std::string_view requested);

// validate_custom_slug, then the first free one of slug, slug-2, slug-3, …,
// slug-kMaxNumberedSuffix (the base is shortened so the result stays within
// kCustomSlugMaxLen). Errors: those of validate_custom_slug; ErrorCode::conflict
// when every candidate is taken; whatever exists() returns.
Result<std::string> custom_slug(std::string_view requested, const SlugExists& exists);

// slug_from_content(content), or timestamp_slug(created_at) when that is empty
// (used_timestamp_fallback = true). A reserved or taken base gets '-' and 4
// random [a-z0-9] characters from the OS CSPRNG (the base is shortened to keep
// kAutoSlugMaxLen); up to kMaxRandomSuffixAttempts suffixes are tried.
// Errors: ErrorCode::conflict when every attempt was taken; ErrorCode::internal
// when the random generator fails; whatever exists() returns.
Result<SlugResult> automatic_slug(std::string_view content, std::chrono::system_clock::time_point created_at,
                                  const SlugExists& exists);

// What to do with an unusable custom slug (invalid, reserved, or it and all
// its numbered variants taken).
enum class CustomSlugPolicy {
    reject,     // admin form: return the error so the form can show it
    fall_back,  // Micropub, import: use the automatic slug, set custom_rejected
};

// The slug for a new note. A blank `custom` (empty or whitespace) means none
// was requested: automatic_slug. Otherwise custom_slug, and on an
// invalid_input or conflict error the policy decides. Errors from exists() or
// the random generator are returned under either policy: a database failure is
// not a reason to ignore what the user asked for.
Result<SlugResult> choose_slug(std::string_view custom, std::string_view content,
                               std::chrono::system_clock::time_point created_at, const SlugExists& exists,
                               CustomSlugPolicy policy);

}  // namespace starpunk::notes
