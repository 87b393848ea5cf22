#include "notes/note_photos.hpp"

#include <fmt/format.h>

#include "notes/note_text.hpp"

namespace starpunk::notes {

namespace {

bool lower_starts_with(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != prefix[i]) return false;
    }
    return true;
}

bool has_space_or_control(std::string_view s) {
    for (unsigned char c : s) {
        if (c <= 0x20 || c == 0x7f) return true;
    }
    return false;
}

// Characters RFC 3986 never allows in a URL (they must be percent-encoded):
// refusing them keeps a URL from ever meaning anything else in HTML or XML.
bool has_unsafe_url_character(std::string_view s) {
    return s.find_first_of("\"<>\\^`{|}") != std::string_view::npos;
}

std::string tidy_alt(std::string_view alt) {
    std::string out;
    out.reserve(alt.size());
    for (char ch : alt) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '\n' || c == '\r' || c == '\t') {
            out.push_back(' ');
        } else if (c >= 0x20 && c != 0x7f) {
            out.push_back(ch);
        }
    }
    const size_t first = out.find_first_not_of(' ');
    if (first == std::string::npos) return {};
    out.erase(0, first);
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return std::string(truncate_chars(out, kPhotoAltMaxChars));
}

}  // namespace

bool is_external_photo_url(std::string_view url) {
    if (url.size() > kPhotoUrlMaxBytes || has_space_or_control(url) || has_unsafe_url_character(url)) return false;
    std::string_view rest;
    if (lower_starts_with(url, "https://")) {
        rest = url.substr(8);
    } else if (lower_starts_with(url, "http://")) {
        rest = url.substr(7);
    } else {
        return false;
    }
    const size_t host_end = rest.find_first_of("/?#");
    const std::string_view host = rest.substr(0, host_end);
    return !host.empty() && host.find('@') == std::string_view::npos;
}

Result<std::vector<NewPhoto>> validate_photos(std::vector<NewPhoto> photos) {
    if (photos.size() > kMaxPhotosPerNote) {
        return make_error(ErrorCode::invalid_input,
                          fmt::format("A note holds at most {} photos; {} were given.", kMaxPhotosPerNote, photos.size()));
    }
    for (size_t i = 0; i < photos.size(); ++i) {
        NewPhoto& p = photos[i];
        if (p.media_id) {
            if (!p.url.starts_with("/media/") || has_space_or_control(p.url)) {
                return make_error(ErrorCode::invalid_input, fmt::format("Photo {}: a stored image needs its /media/ path.", i + 1));
            }
        } else if (!is_external_photo_url(p.url)) {
            return make_error(ErrorCode::invalid_input,
                              fmt::format("Photo {}: only http:// and https:// image URLs can be linked.", i + 1));
        }
        p.alt = tidy_alt(p.alt);
    }
    return photos;
}

}  // namespace starpunk::notes
