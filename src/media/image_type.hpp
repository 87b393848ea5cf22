// The image types StarPunk accepts, recognised from the bytes themselves —
// never from a file name or a client's Content-Type (SPEC §5.2, issue 14).
//
//   JPEG  FF D8 FF
//   PNG   89 50 4E 47 0D 0A 1A 0A
//   GIF   "GIF87a" | "GIF89a"
//   WebP  "RIFF" <4 bytes> "WEBP"
//   HEIF  <4 bytes> "ftyp" <major brand>, the brand one of HEIC's (heic heix
//         heim heis hevc hevx), AVIF's (avif avis) or the generic mif1/msf1
//         — phones' photos. Accepted as input only: libvips decodes them
//         through libheif, and they are stored as JPEG (media/processor.hpp),
//         which every browser shows.
// Anything else (SVG, HTML, PDF, …) is not an image StarPunk stores. Pure
// functions; thread-safe.
#pragma once

#include <optional>
#include <string_view>

namespace starpunk::media {

enum class ImageType { jpeg, png, gif, webp, heif };

// The type an image of type `t` is stored as: itself, but HEIF → JPEG.
ImageType stored_type(ImageType t);

// How many leading bytes sniff() needs at most.
inline constexpr std::size_t kSniffBytes = 12;

// The type the leading bytes announce, or nullopt.
std::optional<ImageType> sniff(std::string_view leading_bytes);

std::string_view mime_type(ImageType t);  // "image/jpeg", …, "image/heif"
std::string_view extension(ImageType t);  // "jpg", "png", "gif", "webp", "heif"
// The type of a file name's extension as extension() spells it, or nullopt
// (serving /media/ files: their names were made by StarPunk).
std::optional<ImageType> type_of_extension(std::string_view ext);

}  // namespace starpunk::media
