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

// `open`, `text` escaped, `close`: a template's <tag>{{x}}</tag>.
void append_wrapped(std::string& out, std::string_view open, std::string_view text, std::string_view close) {
    out.append(open);
    append_escaped(out, text);
    out.append(close);
}

// <time class="`cls`" datetime="{{x_iso}}">{{x_human}}</time>
void append_time(std::string& out, std::string_view cls, Timestamp t, std::string_view human) {
    out.append("<time class=\"").append(cls).append("\" datetime=\"");
    append_escaped(out, format_rfc3339(t));
    append_wrapped(out, "\">", human, "</time>");
}

// {{#has_photos}}<div class="photos">{{#photos}}<img …>{{/photos}}</div>{{/has_photos}}
// without the line's indentation and newline.
void append_photos(std::string& out, const Site& site, const std::vector<notes::NotePhoto>& photos) {
    if (photos.empty()) return;
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

// {{#has_tags}}<ul class="tags">{{#tags}}<li><a … href="{{tag_url}}">{{tag}}</a></li>{{/tags}}</ul>{{/has_tags}}
// without the line's indentation and newline.
void append_tags(std::string& out, const Site& site, const std::vector<notes::Tag>& tags) {
    if (tags.empty()) return;
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
    out.append("    ");
    append_photos(out, site, photos);
    out.push_back('\n');
    out.append("    ");
    append_tags(out, site, tags);
    out.push_back('\n');
    out.append("    <footer class=\"note-meta\">\n      <a class=\"u-url u-uid\" href=\"");
    append_escaped(out, url);
    out.append("\">");
    append_time(out, "dt-published", note.created_at, human_date(note.created_at));
    out.append("</a>\n    </footer>\n  </article>");
    return out;
}

// Line for line templates/note.mustache, the same way.
std::string note_article_html(const Site& site, const notes::Note& note, const std::vector<notes::Tag>& tags,
                              const std::vector<notes::NotePhoto>& photos, const notes::RenderedNote& rendered) {
    const std::string url = note_url(site, note);
    const std::string published_human = human_date(note.created_at);
    const Author author = site_author(site.config);
    std::string out;
    out.reserve(rendered.html.size() + 1024 + 160 * tags.size() + 400 * photos.size());
    // {{^name}}<h1 class="visually-hidden">Note from {{published_human}}</h1>{{/name}}
    if (!rendered.name) append_wrapped(out, "<h1 class=\"visually-hidden\">Note from ", published_human, "</h1>");
    out.append("\n<article class=\"h-entry note note-page\">\n");
    // {{#name}}<h1 class="p-name">{{name}}</h1>{{/name}}
    out.append("  ");
    if (rendered.name) append_wrapped(out, "<h1 class=\"p-name\">", *rendered.name, "</h1>");
    out.push_back('\n');
    // {{#summary}}<p class="p-summary summary">{{summary}}</p>{{/summary}}
    out.append("  ");
    if (note.summary) append_wrapped(out, "<p class=\"p-summary summary\">", *note.summary, "</p>");
    out.push_back('\n');
    // {{#draft}}<p class="draft-badge">Draft — only you can see this note.</p>{{/draft}}
    out.append("  ");
    if (!note.published) out.append("<p class=\"draft-badge\">Draft — only you can see this note.</p>");
    out.push_back('\n');
    // <div class="e-content">{{{html}}}</div>
    out.append("  <div class=\"e-content\">");
    append_scoped_footnotes(out, rendered.html, note.slug);
    out.append("</div>\n  ");
    append_photos(out, site, photos);
    out.append("\n  ");
    append_tags(out, site, tags);
    out.append("\n  <footer class=\"note-meta\">\n    <a class=\"u-url u-uid\" href=\"");
    append_escaped(out, url);
    out.append("\">Published</a>\n    ");
    append_time(out, "dt-published", note.created_at, published_human);
    out.append("\n    <span class=\"updated\">(updated ");
    append_time(out, "dt-updated", note.updated_at, human_date(note.updated_at));
    out.append(")</span>\n    <span class=\"p-author h-card\">by ");
    // {{#author_photo}}<img class="u-photo" src="{{author_photo}}" alt="" width="24" height="24"> {{/author_photo}}
    if (!author.photo.empty()) {
        out.append("<img class=\"u-photo\" src=\"");
        append_escaped(out, author.photo);
        out.append("\" alt=\"\" width=\"24\" height=\"24\"> ");
    }
    out.append("<a class=\"p-name u-url\" href=\"");
    append_escaped(out, author.url);
    out.append("\">");
    append_escaped(out, author.name);
    out.append("</a></span>\n  </footer>\n</article>\n");
    return out;
}

std::string sample_note_article(const Site& site) {
    notes::Note note;
    note.slug = "a-sample-note";
    note.published = true;
    note.created_at = Timestamp{} + std::chrono::seconds(1767225600);  // 2026-01-01
    note.updated_at = note.created_at;
    notes::RenderedNote rendered;
    rendered.name = "A sample note";
    rendered.title = *rendered.name;
    rendered.html =
        "<p>This is the text of a note, with <em>some</em> words that the notes of this site have and a "
        "<a href=\"https://example.com/\">link</a> for the reader to follow.</p>\n<p>And then there was "
        "another paragraph, which is where the notes go on.</p>\n";
    const std::vector<notes::Tag> tags{{"notes", "Notes"}, {"indieweb", "IndieWeb"}};
    return note_article_html(site, note, tags, {}, rendered);
}

}  // namespace starpunk::web
