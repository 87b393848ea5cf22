// multipart/form-data request bodies (RFC 7578, framing per RFC 2046 §5.1).
//
// MultipartParser is a push parser: the body is fed in chunks of any size and
// parts are reported through callbacks as they stream past, so a large upload
// never has to sit in memory. Apart from one part's header block (bounded by
// max_part_header_bytes) it keeps no copy of the input: bytes that might begin
// a delimiter are held only as a count of matched delimiter bytes.
//
// Framing accepted:
//   * everything before the first delimiter (preamble) and after the closing one
//     (epilogue) is ignored; the first delimiter may start the body without a CRLF;
//   * a delimiter is CRLF "--" boundary; after it come "--" (the closing delimiter)
//     or optional spaces/tabs and CRLF (the next part). Anything else after the
//     boundary text, in a part or in the preamble, is malformed (RFC 2046 says
//     the boundary must not occur in the content), not data;
//   * a part's header block ends at CRLF CRLF (lines end in CRLF, bare LF is not
//     a line end; obsolete folded continuation lines are joined). Header names
//     are case-insensitive;
//   * Content-Disposition is required, must be `form-data` with a `name`
//     parameter, and may carry `filename` and `filename*` (RFC 5987, UTF-8 only;
//     it wins over `filename`). Parameter values are tokens or quoted strings;
//     in a quoted string `\"` and `\\` are escapes and any other backslash is
//     kept as is, because browsers send Windows paths unescaped;
//   * Content-Type defaults to "text/plain"; other part headers are ignored.
//   * Part names and filenames must be valid UTF-8 without NUL bytes. The
//     filename is passed on exactly as sent (it may contain path separators):
//     never use it as a file path without sanitising it. An empty filename (a
//     file input the user left empty) still marks the part as a file.
//   * A body with a closing delimiter and no parts is accepted as an empty form.
//
// Errors are values: ErrorCode::too_large names the limit exceeded,
// ErrorCode::invalid_input says what is malformed (and in which part).
// A parser is not thread-safe; use one per request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/form.hpp"
#include "util/result.hpp"
#include "util/temp_file.hpp"

namespace starpunk::http {

// Defaults fit the default MAX_CONTENT_LENGTH of 10 MB (SPEC §11): a file may use
// all of it; a text field is capped like an urlencoded value (see FormLimits).
struct MultipartLimits {
    size_t max_parts = 100;
    size_t max_part_header_bytes = 8192;     // one part's header block, CRLFCRLF included
    size_t max_field_bytes = 4u << 20;       // data of a part without a filename
    size_t max_file_bytes = 10u << 20;       // data of a part with a filename
    size_t max_total_bytes = 10u << 20;      // every byte fed, framing and epilogue included
};

struct PartInfo {
    std::string name;
    std::optional<std::string> filename;  // present (possibly empty) when the part is a file
    std::string content_type = "text/plain";  // the header value as sent, trimmed
};

class MultipartParser {
public:
    // Callbacks may be empty. For each part, in order: on_part_begin once, then
    // on_part_data zero or more times with non-empty slices whose concatenation is
    // the part's data, then on_part_end once. How the data is sliced depends on the
    // chunking; nothing else does. Views are valid only during the call. A callback
    // returning an error stops the parser: that error is returned from feed() now
    // and from every later feed()/finish().
    struct Callbacks {
        std::function<Status(const PartInfo&)> on_part_begin;
        std::function<Status(std::string_view)> on_part_data;
        std::function<Status()> on_part_end;
    };

    // `boundary` is the value of the boundary parameter (see multipart_boundary).
    // An unusable boundary (empty, longer than 70 bytes, control or non-ASCII
    // bytes) is reported as invalid_input by the first feed() or finish().
    MultipartParser(std::string boundary, MultipartLimits limits, Callbacks cb);

    // Consumes the next piece of the body. Any split of the body, down to one byte
    // per call, yields the same callbacks (up to data slicing) and the same result.
    // After an error every call returns that error. Calling feed() after finish()
    // is a usage error (ErrorCode::internal).
    Status feed(std::string_view chunk);

    // Declares the end of the body. invalid_input if the closing delimiter was not
    // seen (truncated body); otherwise ok. May be called more than once.
    Status finish();

    // True once the closing delimiter has been consumed.
    bool done() const { return state_ == State::epilogue; }

private:
    enum class State { preamble, after_boundary, close_dash, padding, delimiter_lf, headers, body, epilogue };

    Status consume(std::string_view chunk);
    size_t scan_delimiter(std::string_view chunk, size_t from);
    Status emit_data(std::string_view chunk, size_t from, size_t carried, size_t data_len);
    Status begin_part();
    Status fail(Error e);

    std::string delimiter_;      // CRLF "--" boundary
    std::vector<size_t> fail_;   // KMP failure function of delimiter_
    MultipartLimits limits_;
    Callbacks cb_;
    State state_ = State::preamble;
    size_t matched_ = 0;         // delimiter_[0, matched_) are the last bytes seen, not yet reported
    size_t total_ = 0;           // bytes consumed so far
    size_t parts_ = 0;           // parts started so far
    size_t part_bytes_ = 0;      // data bytes of the current part reported so far
    size_t part_limit_ = 0;      // max data bytes of the current part
    bool part_is_file_ = false;
    std::string part_name_;      // for error messages
    std::string header_buf_;     // the current header block, bounded by max_part_header_bytes
    std::optional<Error> error_;
    bool finished_ = false;
};

// Extracts the boundary from a Content-Type header value such as
// `multipart/form-data; boundary=----x` or `...; boundary="a b"`.
// invalid_input when the media type is not multipart/form-data (any case), the
// parameter list is malformed, or the boundary is missing, empty, longer than 70
// bytes (RFC 2046) or contains control or non-ASCII bytes. Characters outside
// RFC 2046's bchars are otherwise tolerated, as clients in the wild use them.
Result<std::string> multipart_boundary(std::string_view content_type_header);

struct UploadedFile {
    std::string field_name;
    std::string filename;      // as sent; untrusted
    std::string content_type;
    std::string data;
};

struct MultipartForm {
    FormData fields;                 // parts without a filename, in order
    std::vector<UploadedFile> files; // parts with a filename, in order
};

// Parses a whole body held in memory with MultipartParser. Field values must be
// valid UTF-8 without NUL bytes, as for parse_urlencoded (invalid_input
// otherwise); file data is arbitrary bytes. Errors as for MultipartParser and
// multipart_boundary.
Result<MultipartForm> parse_multipart(std::string_view body, std::string_view content_type_header,
                                      const MultipartLimits& limits = {});

// A file part spooled to its own unlinked temporary file.
struct SpooledFile {
    std::string field_name;
    std::string filename;      // as sent; untrusted
    std::string content_type;  // as sent; untrusted
    std::shared_ptr<TempFile> data;
    std::uint64_t size = 0;
};

struct SpooledForm {
    FormData fields;                  // parts without a filename, in order
    std::vector<SpooledFile> files;   // parts with a filename, in order
};

// Parses a body spooled to `body` (read from offset 0 in 64 KiB pieces), each
// file part going to a new temporary file in `spool_dir` as it streams past:
// memory holds at most one piece plus the text fields, whatever the size of
// the files. Errors as for parse_multipart, and io when a temp file fails.
Result<SpooledForm> parse_multipart_file(const TempFile& body, std::string_view content_type_header,
                                         const MultipartLimits& limits, const std::string& spool_dir);

}  // namespace starpunk::http
