// The notes service: the only code that creates, changes or removes notes.
// A note is a Markdown file under NOTES_PATH plus a row in `notes`; the write
// protocol that keeps the two in step is documented at the top of
// notes_service.cpp.
//
// Contract: every method returns a Result; nothing throws across this border.
// Errors: invalid_input (blank content, content Options::render refuses, bad custom slug with the reject policy,
// a photo validate_photos refuses, a photo naming a media id that does not exist), too_large (oversized
// content), not_found (no such note), conflict (purging a note that is not
// in the trash), io (the disk or database failed; nothing was half-done).
// Thread-safety: all methods may be called concurrently; each takes its own
// pooled connection.
#pragma once

#include <functional>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "notes/changes.hpp"
#include "notes/note_photos.hpp"
#include "notes/note_tags.hpp"
#include "notes/rendered_note.hpp"
#include "notes/slug.hpp"
#include "storage/fs.hpp"
#include "storage/pool.hpp"
#include "util/clock.hpp"

namespace starpunk::notes {

struct Note {
    int64_t id = 0;
    std::string slug;
    std::string file_path;  // as stored: relative to NOTES_PATH ("2026/11/slug.md")
    bool published = false;
    Timestamp created_at{};
    Timestamp updated_at{};
    std::optional<Timestamp> deleted_at;
    std::string content_hash;
    std::optional<std::string> pending_hash;
    std::optional<std::string> summary;  // Micropub summary beside the content (p-summary)

    bool is_deleted() const { return deleted_at.has_value(); }
};

struct NewNote {
    std::string content;
    std::string custom_slug;  // blank: automatic
    bool published = true;
    std::optional<Timestamp> created_at;  // default: now (import passes the file's mtime)
    CustomSlugPolicy slug_policy = CustomSlugPolicy::fall_back;
    std::vector<std::string> tags;  // categories as written (notes/note_tags.hpp)
    std::optional<std::string> summary;
    std::vector<NewPhoto> photos;  // in order (notes/note_photos.hpp)
};

struct NoteChange {
    std::optional<std::string> content;
    std::optional<bool> published;
    std::optional<std::vector<std::string>> tags;  // the whole new set, as written
    std::optional<Timestamp> created_at;           // Micropub `published`; the file stays where it is
    std::optional<std::optional<std::string>> summary;  // set (a value) or clear (nullopt inside)
    std::optional<std::vector<NewPhoto>> photos;        // the whole new list, in order (empty: none)
};

enum class Visibility {
    published,  // published and not deleted (what the public sees)
    all,        // drafts and published, not deleted (the admin's list)
    trash,      // deleted only
};

// Where a walk through the notes, newest first, continues. Default: the
// newest note. Opaque: only walk_newest() makes one.
class NoteCursor {
public:
    NoteCursor() = default;

private:
    friend class NotesService;
    std::string created_at_ = "\x7f";  // as stored; sorts after every timestamp
    int64_t id_ = INT64_MAX;
};

struct NoteBatch {
    std::vector<Note> notes;  // newest first
    NoteCursor next;          // continues after the last of `notes`
    bool end = false;         // no note after these
};

struct NotePage {
    std::vector<Note> notes;
    int64_t total = 0;  // matching notes in all pages
};

// One page of a published listing, as note ids (NotesService::published_listing).
struct ListingPage {
    std::vector<int64_t> ids;  // newest first
    int64_t total = 0;         // notes in the whole listing
};

struct NoteCounts {
    int64_t published = 0;  // published, not deleted
    int64_t drafts = 0;     // unpublished, not deleted
    int64_t deleted = 0;    // in the trash
};

struct TagCount {
    Tag tag;
    int64_t notes = 0;  // notes with the tag (in the visibility asked for)
};

struct IntegrityProblem {
    std::string slug;       // empty for orphan files
    std::string file_path;  // relative to NOTES_PATH
    std::string problem;    // "missing file", "hash mismatch", "orphan file", ...
};

// How much of each note check() reads. quick: every row's file must exist,
// and only the kQuickHashedNotes most recently updated notes are read and
// hashed (a cheap daily check: what changed lately, and nothing missing);
// full: every note's file is read and hashed.
enum class CheckDepth { quick, full };
inline constexpr int64_t kQuickHashedNotes = 100;

struct IntegrityReport {
    int64_t notes_checked = 0;
    int64_t notes_hashed = 0;  // notes whose file was read to compare with its hash (or found missing)
    std::vector<IntegrityProblem> problems;
    bool ok() const { return problems.empty(); }
};

struct StartupReport {
    int stale_temp_files_removed = 0;
    int pending_updates_settled = 0;
    std::vector<std::string> orphan_files;  // relative to NOTES_PATH; reported, never deleted
    std::vector<std::string> unsettled;     // "slug: why" — file matches neither hash; needs a human
};

class NoteIndex;
class RenderedStore;
class ListingCache;

class NotesService {
public:
    struct Options {
        std::string notes_path;
        size_t max_content_bytes = 1024 * 1024;
        // How often NoteChanges::poll() may ask the database whether another
        // process wrote (see notes/changes.hpp).
        std::chrono::milliseconds external_check{1000};
        // Renders content before it is stored (create, and an update that
        // changes content), after the size check. An error refuses the write
        // and is returned as it is; the rendering is stored with the note's
        // row (notes/rendered_store.hpp), so readers need not render. The
        // server passes notes::render_for_write (notes/note_renderer.hpp): a
        // note must render within its budget. Empty: no check and nothing
        // stored (command-line tools); readers render on first use.
        std::function<Result<RenderedNote>(std::string_view content)> render;
    };

    NotesService(std::shared_ptr<storage::ConnectionPool> pool, storage::FileSystem& fs, const Clock& clock,
                 Options options);
    ~NotesService();
    NotesService(const NotesService&) = delete;
    NotesService& operator=(const NotesService&) = delete;

    // Every committed write below publishes here (create, update, soft_delete,
    // restore, purge, a recover() that settled something, an index rebuild).
    NoteChanges& changes() const { return changes_; }
    // The full-text index (notes/note_index.hpp).
    NoteIndex& index() const { return *index_; }
    // Stored renderings (notes/rendered_store.hpp).
    RenderedStore& rendered() const { return *rendered_; }

    // A timestamp-fallback slug is logged at WARNING, a rejected custom slug at
    // INFO (SPEC §2.5); the caller sees only the note.
    Result<Note> create(const NewNote& note);

    Result<Note> get_by_slug(std::string_view slug) const;  // deleted notes included (callers decide 404/410)
    Result<Note> get_by_id(int64_t id) const;
    // Whether any note (deleted included) has exactly this content hash.
    Result<bool> has_content_hash(std::string_view content_hash) const;
    // Published listings (here and in list_tagged) are sliced from the
    // listing's order kept in memory (notes/listing_cache.hpp): page N costs
    // the same however far back it is.
    Result<NotePage> list(Visibility visibility, int64_t limit, int64_t offset) const;
    // Page [offset, offset + limit) of a published listing — all published
    // notes when `tag` is empty, else those with that tag (normalised name) —
    // as ids, in the order of list() and list_tagged(). From the listing kept
    // in memory; when it is not kept, it is loaded (one query), or with
    // `memory_only` the answer is nullopt and the database is not touched (for
    // the I/O thread). Costs the same however far back the page is.
    Result<std::optional<ListingPage>> published_listing(std::string_view tag, int64_t limit, int64_t offset,
                                                         bool memory_only) const;
    // The notes with these ids in the order given (one query; ids of notes
    // that no longer exist are left out).
    Result<std::vector<Note>> notes_by_ids(const std::vector<int64_t>& ids) const;
    // The newest `limit` notes (created_at, then id, descending), without a
    // total: walks the created_at index and stops after `limit` matching rows,
    // so the cost does not grow with the number of notes (feeds, SPEC §14).
    Result<std::vector<Note>> newest(Visibility visibility, int64_t limit) const;
    // The next `limit` notes after `from` in the same order, with the cursor to
    // continue from: a keyset walk, so each batch costs the same however far in.
    Result<NoteBatch> walk_newest(Visibility visibility, const NoteCursor& from, int64_t limit) const;
    // How many notes are in each state (one aggregate query; metrics).
    Result<NoteCounts> counts() const;
    // The file's content, verified against content_hash (io error on mismatch).
    Result<std::string> read_content(const Note& note) const;

    // Tags (notes/note_tags.hpp), in the order they were given.
    Result<std::vector<Tag>> tags_of(int64_t note_id) const;
    // The tags of several notes at once (one query): note id -> tags; notes
    // without tags are absent.
    Result<std::map<int64_t, std::vector<Tag>>> tags_of(const std::vector<Note>& notes) const;
    // The tag with this normalised name; not_found when no note has ever had it.
    Result<Tag> find_tag(std::string_view name) const;
    // Notes with the tag, newest first, paged like list().
    Result<NotePage> list_tagged(std::string_view tag_name, Visibility visibility, int64_t limit,
                                 int64_t offset) const;
    // Tags on at least one note of `visibility`, by name.
    Result<std::vector<TagCount>> tags_in_use(Visibility visibility) const;

    // Photos (notes/note_photos.hpp), in order, stored ones with their media
    // details and variants.
    Result<std::vector<NotePhoto>> photos_of(int64_t note_id) const;
    // The photos of several notes at once (two queries): note id -> photos;
    // notes without photos are absent.
    Result<std::map<int64_t, std::vector<NotePhoto>>> photos_of(const std::vector<Note>& notes) const;
    // The notes (deleted ones included) whose photos use each of these media
    // ids: media id -> notes, newest first; unused ids are absent.
    Result<std::map<int64_t, std::vector<Note>>> notes_using_media(const std::vector<int64_t>& media_ids) const;

    // Content, published flag, tags, summary, photos and/or created_at. Photos
    // are validated (validate_photos) before anything is written. Slug and file path
    // never change. A change that changes nothing still moves updated_at.
    Result<Note> update(int64_t id, const NoteChange& change);
    Result<Note> soft_delete(int64_t id);
    Result<Note> restore(int64_t id);
    // Removes row and file for good. Only notes in the trash can be purged.
    Status purge(int64_t id);

    // Every note's file against its hash, plus orphan files and stale
    // temporary files (starpunk check: full; starpunk doctor: quick unless
    // --full). Reads only; changes nothing.
    Result<IntegrityReport> check(CheckDepth depth = CheckDepth::full) const;
    // Start-up repair: remove stale temp files, settle interrupted updates,
    // report orphans. Run before serving, with no other writer active.
    Result<StartupReport> recover();

    // Absolute path of a note's file; error when the stored path would leave
    // NOTES_PATH (traversal) or is malformed.
    Result<std::string> absolute_path(const Note& note) const;
    const Options& options() const { return options_; }

private:
    Result<Note> settle(storage::Connection& c, const Note& note);
    // Empty, too large, or refused by Options::render; else the rendering
    // (nullopt without Options::render).
    Result<std::optional<RenderedNote>> validate_content(const std::string& content) const;

    std::shared_ptr<storage::ConnectionPool> pool_;
    std::mutex write_mutex_;  // serialises this process's writes
    storage::FileSystem& fs_;
    const Clock& clock_;
    Options options_;
    mutable NoteChanges changes_;
    std::unique_ptr<NoteIndex> index_;
    std::unique_ptr<RenderedStore> rendered_;
    std::unique_ptr<ListingCache> listings_;  // the published listings' order (notes/listing_cache.hpp)
};

}  // namespace starpunk::notes
