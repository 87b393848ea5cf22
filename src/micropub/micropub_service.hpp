// The Micropub endpoint's logic (SPEC §5): POST /micropub creates notes, GET
// /micropub answers queries. Transport-neutral: it takes the few request
// fields it needs (Incoming, plain views) and returns a Reply of plain values;
// web/micropub_adapter.hpp converts both ways, and the web handler also
// invalidates the page cache after a create.
//
// Order of checks, so an unauthenticated client learns nothing about the site:
//   POST: a token in the Authorization header is verified
//         (micropub/token_verifier.hpp) before the body is parsed -> parse
//         the body (form / multipart / JSON, micropub/request.hpp; malformed
//         -> 400, also when it may have held the token) -> without a header
//         token, the access_token field is verified (none -> 401; both -> 400)
//         -> action (update/delete/undelete) -> scope `create` (or `post`)
//         else 403 insufficient_scope -> validate -> photos: URLs on
//         SITE_URL/media/ linked to their stored image, other http(s) URLs
//         kept as external (never fetched), uploaded `photo` files (a
//         multipart body the route spooled to disk) stored by
//         MediaService::store (415/413/400; no note is created then) ->
//         NotesService::create -> 201 + Location SITE_URL/note/<slug>.
//   GET:  token (header or access_token query field) -> verify -> q:
//         config | syndicate-to | source&url=<permalink>[&properties[]=…];
//         anything else 400. Queries need a valid token but no scope.
// Errors are JSON {"error", "error_description"} with the status of the
// Failure (micropub/failure.hpp); 401/403 carry WWW-Authenticate. Every reply
// is Cache-Control: no-store.
//
// syndicate-to is always empty.
//
// Thread-safety: post() and query() may be called concurrently.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "media/media_service.hpp"
#include "micropub/failure.hpp"
#include "micropub/post_model.hpp"
#include "micropub/request.hpp"
#include "micropub/token_verifier.hpp"
#include "notes/notes_service.hpp"

namespace starpunk::micropub {

struct Incoming {
    std::optional<std::string_view> authorization;  // Authorization header
    std::string_view content_type;                  // Content-Type header value ("" when absent)
    std::string_view body;
    std::string_view query;                         // raw query string, without '?'
    const TempFile* body_file = nullptr;            // a spooled body (uploads); then `body` is empty
};

struct Reply {
    int status = 200;
    nlohmann::json body;  // null: no body
    std::string location;
    std::string www_authenticate;
    int retry_after_seconds = 0;         // > 0: Retry-After
    std::optional<notes::Note> created;  // the note a 201 created
    // Every reply is `Cache-Control: no-store` (the adapter adds it).

    static Reply from(const Failure& failure);
};

class MicropubService {
public:
    // All referenced objects must outlive the service.
    // `media` may be null: then the media endpoint answers 503.
    MicropubService(const config::Config& config, TokenVerifier& tokens, notes::NotesService& notes,
                    media::MediaService* media = nullptr);

    Reply post(const Incoming& in);
    // POST /micropub/media (micropub/media_upload.cpp): token (header, or the
    // access_token field) -> scope `media` or `create` else 403 -> the
    // multipart part `file` (spooled body; none -> 400) ->
    // MediaService::store (not an image we take -> 415, over the pixel
    // limit -> 413, undecodable -> 400) -> 201, Location:
    // SITE_URL/media/<path of the full-size file>.
    Reply upload(const Incoming& in);
    Reply query(const Incoming& in);

private:
    Reply act(const TokenInfo& info, const PostRequest& request);
    Reply source(std::string_view url, const std::vector<std::string_view>& wanted) const;
    Reply source_list(std::string_view limit, std::string_view offset, const std::vector<std::string_view>& wanted) const;
    Reply categories(std::string_view filter) const;
    Outcome<notes::Note> find_note(std::string_view url) const;
    Outcome<StoredPost> load(notes::Note note) const;
    // The request body: in memory (parse_post) or a spooled multipart body
    // (parse_multipart_file into the upload directory, parse_post_spooled).
    Result<PostRequest> parse_body(const Incoming& in) const;
    // Photos whose URL is on SITE_URL/media/ linked to their stored image
    // (400 when none is stored there); others untouched. Nothing is fetched.
    Outcome<std::vector<notes::NewPhoto>> link_photos(std::vector<notes::NewPhoto> photos) const;
    // The request's uploaded photo files through MediaService::store (415,
    // 413, 400 as for the media endpoint), with their alt texts.
    Outcome<std::vector<notes::NewPhoto>> store_uploads(const PostRequest& request) const;

    const config::Config& config_;
    TokenVerifier& tokens_;
    notes::NotesService& notes_;
    media::MediaService* media_;
};

}  // namespace starpunk::micropub
