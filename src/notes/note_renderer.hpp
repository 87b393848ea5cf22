// Rendered notes: Markdown -> sanitised HTML, title and excerpt, computed once
// per content version and kept in a bounded cache (SPEC §2.4, §12.3).
//
// Contract: the cache is keyed by content_hash, so an entry can never be stale:
// an edited note has a new hash and renders anew; the old entry ages out (LRU,
// at most `capacity` entries). render() reads the file through NotesService
// (hash-verified). Thread-safe; rendering happens outside the lock.
#pragma once

#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "notes/notes_service.hpp"

namespace starpunk::notes {

struct RenderedNote {
    std::string html;                  // sanitised e-content (without the heading when `name` is set)
    std::string title;                 // first line, for lists and feeds (SPEC §2.4)
    std::optional<std::string> name;   // only when the note starts with a heading (p-name)
    std::string excerpt;               // plain text, ~200 characters
};

class NoteRenderer {
public:
    NoteRenderer(const NotesService& notes, size_t capacity = 2000) : notes_(notes), capacity_(capacity) {}

    Result<std::shared_ptr<const RenderedNote>> render(const Note& note);

    // Renders Markdown that is not (yet) a stored note: previews, tests.
    static RenderedNote render_content(std::string_view content);

private:
    const NotesService& notes_;
    size_t capacity_;
    std::mutex mutex_;
    std::list<std::string> order_;  // most recent first (content hashes)
    struct Entry {
        std::shared_ptr<const RenderedNote> rendered;
        std::list<std::string>::iterator position;
    };
    std::unordered_map<std::string, Entry> entries_;
};

}  // namespace starpunk::notes
