// How a note appears in templates (home list, permalink): one place that maps a
// Note and its rendering to template fields, so every page marks notes up alike.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "notes/notes_service.hpp"
#include "web/site.hpp"

namespace starpunk::web {

// Fields: url, html, name (only with a real title), summary (when set), draft, published_iso,
// published_human, updated_iso, updated_human, tags [{tag_url, tag}] and
// has_tags. Second: the page title text.
Result<std::pair<TemplateData, std::string>> note_data(const Site& site, const notes::Note& note,
                                                       const std::vector<notes::Tag>& tags);
// The same with the note's rendering already at hand.
std::pair<TemplateData, std::string> note_data(const Site& site, const notes::Note& note,
                                               const std::vector<notes::Tag>& tags, const notes::RenderedNote& r);

// A list of note_data objects (their tags read in one query).
Result<TemplateData> note_list_data(const Site& site, const std::vector<notes::Note>& notes);

// The note's canonical absolute URL: SITE_URL/note/<slug>.
std::string note_url(const Site& site, const notes::Note& note);

// A tag's page: SITE_URL/tag/<name, percent-encoded>.
std::string tag_url(const Site& site, const notes::Tag& tag);

}  // namespace starpunk::web
