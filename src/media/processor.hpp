// Image processing with libvips: the only translation unit of StarPunk that
// includes libvips (media/processor.cpp). libvips is not linked but loaded
// (dlopen) the first time an image is processed or probed, so a server that
// only serves pages never maps it and its ~70 libraries.
//
// process() turns an accepted upload into the bytes StarPunk stores:
//   1. the header alone is read (a lazy, sequential load with the loader of
//      the sniffed type — never libvips' own guess, so no other loader, SVG
//      or ImageMagick, ever sees the bytes); an image of more than
//      max_pixels is refused there, before a single pixel is decoded, so a
//      decompression bomb (a few KB declaring 30000×30000) costs nothing;
//   2. the EXIF orientation is applied, and every piece of metadata — EXIF
//      (GPS location included), XMP, IPTC, ICC profile, comments — is left
//      out of what is written (`strip`);
//   3. it is re-encoded in its own format (HEIC/AVIF: as JPEG, see
//      stored_type) at original size and quality (JPEG/WebP Q 90, PNG and
//      GIF lossless), and at each width in `variant_widths` narrower than the
//      image (JPEG/WebP Q 82), for srcset.
// Animated GIF/WebP keep their first frame only.
//
// Errors: unsupported (415) when the bytes are not JPEG/PNG/GIF/WebP/HEIF;
// too_large (413) over the pixel limit, naming both numbers; invalid_input
// (400) when the bytes announce a type but do not decode (truncated,
// corrupt); internal when libvips fails otherwise or cannot be loaded (the
// message names the library and the Debian package). Never throws.
// Thread-safety: process() may run on several threads at once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "media/image_type.hpp"
#include "util/result.hpp"
#include "util/temp_file.hpp"

namespace starpunk::media {

struct ProcessLimits {
    std::uint64_t max_pixels = 50'000'000;  // width × height, from the header
    std::vector<int> variant_widths{640, 1280};
};

struct Encoded {
    int width = 0;
    int height = 0;
    std::string bytes;
};

struct Processed {
    ImageType type = ImageType::jpeg;  // as stored: never heif
    Encoded original;               // full size, orientation applied, no metadata
    std::vector<Encoded> variants;  // narrower copies, in increasing width
};

// Sniffs and processes the whole of `file` (read from offset 0).
Result<Processed> process(const TempFile& file, const ProcessLimits& limits);

// Width and height from the header only (tests, `starpunk check`).
struct Dimensions {
    int width = 0;
    int height = 0;
};
Result<Dimensions> probe(std::string_view bytes);

}  // namespace starpunk::media
