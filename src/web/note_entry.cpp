#include "web/note_entry.hpp"

#include "util/clock.hpp"
#include "web/note_view.hpp"

namespace starpunk::web {

namespace {

// kainjow's html_escape: {{x}} in the templates.
void append_escaped(std::string& out, std::string_view s) {
    for (char c : s) {
        switch (c) {
            case '&': out.append("&amp;"); break;
            case '<': out.append("&lt;"); break;
            case '>': out.append("&gt;"); break;
            case '"': out.append("&quot;"); break;
            case '\'': out.append("&apos;"); break;
            default: out.push_back(c);
        }
    }
}

}  // namespace

// Line for line templates/note_entry.mustache; the comment before each part
// is the template's line it stands for.
std::string note_entry_html(const Site& site, const notes::Note& note, const std::vector<notes::Tag>& tags,
                            const std::vector<notes::NotePhoto>& photos, const notes::RenderedNote& rendered) {
    const std::string url = note_url(site, note);
    std::string out;
    out.reserve(rendered.html.size() + 512 + 160 * tags.size() + 400 * photos.size());
    out.append("  <article class=\"h-entry note\">\n");
    // {{#name}}<h2 class="p-name"><a href="{{url}}">{{name}}</a></h2>{{/name}}
    out.append("    ");
    if (rendered.name) {
        out.append("<h2 class=\"p-name\"><a href=\"");
        append_escaped(out, url);
        out.append("\">");
        append_escaped(out, *rendered.name);
        out.append("</a></h2>");
    }
    out.push_back('\n');
    // <div class="e-content">{{{html}}}</div>
    out.append("    <div class=\"e-content\">");
    append_scoped_footnotes(out, rendered.html, note.slug);
    out.append("</div>\n");
    // {{#has_photos}}<div class="photos">{{#photos}}<img …>{{/photos}}</div>{{/has_photos}}
    out.append("    ");
    if (!photos.empty()) {
        out.append("<div class=\"photos\">");
        for (const auto& p : photos) {
            out.append("<img class=\"u-photo\" src=\"");
            append_escaped(out, p.stored() ? site.url(p.url) : p.url);
            out.append("\" alt=\"");
            append_escaped(out, p.alt);
            out.append("\"");
            if (p.stored() && p.width > 0 && p.height > 0) {
                out.append(" width=\"").append(std::to_string(p.width));
                out.append("\" height=\"").append(std::to_string(p.height)).append("\"");
            }
            if (p.stored() && !p.variants.empty()) {
                out.append(" srcset=\"");
                append_escaped(out, photo_srcset(site, p));
                out.append("\" sizes=\"");
                append_escaped(out, kPhotoSizes);
                out.append("\"");
            }
            out.append(" loading=\"lazy\">");
        }
        out.append("</div>");
    }
    out.push_back('\n');
    // {{#has_tags}}<ul class="tags">{{#tags}}<li><a … href="{{tag_url}}">{{tag}}</a></li>{{/tags}}</ul>{{/has_tags}}
    out.append("    ");
    if (!tags.empty()) {
        out.append("<ul class=\"tags\">");
        for (const auto& t : tags) {
            out.append("<li><a class=\"p-category\" rel=\"tag\" href=\"");
            append_escaped(out, tag_url(site, t));
            out.append("\">");
            append_escaped(out, t.display);
            out.append("</a></li>");
        }
        out.append("</ul>");
    }
    out.push_back('\n');
    out.append("    <footer class=\"note-meta\">\n      <a class=\"u-url u-uid\" href=\"");
    append_escaped(out, url);
    out.append("\"><time class=\"dt-published\" datetime=\"");
    append_escaped(out, format_rfc3339(note.created_at));
    out.append("\">");
    append_escaped(out, human_date(note.created_at));
    out.append("</time></a>\n    </footer>\n  </article>");
    return out;
}

}  // namespace starpunk::web
