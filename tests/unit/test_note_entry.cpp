// A note's list entry and permalink content built without the template
// engine (web/note_entry.hpp) are byte for byte what
// templates/note_entry.mustache and templates/note.mustache render over
// note_data,
// for notes with every kind of field: with and without a title, tags,
// summary, stored photos (with and without size and variants), external
// photos, footnotes, HTML-special characters, unicode and mustache-looking
// text. The template is the source of truth; this is what ties the two.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <string>
#include <vector>

#include "support/site_harness.hpp"
#include "web/note_entry.hpp"
#include "web/note_view.hpp"

namespace starpunk {
namespace {

struct NoteEntryTest : ::testing::Test {
    testing::NotesHarness h;
    std::unique_ptr<testing::SiteServices> services;
    std::shared_ptr<web::Site> site;
    void SetUp() override {
        ASSERT_EQ(h.start(), "");
        services = std::make_unique<testing::SiteServices>(h);
        site = services->site();
    }

    // What the template renders, without its final newline (as kept).
    std::string from_template(const notes::Note& n, const std::vector<notes::Tag>& tags,
                              const std::vector<notes::NotePhoto>& photos, const notes::RenderedNote& r) {
        auto html = site->templates->render("note_entry", web::note_data(*site, n, tags, photos, r).first);
        EXPECT_TRUE(html.ok());
        if (!html) return {};
        if (!html->empty() && html->back() == '\n') html->pop_back();
        return *html;
    }

    // The permalink page both ways: the template through render_page, and the
    // built content in the same layout.
    void expect_same_page(const notes::Note& n, const std::vector<notes::Tag>& tags,
                          const std::vector<notes::NotePhoto>& photos, const notes::RenderedNote& r) {
        web::PageInfo info;
        info.title = r.title;
        auto templated = web::render_page(*site, info, "note", web::note_data(*site, n, tags, photos, r).first);
        auto built = web::render_in_layout(*site, info, web::note_article_html(*site, n, tags, photos, r));
        ASSERT_TRUE(templated.ok());
        ASSERT_TRUE(built.ok());
        ASSERT_EQ(*built, *templated) << "name=" << r.name.value_or("(none)") << " tags=" << tags.size()
                                      << " photos=" << photos.size() << " published=" << n.published;
    }
};

notes::Note note(std::string slug) {
    notes::Note n;
    n.id = 7;
    n.slug = std::move(slug);
    n.published = true;
    n.created_at = Timestamp{std::chrono::seconds{1764921600}} + std::chrono::microseconds{123456};
    n.updated_at = n.created_at + std::chrono::hours{30};
    return n;
}

notes::NotePhoto stored_photo(int width, int height, int variants, std::string alt) {
    notes::NotePhoto p;
    p.media_id = 3;
    p.url = "/media/2026/12/a&b\"photo'.jpg";
    p.alt = std::move(alt);
    p.type = "image/jpeg";
    p.width = width;
    p.height = height;
    for (int i = 1; i <= variants; ++i) p.variants.push_back({"/media/2026/12/v" + std::to_string(i) + "<.jpg", 320 * i, 200 * i});
    return p;
}

notes::NotePhoto external_photo(std::string url, std::string alt) {
    notes::NotePhoto p;
    p.url = std::move(url);
    p.alt = std::move(alt);
    return p;
}

// Every combination of these fields, as a note and its rendering (the title
// is the name, or `untitled` without one), published and draft; `check` is
// called for each and returns false to stop. Returns how many were checked.
struct Variants {
    std::vector<std::string> htmls;
    std::vector<std::optional<std::string>> names;
    std::vector<std::vector<notes::Tag>> tag_sets;
    std::vector<std::vector<notes::NotePhoto>> photo_sets;
    std::vector<std::optional<std::string>> summaries;
    std::string untitled = "untitled";
};
template <class Check>
int for_each_note(const Variants& v, Check&& check) {
    int checked = 0;
    for (const auto& html : v.htmls) {
        for (const auto& name : v.names) {
            for (const auto& tags : v.tag_sets) {
                for (const auto& photos : v.photo_sets) {
                    for (const auto& summary : v.summaries) {
                        for (bool published : {true, false}) {
                            notes::Note n = note("slug-<&>\"'-é");
                            n.summary = summary;
                            n.published = published;
                            notes::RenderedNote r;
                            r.html = html;
                            r.name = name;
                            r.title = name.value_or(v.untitled);
                            if (!check(n, tags, photos, r)) return checked;
                            ++checked;
                        }
                    }
                }
            }
        }
    }
    return checked;
}

TEST_F(NoteEntryTest, EqualsTheTemplateForEveryKindOfNote) {
    Variants v;
    v.htmls = {
        "<p>Plain.</p>",
        "",
        "<p>Multi\nline</p>\n<pre><code>  {{not a tag}} &amp; &lt;x&gt;\n</code></pre>\n",
        "<p>Note<sup><a href=\"#fn-1\" id=\"fnref-1\">1</a></sup></p><section><ol><li id=\"fn-1\">x <a "
        "href=\"#fnref-1\">↩</a></li></ol></section>",
        "   \n  ",
    };
    v.names = {std::nullopt, "A title", "", "Tom's <b>\"5 > 3\"</b> & ☃ {{x}}", "   "};
    v.tag_sets = {
        {},
        {{"indieweb", "IndieWeb"}},
        {{"caf\xc3\xa9", "Café & \"bar\""}, {"a b/c?d", "<a b/c?d>"}, {"x'y", "x'y"}},
    };
    v.photo_sets = {
        {},
        {stored_photo(1600, 900, 2, "A <cat> & \"dog\" 'here' ☃")},
        {stored_photo(0, 0, 0, ""), stored_photo(800, 0, 1, "no height"),
         external_photo("https://img.example/p?a=1&b=\"2\"", "ext'ernal")},
    };
    v.summaries = {std::nullopt, "A summary with <b>tags</b> & 'quotes'"};
    const int compared = for_each_note(v, [&](const notes::Note& n, const auto& tags, const auto& photos,
                                              const notes::RenderedNote& r) {
        EXPECT_EQ(web::note_entry_html(*site, n, tags, photos, r), from_template(n, tags, photos, r))
            << "html=" << r.html << " name=" << r.name.value_or("(none)") << " tags=" << tags.size()
            << " photos=" << photos.size();
        return !HasFailure();
    });
    EXPECT_EQ(compared, 5 * 5 * 3 * 3 * 2 * 2);
}

TEST_F(NoteEntryTest, PermalinkContentEqualsTheTemplateForEveryKindOfNote) {
    Variants v;
    v.htmls = {"<p>Plain.</p>", "", "<p>Note<sup><a href=\"#fn-1\" id=\"fnref-1\">1</a></sup></p>\n"};
    v.names = {std::nullopt, "A title", "", "Tom's <b>\"5 > 3\"</b> & ☃ {{x}}"};
    v.tag_sets = {{}, {{"caf\xc3\xa9", "Café & \"bar\""}, {"a b/c?d", "<a b/c?d>"}}};
    v.photo_sets = {
        {}, {stored_photo(1600, 900, 2, "A <cat>"), external_photo("https://img.example/p?a=1&b=\"2\"", "ext'ernal")}};
    v.summaries = {std::nullopt, "", "A summary with <b>tags</b> & 'quotes'"};
    v.untitled = "untitled <&>";
    // The author's h-card: SITE_AUTHOR or the site's name, ADMIN_ME or the
    // site, an optional photo — each way round.
    struct Author {
        std::string name, url, photo;
    };
    const std::vector<Author> authors = {{"", "", ""}, {"Ann <O'Neil> & co", "https://ann.example/?a=1&b=2", "/me\".jpg"}};
    int compared = 0;
    for (const auto& author : authors) {
        site->config.site_author = author.name;
        site->config.admin_me = author.url;
        site->config.site_author_photo = author.photo;
        compared += for_each_note(v, [&](const notes::Note& n, const auto& tags, const auto& photos,
                                         const notes::RenderedNote& r) {
            expect_same_page(n, tags, photos, r);
            return !HasFailure();
        });
    }
    EXPECT_EQ(compared, 2 * 3 * 4 * 2 * 2 * 3 * 2);
}

TEST_F(NoteEntryTest, EqualsTheTemplateForAnyText) {
    // Text from an alphabet of what escaping and line handling care about.
    const auto text = rc::gen::container<std::string>(
        rc::gen::element<char>('a', ' ', '\n', '\t', '&', '<', '>', '"', '\'', '{', '}', '#', '/', '\xc3', '\xa9'));
    const bool ok = rc::check("note_entry_html equals the template", [&] {
        notes::Note n = note(*rc::gen::nonEmpty(text));
        notes::RenderedNote r;
        r.html = *text;
        if (*rc::gen::arbitrary<bool>()) r.name = *text;
        std::vector<notes::Tag> tags;
        const int tag_count = *rc::gen::inRange(0, 3);
        for (int i = 0; i < tag_count; ++i) tags.push_back({*text, *text});
        std::vector<notes::NotePhoto> photos;
        const int photo_count = *rc::gen::inRange(0, 3);
        for (int i = 0; i < photo_count; ++i) {
            photos.push_back(*rc::gen::arbitrary<bool>()
                                 ? stored_photo(*rc::gen::inRange(0, 3000), *rc::gen::inRange(0, 3000),
                                                *rc::gen::inRange(0, 3), *text)
                                 : external_photo("https://x.example/" + *text, *text));
        }
        RC_ASSERT(web::note_entry_html(*site, n, tags, photos, r) == from_template(n, tags, photos, r));
        if (*rc::gen::arbitrary<bool>()) n.summary = *text;
        n.published = *rc::gen::arbitrary<bool>();
        web::PageInfo info;
        info.title = *text;
        auto templated = web::render_page(*site, info, "note", web::note_data(*site, n, tags, photos, r).first);
        auto built = web::render_in_layout(*site, info, web::note_article_html(*site, n, tags, photos, r));
        RC_ASSERT(templated.ok() && built.ok());
        RC_ASSERT(*built == *templated);
    });
    EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace starpunk
