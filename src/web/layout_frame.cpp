#include "web/layout_frame.hpp"

namespace starpunk::web {

std::string assemble(const LayoutFrame& frame, std::string_view escaped_title, std::string_view content) {
    std::size_t size = 0;
    for (const auto& l : frame.literals) size += l.size();
    for (auto slot : frame.slots) size += slot == LayoutFrame::Slot::title ? escaped_title.size() : content.size();
    std::string out;
    out.reserve(size);
    for (std::size_t i = 0; i < frame.slots.size(); ++i) {
        out.append(frame.literals[i]);
        out.append(frame.slots[i] == LayoutFrame::Slot::title ? escaped_title : content);
    }
    out.append(frame.literals.back());
    return out;
}

}  // namespace starpunk::web
