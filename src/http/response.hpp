// The response a handler returns, and builders for the common kinds.
//
// A Response owns its body in one of four forms:
//   * `body`        — an owned string (most pages);
//   * `shared_body` — an immutable shared string (pages cached in memory), sent
//                     without copying; when set it wins over `body`;
//   * `stream`      — a chunk source pulled one chunk at a time and sent with
//                     chunked transfer encoding, so memory does not grow with the
//                     size of the whole body (feeds);
//   * `file`        — a range of an open file, sent after the head with
//                     sendfile(2): the kernel hands the socket the file's pages
//                     and the process never reads the bytes. When set it wins
//                     over the others.
// Header fields are `headers` (owned strings) and `blocks`: complete header
// lines built once and shared (the site's security headers, a cached page's
// validators), written as they are, so a response from memory copies no
// header strings.
// Security headers, X-Request-ID, Content-Length and Date are added by the server
// at its single finalisation point (http/finalize.hpp); handlers never set them.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.hpp"

namespace starpunk::http {

// Fills `chunk` with the next piece of the body. Returns true when a chunk was
// produced, false at the end of the body. An Error aborts the connection (the
// status line has already gone out, so the client sees a truncated transfer).
using ChunkSource = std::function<Result<bool>(std::string& chunk)>;

// A body that is `length` bytes of the file open as `fd`, from `offset`.
// Contract: those bytes do not change while the response may be in flight —
// sendfile passes the file's pages by reference until the peer has them — so
// the file is immutable: never rewritten or truncated (unlinking it is fine).
// `owner` keeps the descriptor open until the response is done. A file that
// turns out shorter than `length` aborts the connection (the head promised
// that length).
struct FileBody {
    int fd = -1;
    std::shared_ptr<const void> owner;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
};

struct Response {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::shared_ptr<const std::string> shared_body;
    ChunkSource stream;
    std::optional<FileBody> file;
    // Lines "Name: value\r\n" (each made by header_line(), so free of stray
    // CR and LF), written after `headers`. Each block must outlive the write:
    // static storage, or storage `owner` keeps alive. header() sees them;
    // set_header() and remove_header() do not, so a block never holds a
    // field the application may replace.
    static constexpr std::size_t kMaxBlocks = 4;
    std::array<std::string_view, kMaxBlocks> blocks{};
    std::shared_ptr<const void> owner;

    // Into the first free place; std::logic_error when there is none (a bug).
    void add_block(std::string_view lines);
    // Replaces every header of that name (case-insensitive) with one value.
    void set_header(std::string_view name, std::string_view value);
    // Appends a header even if one of that name exists (Set-Cookie, Link).
    void add_header(std::string_view name, std::string_view value);
    void remove_header(std::string_view name);
    std::optional<std::string_view> header(std::string_view name) const;
    std::string_view body_view() const { return shared_body ? std::string_view(*shared_body) : std::string_view(body); }
};

inline constexpr std::string_view kHtmlType = "text/html; charset=utf-8";
inline constexpr std::string_view kJsonType = "application/json; charset=utf-8";
inline constexpr std::string_view kTextType = "text/plain; charset=utf-8";

Response html_response(int status, std::string body);
Response json_response(int status, std::string body);
Response text_response(int status, std::string body);
// 302 by default; 301/303/307/308 also allowed. `location` is sent as given.
Response redirect(std::string location, int status = 302);
Response stream_response(int status, std::string_view content_type, ChunkSource source);

// "Name: value\r\n", with any CR or LF in the value written as a space: no
// value can start a header field of its own.
std::string header_line(std::string_view name, std::string_view value);
// Appends the same to `out`.
void append_header_line(std::string& out, std::string_view name, std::string_view value);
// Calls f(name, value) for each line of a block.
template <class F>
void for_each_block_line(std::string_view block, F&& f) {
    while (!block.empty()) {
        const auto end = block.find("\r\n");
        const std::string_view line = block.substr(0, end);
        const auto colon = line.find(": ");
        f(line.substr(0, colon), colon == std::string_view::npos ? std::string_view() : line.substr(colon + 2));
        if (end == std::string_view::npos) break;
        block.remove_prefix(end + 2);
    }
}

// Standard reason phrase ("Not Found"); "Unknown" for codes we never send.
std::string_view reason_phrase(int status);

}  // namespace starpunk::http
