#include "notes/note_renderer.hpp"

#include "notes/note_text.hpp"
#include "render/markdown.hpp"

namespace starpunk::notes {

RenderedNote NoteRenderer::render_content(std::string_view content) {
    RenderedNote r;
    r.title = note_title(content);
    if (auto heading = leading_heading(content)) {
        r.html = render::render_markdown(without_leading_heading(content, *heading));
        r.name = std::move(heading->title);
    } else {
        r.html = render::render_markdown(content);
    }
    r.excerpt = note_excerpt(content);
    return r;
}

Result<std::shared_ptr<const RenderedNote>> NoteRenderer::render(const Note& note) {
    {
        std::lock_guard lock(mutex_);
        auto it = entries_.find(note.content_hash);
        if (it != entries_.end()) {
            order_.splice(order_.begin(), order_, it->second.position);
            return it->second.rendered;
        }
    }
    auto content = notes_.read_content(note);
    if (!content) return std::move(content).error();
    auto rendered = std::make_shared<const RenderedNote>(render_content(*content));
    std::lock_guard lock(mutex_);
    if (entries_.contains(note.content_hash)) return entries_[note.content_hash].rendered;
    order_.push_front(note.content_hash);
    entries_[note.content_hash] = Entry{rendered, order_.begin()};
    while (entries_.size() > capacity_) {
        entries_.erase(order_.back());
        order_.pop_back();
    }
    return std::shared_ptr<const RenderedNote>(rendered);
}

}  // namespace starpunk::notes
