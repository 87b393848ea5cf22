#include "notes/note_renderer.hpp"

#include <spdlog/spdlog.h>

#include "notes/note_text.hpp"
#include "notes/rendered_store.hpp"
#include "render/markdown.hpp"

namespace starpunk::notes {
namespace {

// The body under a leading heading is what becomes e-content.
struct Split {
    std::string_view body;
    std::optional<std::string> name;
    std::string body_storage;
};

Split split(std::string_view content) {
    Split s;
    if (auto heading = leading_heading(content)) {
        s.body_storage = without_leading_heading(content, *heading);
        s.body = s.body_storage;
        s.name = std::move(heading->title);
    } else {
        s.body = content;
    }
    return s;
}

RenderedNote with_text(std::string_view content, Split&& parts, std::string html) {
    RenderedNote r;
    r.html = std::move(html);
    r.name = std::move(parts.name);
    r.title = note_title(content);
    r.excerpt = note_excerpt(content);
    return r;
}

std::size_t cost(const RenderedNote& r) {
    return sizeof(RenderedNote) + r.html.size() + r.title.size() + r.excerpt.size() + (r.name ? r.name->size() : 0) +
           128;  // the hash key, list and map nodes
}

}  // namespace

RenderedNote NoteRenderer::render_content(std::string_view content) {
    Split parts = split(content);
    std::string html = render::render_markdown(parts.body);
    return with_text(content, std::move(parts), std::move(html));
}

Result<RenderedNote> NoteRenderer::render_content(std::string_view content, render::MarkdownEngine& engine,
                                                  const render::RenderBudget& budget) {
    Split parts = split(content);
    auto html = engine.to_html(parts.body, budget);
    if (!html) return std::move(html).error();
    return with_text(content, std::move(parts), std::move(html.value()));
}

Result<RenderedNote> render_for_write(render::MarkdownEngine& engine, std::string_view content) {
    return NoteRenderer::render_content(content, engine, render::budget_for(content.size()));
}

NoteRenderer::NoteRenderer(const NotesService& notes, render::MarkdownEngine& engine, Options options)
    : notes_(notes), engine_(engine), options_(options) {}

std::size_t NoteRenderer::cached_bytes() const {
    std::lock_guard lock(mutex_);
    return bytes_;
}

void NoteRenderer::remember(const std::string& hash, const Shared& rendered) {
    std::size_t bytes = cost(*rendered);
    if (bytes > options_.cache_bytes) return;  // would evict everything else
    if (entries_.contains(hash)) return;
    order_.push_front(hash);
    entries_[hash] = Entry{rendered, bytes, order_.begin()};
    bytes_ += bytes;
    while (bytes_ > options_.cache_bytes) {
        auto last = entries_.find(order_.back());
        bytes_ -= last->second.bytes;
        entries_.erase(last);
        order_.pop_back();
    }
}

Result<NoteRenderer::Shared> NoteRenderer::render_uncached(const Note& note) {
    if (auto stored = notes_.rendered().find(note); stored && *stored) {
        return Shared(std::make_shared<const RenderedNote>(std::move(**stored)));
    } else if (!stored) {
        spdlog::warn("note {}: stored rendering unreadable, rendering again ({})", note.slug, stored.error().message);
    }
    return render_from_file(note);
}

Result<std::size_t> NoteRenderer::store_missing(const std::atomic<bool>& stop, std::size_t batch) {
    std::size_t stored = 0;
    int64_t after = 0;
    while (!stop.load()) {
        auto notes = notes_.rendered().stale(after, batch);
        if (!notes) return std::move(notes).error();
        if (notes->empty()) break;
        std::vector<std::pair<Note, RenderedNote>> renderings;
        for (auto& note : *notes) {
            if (stop.load()) break;
            after = note.id;
            auto rendered = render_from_file(note);
            if (!rendered) {
                spdlog::warn("note {}: not rendered ahead ({})", note.slug, rendered.error().message);
                continue;
            }
            if ((*rendered)->degraded) continue;
            renderings.emplace_back(std::move(note), **rendered);
        }
        if (auto st = notes_.rendered().put_many(renderings); !st) return std::move(st).error();
        stored += renderings.size();  // degraded ones were never added
    }
    return stored;
}

Result<NoteRenderer::Shared> NoteRenderer::render_from_file(const Note& note) {
    auto content = notes_.read_content(note);
    if (!content) return std::move(content).error();
    auto rendered = render_content(*content, engine_, render::budget_for(content->size(), options_.cpu_scale));
    if (rendered) return Shared(std::make_shared<const RenderedNote>(std::move(rendered.value())));
    if (rendered.error().code != ErrorCode::invalid_input) return std::move(rendered).error();
    spdlog::warn("note {} cannot be rendered within the limits; it is shown as plain text until edited ({})",
                 note.slug, rendered.error().message);
    Split parts = split(*content);
    RenderedNote text = with_text(*content, std::move(parts), render::escaped_text_html(*content));
    text.name.reset();  // the heading stays in the text shown
    text.degraded = true;
    return Shared(std::make_shared<const RenderedNote>(std::move(text)));
}

void NoteRenderer::prefetch(const std::vector<Note>& notes) {
    std::vector<Note> missing;
    {
        std::lock_guard lock(mutex_);
        for (const auto& n : notes) {
            if (!entries_.contains(n.content_hash) && !in_flight_.contains(n.content_hash)) missing.push_back(n);
        }
    }
    if (missing.empty()) return;
    auto stored = notes_.rendered().find_many(missing);
    if (!stored) return;
    std::lock_guard lock(mutex_);
    for (const auto& n : missing) {
        if (auto it = stored->find(n.id); it != stored->end()) {
            remember(n.content_hash, std::make_shared<const RenderedNote>(std::move(it->second)));
        }
    }
}

Result<NoteRenderer::Shared> NoteRenderer::render(const Note& note) {
    std::shared_future<Result<Shared>> flight;
    std::promise<Result<Shared>> mine;
    {
        std::lock_guard lock(mutex_);
        if (auto it = entries_.find(note.content_hash); it != entries_.end()) {
            order_.splice(order_.begin(), order_, it->second.position);
            return it->second.rendered;
        }
        if (auto it = in_flight_.find(note.content_hash); it != in_flight_.end()) {
            flight = it->second;
        } else {
            in_flight_.emplace(note.content_hash, mine.get_future().share());
        }
    }
    if (flight.valid()) return flight.get();  // someone else renders this content

    auto result = render_uncached(note);
    {
        std::lock_guard lock(mutex_);
        if (result) remember(note.content_hash, result.value());
        in_flight_.erase(note.content_hash);
    }
    mine.set_value(result);
    return result;
}

}  // namespace starpunk::notes
