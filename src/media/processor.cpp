// The only translation unit that includes libvips (see processor.hpp).
//
// libvips is not linked: it is loaded with dlopen the first time an image is
// processed, and its C API is called through the pointers resolved here. The
// server therefore never maps libvips and the ~70 libraries it pulls in
// (librsvg, poppler's and OpenEXR's dependencies, GnuTLS, …: about 16 MB
// resident) unless photos are uploaded — memory a site that only serves pages
// does not pay (issue 11). The headers are still used, for the types, the
// constants and the exact signatures (decltype), so a mismatch is a compile
// error; the ABI the headers describe is checked against the loaded library
// like VIPS_INIT does.
#include "media/processor.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vips/vips.h>

namespace starpunk::media {

namespace {

constexpr int kVipsAbi = VIPS_LIBRARY_CURRENT - VIPS_LIBRARY_AGE;  // the soname's number

// The entry points StarPunk uses, each with the type its header declares.
struct VipsApi {
    decltype(&::vips_version) version = nullptr;
    decltype(&::vips_init) init = nullptr;
    decltype(&::vips_cache_set_max) cache_set_max = nullptr;
    decltype(&::vips_block_untrusted_set) block_untrusted_set = nullptr;
    decltype(&::vips_error_buffer) error_buffer = nullptr;
    decltype(&::vips_error_clear) error_clear = nullptr;
    decltype(&::vips_source_new_from_descriptor) source_from_fd = nullptr;
    decltype(&::vips_source_new_from_memory) source_from_memory = nullptr;
    decltype(&::vips_jpegload_source) jpegload = nullptr;
    decltype(&::vips_pngload_source) pngload = nullptr;
    decltype(&::vips_gifload_source) gifload = nullptr;
    decltype(&::vips_webpload_source) webpload = nullptr;
    decltype(&::vips_heifload_source) heifload = nullptr;
    decltype(&::vips_thumbnail_source) thumbnail = nullptr;
    decltype(&::vips_jpegsave_buffer) jpegsave = nullptr;
    decltype(&::vips_pngsave_buffer) pngsave = nullptr;
    decltype(&::vips_gifsave_buffer) gifsave = nullptr;
    decltype(&::vips_webpsave_buffer) webpsave = nullptr;
    decltype(&::vips_image_get_width) width = nullptr;
    decltype(&::vips_image_get_height) height = nullptr;
    decltype(&::g_object_unref) unref = nullptr;
    decltype(&::g_free) free = nullptr;
};

struct LoadedVips {
    VipsApi api;
    std::string error;  // why libvips is unusable; empty when api is complete and initialised
};

template <class F>
bool resolve(void* handle, const char* name, F& out, std::string& error) {
    out = reinterpret_cast<F>(::dlsym(handle, name));
    if (!out && error.empty()) error = std::string("libvips has no ") + name;
    return out != nullptr;
}

// Loads and initialises libvips once per process; never unloaded (libvips'
// threads and GLib's type system outlive any one image).
LoadedVips load_vips() {
    LoadedVips l;
    const std::string soname = "libvips.so." + std::to_string(kVipsAbi);
    void* h = ::dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char* why = ::dlerror();
        l.error = "image processing is unavailable: " + soname + " cannot be loaded (" + (why ? why : "?") +
                  "); install Debian's libvips42";
        return l;
    }
    auto& a = l.api;
    auto& e = l.error;
    resolve(h, "vips_version", a.version, e);
    resolve(h, "vips_init", a.init, e);
    resolve(h, "vips_cache_set_max", a.cache_set_max, e);
    resolve(h, "vips_block_untrusted_set", a.block_untrusted_set, e);
    resolve(h, "vips_error_buffer", a.error_buffer, e);
    resolve(h, "vips_error_clear", a.error_clear, e);
    resolve(h, "vips_source_new_from_descriptor", a.source_from_fd, e);
    resolve(h, "vips_source_new_from_memory", a.source_from_memory, e);
    resolve(h, "vips_jpegload_source", a.jpegload, e);
    resolve(h, "vips_pngload_source", a.pngload, e);
    resolve(h, "vips_gifload_source", a.gifload, e);
    resolve(h, "vips_webpload_source", a.webpload, e);
    resolve(h, "vips_heifload_source", a.heifload, e);
    resolve(h, "vips_thumbnail_source", a.thumbnail, e);
    resolve(h, "vips_jpegsave_buffer", a.jpegsave, e);
    resolve(h, "vips_pngsave_buffer", a.pngsave, e);
    resolve(h, "vips_gifsave_buffer", a.gifsave, e);
    resolve(h, "vips_webpsave_buffer", a.webpsave, e);
    resolve(h, "vips_image_get_width", a.width, e);
    resolve(h, "vips_image_get_height", a.height, e);
    resolve(h, "g_object_unref", a.unref, e);  // found through libvips' own dependencies
    resolve(h, "g_free", a.free, e);
    if (!e.empty()) return l;
    if (const int abi = a.version(3) - a.version(5); abi != kVipsAbi) {
        e = "image processing is unavailable: the installed libvips has ABI " + std::to_string(abi) +
            ", StarPunk was built for " + std::to_string(kVipsAbi);
        return l;
    }
    if (a.init("starpunk") != 0) {
        e = std::string("image processing is unavailable: libvips did not start: ") + a.error_buffer();
        return l;
    }
    // Nothing is kept between uploads: each image is processed once.
    a.cache_set_max(0);
    // Only the five loaders named below ever run; this also keeps any loader
    // libvips marks untrusted (ImageMagick, …) out of reach.
    a.block_untrusted_set(TRUE);
    return l;
}

const LoadedVips& vips() {
    static const LoadedVips loaded = load_vips();  // thread-safe once
    return loaded;
}

// A GObject (VipsImage, VipsSource) released when it goes out of scope.
struct Unref {
    void operator()(void* object) const {
        if (object) vips().api.unref(object);
    }
};
using ImageRef = std::unique_ptr<VipsImage, Unref>;
using SourceRef = std::unique_ptr<VipsSource, Unref>;

// libvips' error text for the call that just failed (the buffer is then cleared).
std::string vips_message() {
    const auto& a = vips().api;
    std::string m = a.error_buffer();
    a.error_clear();
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
    if (m.empty()) m = "libvips failed without a message";
    return m;
}

// The header only: a lazy, sequential load by the sniffed type's own loader.
// Null on failure (vips_message() says why).
ImageRef load_header(VipsSource* source, ImageType type) {
    const auto& a = vips().api;
    VipsImage* out = nullptr;
    int rc = -1;
    const int access = VIPS_ACCESS_SEQUENTIAL;
    const int fail_on = VIPS_FAIL_ON_ERROR;
    switch (type) {
        case ImageType::jpeg: rc = a.jpegload(source, &out, "access", access, "fail_on", fail_on, nullptr); break;
        case ImageType::png: rc = a.pngload(source, &out, "access", access, "fail_on", fail_on, nullptr); break;
        case ImageType::gif: rc = a.gifload(source, &out, "access", access, "fail_on", fail_on, nullptr); break;
        case ImageType::webp: rc = a.webpload(source, &out, "access", access, "fail_on", fail_on, nullptr); break;
        case ImageType::heif: rc = a.heifload(source, &out, "access", access, "fail_on", fail_on, nullptr); break;
    }
    ImageRef image(out);
    if (rc != 0) image.reset();
    return image;
}

// The encoded bytes of `image` in `type`, metadata stripped; nullopt on failure.
std::optional<std::string> encode(VipsImage* image, ImageType type, bool full_size) {
    const auto& a = vips().api;
    void* buf = nullptr;
    std::size_t len = 0;
    const gboolean strip = TRUE;
    const int quality = full_size ? 90 : 82;
    int rc = -1;
    switch (type) {
        case ImageType::jpeg:
            rc = a.jpegsave(image, &buf, &len, "strip", strip, "Q", quality, "optimize_coding", TRUE, nullptr);
            break;
        case ImageType::png: rc = a.pngsave(image, &buf, &len, "strip", strip, "compression", 6, nullptr); break;
        case ImageType::gif: rc = a.gifsave(image, &buf, &len, "strip", strip, nullptr); break;
        case ImageType::webp: rc = a.webpsave(image, &buf, &len, "strip", strip, "Q", quality, nullptr); break;
        case ImageType::heif: break;  // never written (stored_type)
    }
    std::unique_ptr<void, decltype(a.free)> owned(buf, a.free);
    if (rc != 0 || !buf) return std::nullopt;
    return std::string(static_cast<const char*>(buf), len);
}

// One source per pass: a VipsSource reads its descriptor from the start.
SourceRef source_of(const TempFile& file) {
    ::lseek(file.fd(), 0, SEEK_SET);
    return SourceRef(vips().api.source_from_fd(file.fd()));
}

// Autorotated (EXIF orientation), shrunk on load where the format allows,
// never enlarged; VIPS_MAX_COORD as height: the width decides.
std::optional<Encoded> thumbnail(const TempFile& file, ImageType type, int width, bool full_size) {
    const auto& a = vips().api;
    auto source = source_of(file);
    if (!source) return std::nullopt;
    VipsImage* out = nullptr;
    const int rc = a.thumbnail(source.get(), &out, width, "height", VIPS_MAX_COORD, "size", static_cast<int>(VIPS_SIZE_DOWN),
                               "fail_on", static_cast<int>(VIPS_FAIL_ON_ERROR), nullptr);
    ImageRef image(out);
    if (rc != 0 || !image) return std::nullopt;
    auto bytes = encode(image.get(), type, full_size);
    if (!bytes) return std::nullopt;
    return Encoded{a.width(image.get()), a.height(image.get()), std::move(*bytes)};
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
    if (const auto& l = vips(); !l.error.empty()) return make_error(ErrorCode::internal, l.error);
    Processed out;
    out.type = stored_type(*type);
    {
        auto source = source_of(file);
        auto header = source ? load_header(source.get(), *type) : ImageRef();  // reads the header only
        if (!header) {
            return make_error(ErrorCode::invalid_input, "the file starts like a " + std::string(mime_type(*type)) +
                                                            " image but its header cannot be read: " + vips_message());
        }
        const int w = vips().api.width(header.get());
        const int h = vips().api.height(header.get());
        const std::uint64_t pixels = static_cast<std::uint64_t>(w) * static_cast<std::uint64_t>(h);
        if (pixels > limits.max_pixels) {
            return make_error(ErrorCode::too_large,
                              "the image is " + std::to_string(w) + "×" + std::to_string(h) + " pixels (" +
                                  std::to_string(pixels / 1'000'000) + " megapixels); at most " +
                                  std::to_string(limits.max_pixels / 1'000'000) + " megapixels are accepted");
        }
    }
    const auto decode_error = [&] {
        return make_error(ErrorCode::invalid_input,
                          "the " + std::string(mime_type(*type)) + " image cannot be decoded: " + vips_message());
    };
    auto original = thumbnail(file, out.type, VIPS_MAX_COORD, true);
    if (!original) return decode_error();
    out.original = std::move(*original);
    std::vector<int> widths = limits.variant_widths;
    std::sort(widths.begin(), widths.end());
    for (int w : widths) {
        if (w <= 0 || w >= out.original.width) continue;
        auto variant = thumbnail(file, out.type, w, false);
        if (!variant) return decode_error();
        out.variants.push_back(std::move(*variant));
    }
    return out;
}

Result<Dimensions> probe(std::string_view bytes) {
    auto type = sniff(bytes.substr(0, std::min(bytes.size(), kSniffBytes)));
    if (!type) return make_error(ErrorCode::unsupported, "not a JPEG, PNG, GIF, WebP, HEIC or AVIF image");
    if (const auto& l = vips(); !l.error.empty()) return make_error(ErrorCode::internal, l.error);
    SourceRef source(vips().api.source_from_memory(bytes.data(), bytes.size()));
    auto image = source ? load_header(source.get(), *type) : ImageRef();
    if (!image) return make_error(ErrorCode::invalid_input, "cannot read the image header: " + vips_message());
    return Dimensions{vips().api.width(image.get()), vips().api.height(image.get())};
}

}  // namespace starpunk::media
