#include "notes/note_renderer.hpp"

#include "notes/note_text.hpp"
#include "render/markdown.hpp"

namespace starpunk::notes {

std::string_view without_leading_heading(std::string_view content) {
    size_t pos = 0;
    while (pos < content.size()) {  // skip blank lines
        size_t eol = content.find('\n', pos);
        std::string_view line = content.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
        if (line.find_first_not_of(" \t\r") != std::string_view::npos) break;
        pos = eol == std::string_view::npos ? content.size() : eol + 1;
    }
    auto next_line = [&](size_t from) {
        size_t eol = content.find('\n', from);
        return eol == std::string_view::npos ? content.size() : eol + 1;
    };
    size_t after = next_line(pos);
    std::string_view first = content.substr(pos, after - pos);
    if (first.find_first_not_of(' ') != std::string_view::npos && first[first.find_first_not_of(' ')] == '#') {
        return content.substr(after);
    }
    size_t after2 = next_line(after);
    std::string_view underline = content.substr(after, after2 - after);
    auto body = underline.find_first_not_of(" \t\r\n");
    if (body != std::string_view::npos && (underline[body] == '=' || underline[body] == '-')) {
        return content.substr(after2);
    }
    return content;
}

RenderedNote NoteRenderer::render_content(std::string_view content) {
    RenderedNote r;
    r.title = note_title(content);
    r.name = explicit_title(content);
    r.html = render::render_markdown(r.name ? without_leading_heading(content) : content);
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
