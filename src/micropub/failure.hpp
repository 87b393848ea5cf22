// How Micropub requests fail (SPEC §5.2 "Errors"): an HTTP status, the OAuth /
// Micropub error code and a description for the client. Errors inside the
// micropub module are values of this type, so the HTTP status a failure maps to
// (401 vs 403 vs 503) is decided where the failure is understood, not guessed
// later from a generic ErrorCode.
//
// The codes used:
//   400 invalid_request          malformed request, unsupported action, no content
//   401 unauthorized             no token, or the token endpoint rejected it
//   403 forbidden                the token belongs to someone other than ADMIN_ME
//   403 insufficient_scope       the token lacks the scope the request needs
//   413 request_too_large        the note is larger than MAX_NOTE_SIZE
//   500 server_error             storage failed (details in the log only)
//   507 insufficient_storage     the server's disk (or quota) is full: nothing was
//                                changed; the same request succeeds once space is freed
//   503 temporarily_unavailable  the token endpoint could not be used (fail closed),
//                                or the server is busy with other outbound calls
//                                (then with Retry-After)
// Descriptions never contain secrets (tokens) or internal paths.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "util/result.hpp"

namespace starpunk::micropub {

struct Failure {
    int status = 400;
    std::string error;             // "invalid_request", "unauthorized", …
    std::string description;       // for the client
    std::string www_authenticate;  // RFC 6750 §3 challenge on 401/403; empty otherwise
    int retry_after_seconds = 0;   // > 0: the client may retry after this long (Retry-After)
};

inline Failure invalid_request(std::string description) {
    return Failure{400, "invalid_request", std::move(description), {}};
}

// 507 for a write that found the disk full; `what` says what could not be
// done ("The post could not be saved").
inline Failure insufficient_storage(const std::string& what) {
    return Failure{507, "insufficient_storage",
                   what + ": the server's disk is full. Nothing was changed; try again once space is freed.", {}};
}

// A MediaService::store error as the endpoint answers it: unsupported -> 415,
// too_large -> 413, invalid_input -> 400, no_space -> 507, anything else 500
// (logged). Defined
// in micropub/media_upload.cpp; shared by the media endpoint and photo files
// of a create.
Failure media_failure(const Error& e);

// A value or a Failure (the micropub module's Result).
template <typename T>
class [[nodiscard]] Outcome {
public:
    Outcome(T value) : v_(std::in_place_index<0>, std::move(value)) {}        // NOLINT: implicit by design
    Outcome(Failure failure) : v_(std::in_place_index<1>, std::move(failure)) {}  // NOLINT

    bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    // Precondition: ok().
    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    // Precondition: !ok().
    const Failure& failure() const& { return std::get<1>(v_); }

private:
    std::variant<T, Failure> v_;
};

}  // namespace starpunk::micropub
