// Errors as values across module borders.
//
// Result<T> holds either a T or an Error. Error carries a machine-readable code
// (ErrorCode) and a human-readable message that says what went wrong and, where
// it helps, what to fix. Messages never contain secrets. Modules may use
// exceptions internally, but they never escape a module's public functions:
// those return Result<T> or Status (= Result<void>).
#pragma once

#include <cerrno>
#include <string>
#include <utility>
#include <variant>

namespace starpunk {

enum class ErrorCode {
    invalid_input,   // the caller's data is malformed or out of range (maps to 400)
    too_large,       // a size limit was exceeded (maps to 413)
    not_found,       // the thing asked for does not exist (maps to 404)
    conflict,        // the operation clashes with existing state (maps to 409)
    unsupported,     // a well-formed request for something we do not do (maps to 415/400)
    io,              // the operating system refused a file or network operation
    no_space,        // the disk or the quota is full (ENOSPC, EDQUOT, SQLITE_FULL): the server's storage,
                     // not the caller's request (maps to 507); frees up when space is freed
    busy,            // a shared resource is exhausted for the moment: try again shortly (maps to 503)
    internal,        // a bug or an impossible state (maps to 500)
};

struct Error {
    ErrorCode code = ErrorCode::internal;
    std::string message;
};

inline Error make_error(ErrorCode code, std::string message) {
    return Error{code, std::move(message)};
}

// The caller's input was wrong; `message` says what to fix.
inline Error invalid_input(std::string message) { return make_error(ErrorCode::invalid_input, std::move(message)); }

// The server's own storage failed (io or no_space): the client is not at fault;
// the details belong in the log, not in the answer.
inline bool is_storage_failure(ErrorCode code) { return code == ErrorCode::io || code == ErrorCode::no_space; }

// The errno of a failed file operation as an ErrorCode: ENOENT not_found,
// ENOSPC and EDQUOT no_space, anything else io.
inline ErrorCode errno_code(int err) {
    if (err == ENOENT) return ErrorCode::not_found;
    if (err == ENOSPC || err == EDQUOT) return ErrorCode::no_space;
    return ErrorCode::io;
}

template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
    Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

    bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    // Precondition: ok().
    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    // Precondition: !ok().
    const Error& error() const& { return std::get<1>(v_); }
    Error&& error() && { return std::get<1>(std::move(v_)); }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

    bool ok() const noexcept { return ok_; }
    explicit operator bool() const noexcept { return ok_; }
    const Error& error() const& { return error_; }
    Error&& error() && { return std::move(error_); }

private:
    Error error_;
    bool ok_ = true;
};

using Status = Result<void>;

}  // namespace starpunk
