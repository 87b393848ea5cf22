// The site's feeds (SPEC §6): which notes, in what order, the validator, and the
// body produced item by item.
//
// Invariants:
//   1. Source: published, non-deleted notes, newest first (created_at, then
//      id), at most FEED_MAX_ITEMS. prepare() reads only their metadata rows;
//      a note's file is read (and rendered, through NoteRenderer's cache keyed
//      by content hash) only when its item is written.
//   2. Constant memory: the streamed body holds at most one item's text plus a
//      chunk of about kChunkBytes at a time, whatever the number and size of
//      notes (the server frees each chunk once written). The metadata list is
//      bounded by FEED_MAX_ITEMS.
//   3. The ETag is weak (W/"…") and a function of the format, the feed settings
//      (URLs, names, limit, StarPunk version) and, for every listed note, its
//      id, updated_at and content_hash — computed from the list, before any
//      item is written. Any edit, publication, unpublication, deletion or
//      restore that changes the list changes it. For an empty feed the body's
//      date is "now", which the weak validator tolerates.
//   4. A note that cannot be read or rendered while streaming (file gone, hash
//      mismatch) aborts the transfer with an error: the client sees a
//      truncated response and keeps its previous copy, rather than caching a
//      feed silently missing an item under a validator that claims it.
// Items: id/guid/link = SITE_URL/note/<slug>; title = RenderedNote::title;
// body = RenderedNote::html (sanitised; without the leading heading when the
// note has one); published = created_at; updated = updated_at. The feed's
// updated/lastBuildDate is the newest updated_at among the items.
//
// Contract: nothing throws; errors are values (io when the database or a file
// fails). Thread-safety: a FeedService is immutable and may be shared by any
// number of threads; each ChunkSource it returns is pulled by one thread at a
// time (as the HTTP server does).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "feeds/writers.hpp"
#include <functional>
#include "notes/note_renderer.hpp"
#include "notes/notes_service.hpp"
#include "util/clock.hpp"
#include "util/result.hpp"

namespace starpunk::feeds {

inline constexpr size_t kChunkBytes = 16 * 1024;

// Pulls the next piece of a feed into `chunk`: true when a chunk was produced,
// false at the end, an Error when a note cannot be read (invariant 4). The web
// layer hands it to the HTTP server as a streamed body unchanged.
using ChunkSource = std::function<Result<bool>(std::string& chunk)>;

struct Settings {
    std::string site_url;  // no trailing slash
    std::string site_name;
    std::string site_description;
    std::string author_name;  // SITE_AUTHOR, else SITE_NAME
    std::string author_url;   // ADMIN_ME (may be empty)
    int max_items = 50;

    static Settings from_config(const config::Config& c);
};

struct PreparedFeed {
    Format format = Format::rss;
    std::vector<notes::Note> notes;  // metadata only, newest first
    std::string etag;                // W/"<hex>"
};

class FeedService {
public:
    // `notes` and `renderer` must outlive the service and every stream it
    // returns; either may be null (then prepare() fails with an internal error).
    FeedService(const notes::NotesService* notes, notes::NoteRenderer* renderer, Settings settings,
                const Clock& clock = system_clock());

    // Lists the feed's notes (metadata only) and computes its ETag.
    Result<PreparedFeed> prepare(Format format) const;

    // The body of `feed`, one chunk per pull (RSS/Atom/JSON head, items, tail).
    // The source keeps `service` alive. `chunk_bytes`: a chunk is sent once it
    // reaches this size (at least one item per chunk).
    static ChunkSource stream(std::shared_ptr<const FeedService> service, PreparedFeed feed,
                                    size_t chunk_bytes = kChunkBytes);

    // The whole feed as one string: tests and tools, not the server.
    Result<std::string> render_whole(Format format) const;

    // OPML 2.0 listing the three feeds, and its (strong) ETag.
    const std::string& opml() const { return opml_; }
    const std::string& opml_etag() const { return opml_etag_; }

    const Settings& settings() const { return settings_; }

    // The weak ETag for `format` over these notes (invariant 3).
    std::string etag_for(Format format, const std::vector<notes::Note>& notes) const;

private:
    struct Cursor;
    Channel channel_for(const PreparedFeed& feed) const;
    // Appends the next piece of the document to `chunk`: the head first, then
    // items until the chunk reaches chunk_bytes (at least one), the tail after
    // the last. False once everything has been produced.
    Result<bool> pull(Cursor& cursor, size_t chunk_bytes, std::string& chunk) const;

    const notes::NotesService* notes_;
    notes::NoteRenderer* renderer_;
    Settings settings_;
    const Clock& clock_;
    std::string settings_digest_;
    std::string opml_;
    std::string opml_etag_;
};

}  // namespace starpunk::feeds
