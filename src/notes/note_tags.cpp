#include "notes/note_tags.hpp"

#include <unicode/unistr.h>

#include <set>

#include "notes/note_text.hpp"

namespace starpunk::notes {

namespace {

bool is_space_or_control(unsigned char c) { return c <= 0x20 || c == 0x7f; }

}  // namespace

std::optional<Tag> make_tag(std::string_view written) {
    // Display: whitespace and ASCII control characters collapse to single
    // spaces; invalid UTF-8 reads as U+FFFD (ICU's conversion below).
    std::string display;
    bool pending_space = false;
    for (char ch : written) {
        if (is_space_or_control(static_cast<unsigned char>(ch))) {
            pending_space = !display.empty();
            continue;
        }
        if (pending_space) display.push_back(' ');
        pending_space = false;
        display.push_back(ch);
    }
    icu::UnicodeString u = icu::UnicodeString::fromUTF8(display);
    display.clear();
    u.toUTF8String(display);  // valid UTF-8 from here on
    display = std::string(truncate_chars(display, kTagMaxChars));
    while (!display.empty() && display.back() == ' ') display.pop_back();

    std::string name;
    icu::UnicodeString folded = icu::UnicodeString::fromUTF8(display);
    folded.foldCase();
    folded.toUTF8String(name);
    for (char& ch : name) {
        if (ch == ' ' || ch == '/') ch = '-';
    }
    if (name.find_first_not_of('-') == std::string::npos) return std::nullopt;
    return Tag{std::move(name), std::move(display)};
}

std::vector<Tag> make_tags(const std::vector<std::string>& written) {
    std::vector<Tag> out;
    std::set<std::string, std::less<>> seen;
    for (const auto& w : written) {
        if (out.size() >= kMaxTagsPerNote) break;
        auto tag = make_tag(w);
        if (!tag || !seen.insert(tag->name).second) continue;
        out.push_back(std::move(*tag));
    }
    return out;
}

}  // namespace starpunk::notes
