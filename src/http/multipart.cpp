#include "http/multipart.hpp"

#include "util/strings.hpp"

#include <cstring>
#include <utility>

#include <boost/url/pct_string_view.hpp>

#include "http/request.hpp"

namespace starpunk::http {

namespace {

constexpr size_t kMaxBoundary = 70;  // RFC 2046 §5.1.1

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

std::string in_quotes(std::string_view s) {
    return "\"" + printable_excerpt(s) + "\"";
}

std::optional<Error> check_boundary(std::string_view b) {
    if (b.empty()) return make_error(ErrorCode::invalid_input, "multipart boundary is empty");
    if (b.size() > kMaxBoundary) {
        return make_error(ErrorCode::invalid_input, "multipart boundary is longer than 70 characters (RFC 2046)");
    }
    for (char c : b) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u > 0x7E) {
            return make_error(ErrorCode::invalid_input,
                              "multipart boundary " + in_quotes(b) + " contains a control or non-ASCII byte");
        }
    }
    return std::nullopt;
}

// A header value of the form `type; name=value; name="quoted value"` (RFC 7231
// §3.1.1.1 / RFC 6266). Parameter names are lower-cased; a parameter without
// '=' is skipped; a repeated parameter name is an error (ambiguous input).
struct ParamHeader {
    std::string type;
    std::vector<std::pair<std::string, std::string>> params;

    const std::string* param(std::string_view name) const {
        for (const auto& [k, v] : params) {
            if (k == name) return &v;
        }
        return nullptr;
    }
};

Result<ParamHeader> parse_param_header(std::string_view s) {
    ParamHeader out;
    size_t i = s.find(';');
    out.type = std::string(trim_ows(s.substr(0, i)));
    if (i == std::string_view::npos) return out;
    ++i;
    const size_t n = s.size();
    while (i < n) {
        if (s[i] == ' ' || s[i] == '\t' || s[i] == ';') {
            ++i;
            continue;
        }
        const size_t stop = s.find_first_of("=;", i);
        if (stop == std::string_view::npos || s[stop] == ';') {
            i = stop == std::string_view::npos ? n : stop;  // no '=': skip it
            continue;
        }
        const std::string name = lower(trim_ows(s.substr(i, stop - i)));
        if (name.empty()) {
            return make_error(ErrorCode::invalid_input, "parameter without a name in " + in_quotes(s));
        }
        i = stop + 1;
        while (i < n && (s[i] == ' ' || s[i] == '\t')) ++i;
        std::string value;
        if (i < n && s[i] == '"') {
            ++i;
            bool closed = false;
            while (i < n) {
                const char c = s[i++];
                if (c == '"') {
                    closed = true;
                    break;
                }
                if (c == '\\' && i < n && (s[i] == '"' || s[i] == '\\')) {
                    value.push_back(s[i++]);
                } else {
                    value.push_back(c);
                }
            }
            if (!closed) {
                return make_error(ErrorCode::invalid_input,
                                  "unterminated quoted value of parameter " + in_quotes(name));
            }
            while (i < n && (s[i] == ' ' || s[i] == '\t')) ++i;
            if (i < n && s[i] != ';') {
                return make_error(ErrorCode::invalid_input,
                                  "unexpected text after the quoted value of parameter " + in_quotes(name));
            }
        } else {
            size_t end = s.find(';', i);
            if (end == std::string_view::npos) end = n;
            value = std::string(trim_ows(s.substr(i, end - i)));
            i = end;
        }
        if (out.param(name) != nullptr) {
            return make_error(ErrorCode::invalid_input, "parameter " + in_quotes(name) + " is given twice");
        }
        out.params.emplace_back(name, std::move(value));
    }
    return out;
}

// RFC 5987 ext-value: charset "'" [language] "'" pct-encoded bytes. UTF-8 only.
Result<std::string> decode_ext_value(std::string_view v) {
    const size_t q1 = v.find('\'');
    const size_t q2 = q1 == std::string_view::npos ? q1 : v.find('\'', q1 + 1);
    if (q2 == std::string_view::npos) {
        return make_error(ErrorCode::invalid_input, "filename* is not of the form UTF-8''percent-encoded-name");
    }
    const std::string_view charset = v.substr(0, q1);
    if (!iequals(charset, "UTF-8")) {
        return make_error(ErrorCode::invalid_input,
                          "filename* uses charset " + in_quotes(charset) + "; only UTF-8 is supported");
    }
    auto pct = boost::urls::make_pct_string_view(v.substr(q2 + 1));
    if (!pct) return make_error(ErrorCode::invalid_input, "filename* contains a malformed percent-escape");
    return pct->decode();
}

Status check_text(std::string_view s, std::string_view what) {
    if (s.find('\0') != std::string_view::npos) {
        return make_error(ErrorCode::invalid_input, std::string(what) + " contains a NUL byte");
    }
    if (!is_valid_utf8(s)) return make_error(ErrorCode::invalid_input, std::string(what) + " is not valid UTF-8");
    return {};
}

// Parses one part's header block: header lines each ending in CRLF, without the
// final empty line. `part_no` (1-based) is used in messages.
Result<PartInfo> parse_part_headers(std::string_view block, size_t part_no) {
    const std::string where = "multipart part " + std::to_string(part_no) + ": ";
    std::vector<std::pair<std::string, std::string>> headers;
    while (!block.empty()) {
        const size_t eol = block.find("\r\n");  // every line ends in CRLF, and none is empty
        const std::string_view line = block.substr(0, eol);
        block.remove_prefix(eol == std::string_view::npos ? block.size() : eol + 2);
        if (line.empty()) return make_error(ErrorCode::invalid_input, where + "empty header line");
        if (line.find_first_of("\r\n") != std::string_view::npos) {
            return make_error(ErrorCode::invalid_input, where + "header line contains a bare CR or LF");
        }
        if (line.front() == ' ' || line.front() == '\t') {  // obsolete line folding
            if (headers.empty()) {
                return make_error(ErrorCode::invalid_input, where + "header block starts with a continuation line");
            }
            headers.back().second.append(" ").append(trim_ows(line));
            continue;
        }
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos) {
            return make_error(ErrorCode::invalid_input, where + "header line without ':': " + in_quotes(line));
        }
        const std::string_view name = line.substr(0, colon);
        bool token = !name.empty();
        for (char c : name) token = token && is_tchar(c);
        if (!token) {
            return make_error(ErrorCode::invalid_input, where + "malformed header name " + in_quotes(name));
        }
        headers.emplace_back(std::string(name), std::string(trim_ows(line.substr(colon + 1))));
    }

    const std::string* disposition = nullptr;
    const std::string* content_type = nullptr;
    for (const auto& [name, value] : headers) {
        const std::string** slot = iequals(name, "Content-Disposition") ? &disposition
                                   : iequals(name, "Content-Type")      ? &content_type
                                                                        : nullptr;
        if (slot == nullptr) continue;
        if (*slot != nullptr) return make_error(ErrorCode::invalid_input, where + "duplicate " + name + " header");
        *slot = &value;
    }
    if (disposition == nullptr) {
        return make_error(ErrorCode::invalid_input, where + "missing Content-Disposition header");
    }
    auto cd = parse_param_header(*disposition);
    if (!cd) return make_error(ErrorCode::invalid_input, where + "Content-Disposition: " + cd.error().message);
    if (!iequals(cd->type, "form-data")) {
        return make_error(ErrorCode::invalid_input,
                          where + "Content-Disposition is " + in_quotes(cd->type) + ", expected form-data");
    }
    const std::string* name = cd->param("name");
    if (name == nullptr) {
        return make_error(ErrorCode::invalid_input, where + "Content-Disposition has no name parameter");
    }
    PartInfo info;
    info.name = *name;
    if (auto st = check_text(info.name, "field name"); !st) {
        return make_error(ErrorCode::invalid_input, where + st.error().message);
    }
    if (const std::string* ext = cd->param("filename*")) {
        auto decoded = decode_ext_value(*ext);
        if (!decoded) return make_error(ErrorCode::invalid_input, where + decoded.error().message);
        info.filename = std::move(*decoded);
    } else if (const std::string* fn = cd->param("filename")) {
        info.filename = *fn;
    }
    if (info.filename) {
        if (auto st = check_text(*info.filename, "filename"); !st) {
            return make_error(ErrorCode::invalid_input, where + st.error().message);
        }
    }
    if (content_type != nullptr && !content_type->empty()) info.content_type = *content_type;
    return info;
}

}  // namespace

MultipartParser::MultipartParser(std::string boundary, MultipartLimits limits, Callbacks cb)
    : limits_(limits), cb_(std::move(cb)) {
    if (auto err = check_boundary(boundary)) {
        error_ = std::move(err);
        return;
    }
    delimiter_ = "\r\n--" + boundary;
    const size_t n = delimiter_.size();
    fail_.assign(n + 1, 0);
    size_t k = 0;
    for (size_t i = 1; i < n; ++i) {
        while (k > 0 && delimiter_[i] != delimiter_[k]) k = fail_[k];
        if (delimiter_[i] == delimiter_[k]) ++k;
        fail_[i + 1] = k;
    }
    // The body may open with "--boundary": pretend a CRLF came before it.
    matched_ = 2;
}

Status MultipartParser::fail(Error e) {
    error_ = std::move(e);
    return *error_;
}

// Scans chunk[from..] for the delimiter, continuing a partial match of matched_
// bytes carried over from earlier input (Knuth-Morris-Pratt). Returns the index
// just past the delimiter, or npos when the chunk ends first; either way matched_
// is left as the length of the delimiter prefix that ends the scanned input.
size_t MultipartParser::scan_delimiter(std::string_view chunk, size_t from) {
    const size_t n = chunk.size();
    const size_t len = delimiter_.size();
    size_t m = matched_;
    size_t j = from;
    while (j < n) {
        if (m == 0) {  // fast path: only a CR can start a delimiter
            const void* cr = std::memchr(chunk.data() + j, '\r', n - j);
            if (cr == nullptr) {
                j = n;
                break;
            }
            j = static_cast<size_t>(static_cast<const char*>(cr) - chunk.data()) + 1;
            m = 1;
            continue;
        }
        const char c = chunk[j++];
        while (m > 0 && delimiter_[m] != c) m = fail_[m];
        if (delimiter_[m] == c) ++m;
        if (m == len) {
            matched_ = 0;
            return j;
        }
    }
    matched_ = m;
    return std::string_view::npos;
}

// Reports the first `data_len` bytes of the virtual input
//   delimiter_[0, carried) + chunk[from, ...)
// as part data. The carried bytes are the partial delimiter match held over from
// the previous chunk: they were input bytes equal to that prefix, so no copy of
// them is needed. Enforces the part's size limit at the exact byte that exceeds it.
Status MultipartParser::emit_data(std::string_view chunk, size_t from, size_t carried, size_t data_len) {
    const size_t head = data_len < carried ? data_len : carried;
    const std::string_view pieces[2] = {std::string_view(delimiter_).substr(0, head),
                                        chunk.substr(from, data_len - head)};
    for (std::string_view piece : pieces) {
        if (piece.empty()) continue;
        const size_t room = part_limit_ - part_bytes_;
        const bool over = piece.size() > room;
        if (over) piece = piece.substr(0, room);
        part_bytes_ += piece.size();
        if (!piece.empty() && cb_.on_part_data) {
            if (auto st = cb_.on_part_data(piece); !st) return fail(std::move(st).error());
        }
        if (over) {
            return fail(make_error(ErrorCode::too_large,
                                   "multipart " + std::string(part_is_file_ ? "file" : "field") + " " +
                                       in_quotes(part_name_) + " is larger than " + std::to_string(part_limit_) +
                                       " bytes (" + (part_is_file_ ? "max_file_bytes" : "max_field_bytes") + ")"));
        }
    }
    return {};
}

Status MultipartParser::begin_part() {
    const std::string_view block(header_buf_.data(), header_buf_.size() - 2);  // drop the empty line
    auto info = parse_part_headers(block, parts_);
    if (!info) return fail(std::move(info).error());
    part_is_file_ = info->filename.has_value();
    part_limit_ = part_is_file_ ? limits_.max_file_bytes : limits_.max_field_bytes;
    part_bytes_ = 0;
    part_name_ = info->name;
    header_buf_.clear();
    if (cb_.on_part_begin) {
        if (auto st = cb_.on_part_begin(*info); !st) return fail(std::move(st).error());
    }
    return {};
}

Status MultipartParser::consume(std::string_view chunk) {
    const size_t n = chunk.size();
    size_t i = 0;
    while (i < n) {
        switch (state_) {
            case State::preamble: {
                const size_t end = scan_delimiter(chunk, i);
                if (end == std::string_view::npos) return {};
                i = end;
                state_ = State::after_boundary;
                break;
            }
            case State::body: {
                const size_t carried = matched_;
                const size_t end = scan_delimiter(chunk, i);
                if (end == std::string_view::npos) {
                    return emit_data(chunk, i, carried, carried + (n - i) - matched_);
                }
                if (auto st = emit_data(chunk, i, carried, carried + (end - i) - delimiter_.size()); !st) return st;
                if (cb_.on_part_end) {
                    if (auto st = cb_.on_part_end(); !st) return fail(std::move(st).error());
                }
                i = end;
                state_ = State::after_boundary;
                break;
            }
            case State::after_boundary:
            case State::padding: {
                const char c = chunk[i++];
                if (c == '-' && state_ == State::after_boundary) {
                    state_ = State::close_dash;
                } else if (c == ' ' || c == '\t') {
                    state_ = State::padding;
                } else if (c == '\r') {
                    state_ = State::delimiter_lf;
                } else {
                    return fail(make_error(ErrorCode::invalid_input,
                                           "multipart boundary line is followed by " +
                                               in_quotes(std::string_view(&c, 1)) +
                                               " instead of CRLF or \"--\" (boundary text inside a part?)"));
                }
                break;
            }
            case State::close_dash:
                if (chunk[i++] != '-') {
                    return fail(make_error(ErrorCode::invalid_input,
                                           "multipart boundary followed by a single '-' (expected \"--\" to close)"));
                }
                state_ = State::epilogue;
                break;
            case State::delimiter_lf:
                if (chunk[i++] != '\n') {
                    return fail(make_error(ErrorCode::invalid_input, "multipart boundary line ends in CR without LF"));
                }
                if (++parts_ > limits_.max_parts) {
                    return fail(make_error(ErrorCode::too_large, "multipart body has more than " +
                                                                     std::to_string(limits_.max_parts) +
                                                                     " parts (max_parts)"));
                }
                header_buf_.clear();
                state_ = State::headers;
                break;
            case State::headers:
                while (i < n) {
                    if (header_buf_.size() >= limits_.max_part_header_bytes) {
                        return fail(make_error(ErrorCode::too_large,
                                               "multipart part " + std::to_string(parts_) + ": headers exceed " +
                                                   std::to_string(limits_.max_part_header_bytes) +
                                                   " bytes (max_part_header_bytes)"));
                    }
                    header_buf_.push_back(chunk[i++]);
                    const std::string_view h = header_buf_;
                    if (h == "\r\n" || (h.size() >= 4 && h.substr(h.size() - 4) == "\r\n\r\n")) {
                        if (auto st = begin_part(); !st) return st;
                        state_ = State::body;
                        break;
                    }
                }
                break;
            case State::epilogue:
                return {};
        }
    }
    return {};
}

Status MultipartParser::feed(std::string_view chunk) {
    if (error_) return *error_;
    if (finished_) return fail(make_error(ErrorCode::internal, "MultipartParser::feed() called after finish()"));
    const size_t room = limits_.max_total_bytes - total_;
    const bool over = chunk.size() > room;
    if (over) chunk = chunk.substr(0, room);
    total_ += chunk.size();
    if (auto st = consume(chunk); !st) return st;
    if (over) {
        return fail(make_error(ErrorCode::too_large, "multipart body is larger than " +
                                                         std::to_string(limits_.max_total_bytes) +
                                                         " bytes (max_total_bytes)"));
    }
    return {};
}

Status MultipartParser::finish() {
    if (error_) return *error_;
    finished_ = true;
    switch (state_) {
        case State::epilogue:
            return {};
        case State::preamble:
            return fail(make_error(ErrorCode::invalid_input,
                                   "multipart body contains no boundary line (\"--\" followed by the boundary)"));
        case State::body:
            return fail(make_error(ErrorCode::invalid_input, "multipart body is truncated: part " +
                                                                 std::to_string(parts_) + " (" + in_quotes(part_name_) +
                                                                 ") has no closing boundary"));
        case State::headers:
            return fail(make_error(ErrorCode::invalid_input, "multipart body is truncated inside the headers of part " +
                                                                 std::to_string(parts_)));
        case State::after_boundary:
        case State::close_dash:
        case State::padding:
        case State::delimiter_lf:
            break;
    }
    return fail(make_error(ErrorCode::invalid_input, "multipart body is truncated inside a boundary line"));
}

Result<std::string> multipart_boundary(std::string_view content_type_header) {
    auto ct = parse_param_header(content_type_header);
    if (!ct) return make_error(ErrorCode::invalid_input, "Content-Type: " + ct.error().message);
    if (!iequals(ct->type, "multipart/form-data")) {
        return make_error(ErrorCode::invalid_input,
                          "Content-Type is " + in_quotes(ct->type) + ", expected multipart/form-data");
    }
    const std::string* boundary = ct->param("boundary");
    if (boundary == nullptr) {
        return make_error(ErrorCode::invalid_input, "multipart/form-data Content-Type has no boundary parameter");
    }
    if (auto err = check_boundary(*boundary)) return std::move(*err);
    return *boundary;
}

Result<MultipartForm> parse_multipart(std::string_view body, std::string_view content_type_header,
                                      const MultipartLimits& limits) {
    auto boundary = multipart_boundary(content_type_header);
    if (!boundary) return std::move(boundary).error();

    MultipartForm form;
    PartInfo current;
    std::string data;
    MultipartParser::Callbacks cb;
    cb.on_part_begin = [&](const PartInfo& info) -> Status {
        current = info;
        data.clear();
        return {};
    };
    cb.on_part_data = [&](std::string_view piece) -> Status {
        data.append(piece);
        return {};
    };
    cb.on_part_end = [&]() -> Status {
        if (current.filename) {
            form.files.push_back(
                UploadedFile{current.name, std::move(*current.filename), current.content_type, std::move(data)});
        } else {
            if (auto st = check_text(data, "value"); !st) {
                return make_error(ErrorCode::invalid_input,
                                  "multipart field " + in_quotes(current.name) + ": " + st.error().message);
            }
            form.fields.add(current.name, std::move(data));
        }
        data.clear();
        return {};
    };
    MultipartParser parser(std::move(*boundary), limits, std::move(cb));
    if (auto st = parser.feed(body); !st) return std::move(st).error();
    if (auto st = parser.finish(); !st) return std::move(st).error();
    return form;
}

Result<SpooledForm> parse_multipart_file(const TempFile& body, std::string_view content_type_header,
                                         const MultipartLimits& limits, const std::string& spool_dir) {
    auto boundary = multipart_boundary(content_type_header);
    if (!boundary) return std::move(boundary).error();

    SpooledForm form;
    PartInfo current;
    std::string text;                 // the current text field
    std::shared_ptr<TempFile> file;   // the current file part
    std::uint64_t file_size = 0;
    MultipartParser::Callbacks cb;
    cb.on_part_begin = [&](const PartInfo& info) -> Status {
        current = info;
        text.clear();
        file.reset();
        file_size = 0;
        if (current.filename) {
            auto created = TempFile::create(spool_dir);
            if (!created) return std::move(created).error();
            file = std::move(*created);
        }
        return {};
    };
    cb.on_part_data = [&](std::string_view piece) -> Status {
        if (!file) {
            text.append(piece);
            return {};
        }
        file_size += piece.size();
        return file->append(piece);
    };
    cb.on_part_end = [&]() -> Status {
        if (file) {
            form.files.push_back(
                SpooledFile{current.name, std::move(*current.filename), current.content_type, std::move(file), file_size});
        } else {
            if (auto st = check_text(text, "value"); !st) {
                return make_error(ErrorCode::invalid_input,
                                  "multipart field " + in_quotes(current.name) + ": " + st.error().message);
            }
            form.fields.add(current.name, std::move(text));
        }
        text.clear();
        return {};
    };
    MultipartParser parser(std::move(*boundary), limits, std::move(cb));
    std::string piece;
    for (std::uint64_t offset = 0;;) {
        if (auto st = body.read_at(offset, 64 * 1024, piece); !st) return std::move(st).error();
        if (piece.empty()) break;
        offset += piece.size();
        if (auto st = parser.feed(piece); !st) return std::move(st).error();
    }
    if (auto st = parser.finish(); !st) return std::move(st).error();
    return form;
}

}  // namespace starpunk::http
