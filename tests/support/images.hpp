// Test images made with libvips (never checked-in files): each accepted type,
// an EXIF orientation, and TempFiles holding arbitrary bytes.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "util/temp_file.hpp"

namespace starpunk::testing {

// A width×height image in `format` ("jpg", "png", "gif", "webp"); with
// orientation > 1 the EXIF Orientation tag is set (JPEG only).
std::string make_image(std::string_view format, int width, int height, int orientation = 1);

// `bytes` in an unlinked temp file under `dir`.
std::unique_ptr<TempFile> temp_file_with(const std::string& dir, std::string_view bytes);

}  // namespace starpunk::testing
