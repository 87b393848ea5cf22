// The only translation unit that includes libvips (see processor.hpp).
// libvips' C++ API throws vips::VError; every such exception is caught here
// and becomes an Error.
#include "media/processor.hpp"

#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <vips/vips8>

namespace starpunk::media {

namespace {

void init_vips_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (VIPS_INIT("starpunk") != 0) return;  // process() then fails with libvips' message
        // Nothing is kept between uploads: each image is processed once.
        vips_cache_set_max(0);
        // Only the five loaders named below ever run; this also keeps any
        // loader libvips marks untrusted (ImageMagick, …) out of reach.
        vips_block_untrusted_set(TRUE);
    });
}

std::string vips_message(const vips::VError& e) {
    std::string m = e.what();
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
    vips_error_clear();
    return m;
}

vips::VImage load_header(const vips::VSource& source, ImageType type) {
    auto* o = vips::VImage::option()->set("access", VIPS_ACCESS_SEQUENTIAL)->set("fail_on", VIPS_FAIL_ON_ERROR);
    switch (type) {
        case ImageType::jpeg: return vips::VImage::jpegload_source(source, o);
        case ImageType::png: return vips::VImage::pngload_source(source, o);
        case ImageType::gif: return vips::VImage::gifload_source(source, o);
        case ImageType::webp: return vips::VImage::webpload_source(source, o);
        case ImageType::heif: return vips::VImage::heifload_source(source, o);
    }
    throw vips::VError("unknown image type");
}

std::string encode(const vips::VImage& image, ImageType type, bool full_size) {
    auto* o = vips::VImage::option()->set("strip", true);
    VipsBlob* blob = nullptr;
    switch (type) {
        case ImageType::jpeg:
            blob = image.jpegsave_buffer(o->set("Q", full_size ? 90 : 82)->set("optimize_coding", true));
            break;
        case ImageType::png: blob = image.pngsave_buffer(o->set("compression", 6)); break;
        case ImageType::gif: blob = image.gifsave_buffer(o); break;
        case ImageType::webp: blob = image.webpsave_buffer(o->set("Q", full_size ? 90 : 82)); break;
        case ImageType::heif: throw vips::VError("HEIF is never written (stored_type)");
    }
    if (!blob) throw vips::VError("encoding produced nothing");
    size_t len = 0;
    const void* data = vips_blob_get(blob, &len);
    std::string out(static_cast<const char*>(data), len);
    vips_area_unref(VIPS_AREA(blob));
    return out;
}

// One source per pass: a VSource reads its descriptor from the start.
vips::VSource source_of(const TempFile& file) {
    ::lseek(file.fd(), 0, SEEK_SET);
    return vips::VSource::new_from_descriptor(file.fd());
}

Encoded thumbnail(const TempFile& file, ImageType type, int width, bool full_size) {
    // Autorotates (EXIF orientation), shrinks on load where the format allows,
    // never enlarges. VIPS_MAX_COORD as height: the width decides.
    auto image = vips::VImage::thumbnail_source(
        source_of(file), width,
        vips::VImage::option()->set("height", VIPS_MAX_COORD)->set("size", VIPS_SIZE_DOWN)->set("fail_on", VIPS_FAIL_ON_ERROR));
    Encoded e;
    e.bytes = encode(image, type, full_size);
    e.width = image.width();
    e.height = image.height();
    return e;
}

}  // namespace

// LeakSanitizer (the ASan build): GLib's type system and libvips' per-process
// state are allocated once and deliberately never freed; report our leaks,
// not theirs. (A hook LSan calls when present; nothing uses it otherwise.)
extern "C" const char* __lsan_default_suppressions();
extern "C" const char* __lsan_default_suppressions() {
    return "leak:libvips.so\nleak:libglib-2.0.so\nleak:libgobject-2.0.so\nleak:libgio-2.0.so\n"
           "leak:libheif.so\nleak:libde265.so\nleak:libdav1d.so\nleak:libaom.so\n";
}

Result<Processed> process(const TempFile& file, const ProcessLimits& limits) {
    std::string leading;
    if (auto st = file.read_at(0, kSniffBytes, leading); !st) return std::move(st).error();
    auto type = sniff(leading);
    if (!type) {
        return make_error(ErrorCode::unsupported,
                          "the file is not a JPEG, PNG, GIF, WebP, HEIC or AVIF image (judged by its bytes, not its name)");
    }
    init_vips_once();
    Processed out;
    out.type = stored_type(*type);
    int width = 0;
    try {
        auto header = load_header(source_of(file), *type);  // reads the header only
        width = header.width();
        const std::uint64_t pixels = static_cast<std::uint64_t>(header.width()) * static_cast<std::uint64_t>(header.height());
        if (pixels > limits.max_pixels) {
            return make_error(ErrorCode::too_large,
                              "the image is " + std::to_string(header.width()) + "×" + std::to_string(header.height()) +
                                  " pixels (" + std::to_string(pixels / 1'000'000) + " megapixels); at most " +
                                  std::to_string(limits.max_pixels / 1'000'000) + " megapixels are accepted");
        }
    } catch (const vips::VError& e) {
        return make_error(ErrorCode::invalid_input,
                          "the file starts like a " + std::string(mime_type(*type)) +
                              " image but its header cannot be read: " + vips_message(e));
    }
    try {
        out.original = thumbnail(file, out.type, VIPS_MAX_COORD, true);
        std::vector<int> widths = limits.variant_widths;
        std::sort(widths.begin(), widths.end());
        for (int w : widths) {
            if (w <= 0 || w >= out.original.width) continue;
            out.variants.push_back(thumbnail(file, out.type, w, false));
        }
    } catch (const vips::VError& e) {
        return make_error(ErrorCode::invalid_input, "the " + std::string(mime_type(*type)) +
                                                        " image cannot be decoded: " + vips_message(e));
    }
    (void)width;
    return out;
}

Result<Dimensions> probe(std::string_view bytes) {
    auto type = sniff(bytes.substr(0, std::min(bytes.size(), kSniffBytes)));
    if (!type) return make_error(ErrorCode::unsupported, "not a JPEG, PNG, GIF, WebP, HEIC or AVIF image");
    init_vips_once();
    try {
        auto source = vips::VSource::new_from_memory(bytes.data(), bytes.size());
        auto image = load_header(source, *type);
        return Dimensions{image.width(), image.height()};
    } catch (const vips::VError& e) {
        return make_error(ErrorCode::invalid_input, "cannot read the image header: " + vips_message(e));
    }
}

}  // namespace starpunk::media
