#include "http/response.hpp"

#include <algorithm>
#include <stdexcept>

#include "http/request.hpp"

namespace starpunk::http {

void Response::set_header(std::string_view name, std::string_view value) {
    remove_header(name);
    headers.emplace_back(std::string(name), std::string(value));
}

void Response::add_header(std::string_view name, std::string_view value) {
    headers.emplace_back(std::string(name), std::string(value));
}

void Response::remove_header(std::string_view name) {
    std::erase_if(headers, [&](const auto& h) { return iequals(h.first, name); });
}

std::optional<std::string_view> Response::header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
        if (iequals(k, name)) return std::string_view(v);
    }
    std::optional<std::string_view> found;
    for (std::string_view block : blocks) {
        for_each_block_line(block, [&](std::string_view k, std::string_view v) {
            if (!found && iequals(k, name)) found = v;
        });
        if (found) return found;
    }
    return std::nullopt;
}

void Response::add_block(std::string_view lines) {
    for (auto& b : blocks) {
        if (b.empty()) {
            b = lines;
            return;
        }
    }
    throw std::logic_error("Response::add_block: more than kMaxBlocks blocks");
}

void append_header_line(std::string& out, std::string_view name, std::string_view value) {
    out.append(name);
    out.append(": ");
    const size_t at = out.size();
    out.append(value);
    for (size_t i = at; i < out.size(); ++i) {
        if (out[i] == '\r' || out[i] == '\n') out[i] = ' ';
    }
    out.append("\r\n");
}

std::string header_line(std::string_view name, std::string_view value) {
    std::string line;
    line.reserve(name.size() + value.size() + 4);
    append_header_line(line, name, value);
    return line;
}

static Response typed(int status, std::string_view type, std::string body) {
    Response r;
    r.status = status;
    r.headers.emplace_back("Content-Type", std::string(type));
    r.body = std::move(body);
    return r;
}

Response html_response(int status, std::string body) { return typed(status, kHtmlType, std::move(body)); }
Response json_response(int status, std::string body) { return typed(status, kJsonType, std::move(body)); }
Response text_response(int status, std::string body) { return typed(status, kTextType, std::move(body)); }

Response redirect(std::string location, int status) {
    Response r;
    r.status = status;
    r.headers.emplace_back("Location", std::move(location));
    return r;
}

Response stream_response(int status, std::string_view content_type, ChunkSource source) {
    Response r;
    r.status = status;
    r.headers.emplace_back("Content-Type", std::string(content_type));
    r.stream = std::move(source);
    return r;
}

std::string_view reason_phrase(int status) {
    switch (status) {
        case 200: return "OK";
        case 201: return "Created";
        case 202: return "Accepted";
        case 204: return "No Content";
        case 206: return "Partial Content";
        case 301: return "Moved Permanently";
        case 302: return "Found";
        case 303: return "See Other";
        case 304: return "Not Modified";
        case 307: return "Temporary Redirect";
        case 308: return "Permanent Redirect";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 406: return "Not Acceptable";
        case 408: return "Request Timeout";
        case 409: return "Conflict";
        case 410: return "Gone";
        case 411: return "Length Required";
        case 413: return "Content Too Large";
        case 415: return "Unsupported Media Type";
        case 416: return "Range Not Satisfiable";
        case 422: return "Unprocessable Content";
        case 429: return "Too Many Requests";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 507: return "Insufficient Storage";
        default: return "Unknown";
    }
}

}  // namespace starpunk::http
