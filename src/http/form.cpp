#include "http/form.hpp"

#include "util/strings.hpp"

#include <boost/url/encoding_opts.hpp>
#include <boost/url/pct_string_view.hpp>

namespace starpunk::http {

void FormData::add(std::string name, std::string value) {
    items_.emplace_back(std::move(name), std::move(value));
}

std::optional<std::string_view> FormData::get(std::string_view name) const {
    for (const auto& [k, v] : items_) {
        if (k == name) return std::string_view(v);
    }
    return std::nullopt;
}

std::vector<std::string_view> FormData::get_all(std::string_view name) const {
    std::vector<std::string_view> out;
    for (const auto& [k, v] : items_) {
        if (k == name) out.emplace_back(v);
    }
    return out;
}

bool FormData::has(std::string_view name) const {
    return get(name).has_value();
}


std::string printable_excerpt(std::string_view s, size_t max_bytes) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    const size_t n = s.size() < max_bytes ? s.size() : max_bytes;
    for (size_t i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c < 0x7F) {
            out.push_back(static_cast<char>(c));
        } else {
            out += "\\x";
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xF]);
        }
    }
    if (n < s.size()) out += "...";
    return out;
}

namespace {

bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// The first malformed escape in `raw` ("%4", "%zz", "%"), for error messages.
// Precondition: Boost.URL rejected `raw`, so there is one.
std::string_view bad_escape(std::string_view raw) {
    for (size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] != '%') continue;
        const size_t avail = raw.size() - i - 1;
        if (avail < 2 || !is_hex(raw[i + 1]) || !is_hex(raw[i + 2]))
            return raw.substr(i, avail < 2 ? avail + 1 : 3);
        i += 2;
    }
    return "%";
}

std::string field_label(std::string_view raw_name) {
    return "form field \"" + printable_excerpt(raw_name) + "\"";
}

// Decodes one name or value. `what` is "name" or "value"; `raw_name` identifies
// the field in messages (the undecoded name, which is what the client sent).
Result<std::string> decode_component(std::string_view raw, std::string_view what,
                                     std::string_view raw_name, size_t max_bytes,
                                     std::string_view limit_name) {
    auto pct = boost::urls::make_pct_string_view(raw);
    if (!pct) {
        return make_error(ErrorCode::invalid_input,
                          field_label(raw_name) + ": malformed percent-escape \"" +
                              printable_excerpt(bad_escape(raw), 8) + "\" in " + std::string(what) +
                              " (expected % followed by two hex digits)");
    }
    if (pct->decoded_size() > max_bytes) {
        return make_error(ErrorCode::too_large, field_label(raw_name) + ": " + std::string(what) +
                                                    " is longer than " + std::to_string(max_bytes) +
                                                    " bytes (" + std::string(limit_name) + ")");
    }
    boost::urls::encoding_opts opts;
    opts.space_as_plus = true;
    std::string out = pct->decode(opts);
    if (out.find('\0') != std::string::npos) {
        return make_error(ErrorCode::invalid_input,
                          field_label(raw_name) + ": " + std::string(what) + " contains a NUL byte");
    }
    if (!is_valid_utf8(out)) {
        return make_error(ErrorCode::invalid_input,
                          field_label(raw_name) + ": " + std::string(what) + " is not valid UTF-8");
    }
    return out;
}

}  // namespace

Result<FormData> parse_urlencoded(std::string_view text, const FormLimits& limits) {
    FormData form;
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t amp = text.find('&', pos);
        if (amp == std::string_view::npos) amp = text.size();
        const std::string_view pair = text.substr(pos, amp - pos);
        pos = amp + 1;
        if (pair.empty()) continue;

        if (form.size() == limits.max_fields) {
            return make_error(ErrorCode::too_large, "form has more than " + std::to_string(limits.max_fields) +
                                                        " fields (max_fields)");
        }
        const size_t eq = pair.find('=');
        const std::string_view raw_name = pair.substr(0, eq);
        const std::string_view raw_value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);

        auto name = decode_component(raw_name, "name", raw_name, limits.max_name_bytes, "max_name_bytes");
        if (!name) return std::move(name).error();
        auto value = decode_component(raw_value, "value", raw_name, limits.max_value_bytes, "max_value_bytes");
        if (!value) return std::move(value).error();
        form.add(std::move(*name), std::move(*value));
    }
    return form;
}

}  // namespace starpunk::http
