#include "support/images.hpp"

#include <stdexcept>
#include <vector>
#include <vips/vips8>

namespace starpunk::testing {

std::string make_image(std::string_view format, int width, int height, int orientation) {
    static const bool ready = VIPS_INIT("starpunk-tests") == 0;
    if (!ready) throw std::runtime_error("libvips did not initialise");
    // A gradient, so encoders have something to encode.
    vips::VImage x = vips::VImage::xyz(width, height);
    vips::VImage image =
        vips::VImage::bandjoin(std::vector<vips::VImage>{x[0] * 255 / width, x[1] * 255 / height, x[0] * 0 + 128})
            .cast(VIPS_FORMAT_UCHAR);
    if (orientation > 1) {
        image = image.copy();
        image.set("orientation", orientation);
    }
    std::string suffix = "." + std::string(format);
    void* buf = nullptr;
    size_t len = 0;
    image.write_to_buffer(suffix.c_str(), &buf, &len);
    std::string out(static_cast<const char*>(buf), len);
    g_free(buf);
    return out;
}

std::unique_ptr<TempFile> temp_file_with(const std::string& dir, std::string_view bytes) {
    auto f = TempFile::create(dir);
    if (!f) throw std::runtime_error(f.error().message);
    if (auto st = (*f)->append(bytes); !st) throw std::runtime_error(st.error().message);
    return std::move(*f);
}

}  // namespace starpunk::testing
