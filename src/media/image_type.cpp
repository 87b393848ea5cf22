#include "media/image_type.hpp"

namespace starpunk::media {

std::optional<ImageType> sniff(std::string_view b) {
    if (b.size() >= 3 && b.substr(0, 3) == std::string_view("\xFF\xD8\xFF", 3)) return ImageType::jpeg;
    if (b.size() >= 8 && b.substr(0, 8) == std::string_view("\x89PNG\r\n\x1A\n", 8)) return ImageType::png;
    if (b.size() >= 6 && (b.substr(0, 6) == "GIF87a" || b.substr(0, 6) == "GIF89a")) return ImageType::gif;
    if (b.size() >= 12 && b.substr(0, 4) == "RIFF" && b.substr(8, 4) == "WEBP") return ImageType::webp;
    if (b.size() >= 12 && b.substr(4, 4) == "ftyp") {
        const std::string_view brand = b.substr(8, 4);
        for (std::string_view heif : {"heic", "heix", "heim", "heis", "hevc", "hevx", "avif", "avis", "mif1", "msf1"}) {
            if (brand == heif) return ImageType::heif;
        }
    }
    return std::nullopt;
}

ImageType stored_type(ImageType t) { return t == ImageType::heif ? ImageType::jpeg : t; }

std::string_view mime_type(ImageType t) {
    switch (t) {
        case ImageType::jpeg: return "image/jpeg";
        case ImageType::png: return "image/png";
        case ImageType::gif: return "image/gif";
        case ImageType::webp: return "image/webp";
        case ImageType::heif: return "image/heif";
    }
    return "application/octet-stream";
}

std::string_view extension(ImageType t) {
    switch (t) {
        case ImageType::jpeg: return "jpg";
        case ImageType::png: return "png";
        case ImageType::gif: return "gif";
        case ImageType::webp: return "webp";
        case ImageType::heif: return "heif";
    }
    return "bin";
}

std::optional<ImageType> type_of_extension(std::string_view ext) {
    for (auto t : {ImageType::jpeg, ImageType::png, ImageType::gif, ImageType::webp}) {
        if (extension(t) == ext) return t;
    }
    return std::nullopt;
}

}  // namespace starpunk::media
