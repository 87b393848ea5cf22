// Rendered notes: Markdown -> sanitised HTML, title and excerpt, computed once
// per content version and kept in a byte-bounded cache (SPEC §2.4, §12.3).
//
// Contract:
//   * The cache is keyed by content_hash, so an entry can never be stale: an
//     edited note has a new hash and renders anew; old entries age out (LRU)
//     once the rendered bytes kept exceed `cache_bytes`.
//   * One render per content at a time: concurrent requests for a note being
//     rendered wait for that render (single flight) instead of starting their
//     own.
//   * Markdown goes through a render::MarkdownEngine under a budget
//     (render/engine.hpp). A note over the read budget — stored before writes
//     were checked, or by another program — is shown as escaped plain text
//     (`degraded`), logged once per content version, and that outcome is
//     cached like any other, so a hostile note costs one bounded render.
//   * Below the memory cache is the database's (notes/rendered_store.hpp):
//     a note rendered once by its write is read back, not rendered, after a
//     restart or an eviction. Reads never store (rendered_store.hpp, 2);
//     store_missing() stores what writes did not.
//   * render() reads the file through NotesService (hash-verified).
//     Thread-safe; rendering happens outside the lock.
#pragma once

#include <atomic>
#include <cstddef>
#include <future>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "notes/notes_service.hpp"
#include "notes/rendered_note.hpp"
#include "render/engine.hpp"

namespace starpunk::notes {

// Budgets (render::budget_for, by the content's size): a write must render
// within the budget; a stored note gets twice its CPU time on reads, so what
// was accepted does not degrade on a busy machine.
inline constexpr int kReadCpuScale = 2;

class NoteRenderer {
public:
    struct Options {
        std::size_t cache_bytes = 16u << 20;
        int cpu_scale = kReadCpuScale;
    };
    NoteRenderer(const NotesService& notes, render::MarkdownEngine& engine, Options options);
    NoteRenderer(const NotesService& notes, render::MarkdownEngine& engine)
        : NoteRenderer(notes, engine, Options{}) {}

    // Errors: reading the note's file (io, internal on a hash mismatch), or the
    // engine unable to run (busy, io). Over budget is not an error (degraded).
    Result<std::shared_ptr<const RenderedNote>> render(const Note& note);

    // Brings the stored renderings of those of `notes` not in memory into the
    // cache with one query (list pages, feeds). What is not stored is left to
    // render(); so are errors (render() reads or renders each note anyway).
    void prefetch(const std::vector<Note>& notes);

    // Renders and stores the notes whose stored rendering is missing or stale
    // (written by tools, or by an older kRenderedFormat), `batch` notes per
    // transaction, oldest id first; over-budget notes are left out (shown as
    // text, not stored). Returns how many were stored; stops early once `stop`
    // is set. The server runs it once in the background at start-up.
    Result<std::size_t> store_missing(const std::atomic<bool>& stop, std::size_t batch = 50);

    // Bytes of rendered notes held now (tests, diagnostics).
    std::size_t cached_bytes() const;

    // Renders Markdown that is not (yet) a stored note. The engine's errors
    // are returned as they are (invalid_input when over budget).
    static Result<RenderedNote> render_content(std::string_view content, render::MarkdownEngine& engine,
                                               const render::RenderBudget& budget);
    // The same, in process and unbounded: previews of trusted text, tests.
    static RenderedNote render_content(std::string_view content);

private:
    using Shared = std::shared_ptr<const RenderedNote>;
    Result<Shared> render_uncached(const Note& note);   // the stored copy, else render_from_file
    Result<Shared> render_from_file(const Note& note);
    void remember(const std::string& hash, const Shared& rendered);

    const NotesService& notes_;
    render::MarkdownEngine& engine_;
    Options options_;
    mutable std::mutex mutex_;
    std::list<std::string> order_;  // most recent first (content hashes)
    struct Entry {
        Shared rendered;
        std::size_t bytes = 0;
        std::list<std::string>::iterator position;
    };
    std::unordered_map<std::string, Entry> entries_;
    std::size_t bytes_ = 0;
    std::unordered_map<std::string, std::shared_future<Result<Shared>>> in_flight_;
};

// The write gate (NotesService::Options::render): the rendering when `content`
// renders within render::budget_for(its size) through `engine`; else the
// engine's error (invalid_input from render::over_budget_error for a note that
// is too costly).
Result<RenderedNote> render_for_write(render::MarkdownEngine& engine, std::string_view content);

}  // namespace starpunk::notes
