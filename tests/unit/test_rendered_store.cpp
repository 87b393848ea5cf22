// Renderings stored with the notes (notes/rendered_store.hpp): a note is
// rendered by its write or its first read, and never again for the same
// content — not after a restart, not after the memory cache let it go — while
// a changed note, a purged note or a rendering of another format is never
// shown from the store.
#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "notes/note_renderer.hpp"
#include "notes/rendered_store.hpp"
#include "render/engine.hpp"
#include "render/markdown.hpp"
#include "support/notes_harness.hpp"

namespace starpunk {
namespace {

// Renders in process and counts how often it was asked.
struct CountingEngine : render::MarkdownEngine {
    std::atomic<int> calls{0};
    bool over_budget = false;
    Result<std::string> to_html(std::string_view markdown, const render::RenderBudget&) override {
        ++calls;
        if (over_budget) return render::over_budget_error("it needed more CPU time than allowed");
        return render::render_markdown(markdown);
    }
};

struct RenderedStoreTest : ::testing::Test {
    CountingEngine engine;
    testing::NotesHarness h{testing::NotesHarness::Options{
        .render = [this](std::string_view c) { return notes::render_for_write(engine, c); }}};
    void SetUp() override { ASSERT_EQ(h.start(), ""); }

    notes::Note create(const std::string& content) {
        notes::NewNote n;
        n.content = content;
        auto r = h.svc().create(n);
        EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
        return r.ok() ? r.value() : notes::Note{};
    }
    notes::Note reload(const notes::Note& n) { return h.svc().get_by_id(n.id).value(); }
    // A renderer with an empty memory cache, as after a restart.
    std::string html_after_restart(const notes::Note& n) {
        notes::NoteRenderer fresh(h.svc(), engine);
        auto r = fresh.render(reload(n));
        EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
        return r.ok() ? r.value()->html : std::string();
    }
};

TEST_F(RenderedStoreTest, AWrittenNoteIsNeverRenderedAgainToBeRead) {
    auto note = create("# Title\n\nSome *emphasis*.");
    EXPECT_EQ(engine.calls, 1);  // the write gate
    EXPECT_EQ(html_after_restart(note), "<p>Some <em>emphasis</em>.</p>\n");
    notes::NoteRenderer fresh(h.svc(), engine);
    auto r = fresh.render(reload(note));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value()->name.value_or(""), "Title");
    EXPECT_EQ(r.value()->title, "Title");
    EXPECT_EQ(r.value()->excerpt, "Title Some emphasis.");
    EXPECT_EQ(engine.calls, 1);  // both reads came from the store
}

TEST_F(RenderedStoreTest, AnEditReplacesTheStoredRendering) {
    auto note = create("first *version*");
    notes::NoteChange change;
    change.content = "second **version**";
    ASSERT_TRUE(h.svc().update(note.id, change).ok());
    EXPECT_EQ(engine.calls, 2);
    EXPECT_EQ(html_after_restart(note), "<p>second <strong>version</strong></p>\n");
    EXPECT_EQ(engine.calls, 2);
    EXPECT_EQ(h.sql_text("SELECT count(*) FROM note_html"), "1");
}

TEST_F(RenderedStoreTest, NotesWrittenWithoutARendererAreStoredByTheStartUpPass) {
    testing::NotesHarness tool;  // like `starpunk import`: no render gate
    ASSERT_EQ(tool.start(), "");
    std::vector<notes::Note> made;
    for (int i = 0; i < 7; ++i) {
        notes::NewNote n;
        n.content = "imported *text* " + std::to_string(i);
        auto note = tool.svc().create(n);
        ASSERT_TRUE(note.ok());
        made.push_back(*note);
    }
    EXPECT_EQ(tool.sql_text("SELECT count(*) FROM note_html"), "0");
    CountingEngine counting;
    {
        notes::NoteRenderer reader(tool.svc(), counting);
        ASSERT_TRUE(reader.render(made[0]).ok());  // a read renders in memory...
    }
    EXPECT_EQ(tool.sql_text("SELECT count(*) FROM note_html"), "0");  // ...and never writes
    std::atomic<bool> stop{false};
    notes::NoteRenderer renderer(tool.svc(), counting);
    auto stored = renderer.store_missing(stop, 3);  // batches of 3: 3 + 3 + 1
    ASSERT_TRUE(stored.ok()) << stored.error().message;
    EXPECT_EQ(*stored, 7u);
    EXPECT_EQ(tool.sql_text("SELECT count(*) FROM note_html"), "7");
    const int after_pass = counting.calls;
    for (const auto& n : made) {
        notes::NoteRenderer fresh(tool.svc(), counting);
        auto r = fresh.render(n);
        ASSERT_TRUE(r.ok());
        EXPECT_NE(r.value()->html.find("<em>text</em>"), std::string::npos);
    }
    EXPECT_EQ(counting.calls, after_pass);  // all from the store
    auto again = renderer.store_missing(stop);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, 0u);  // nothing left to do
}

TEST_F(RenderedStoreTest, ARenderingOfAnotherFormatOrContentIsNotShown) {
    auto note = create("current");
    // A row left by another format of the renderer: rendered again, and
    // replaced by the start-up pass.
    ASSERT_EQ(h.sql("UPDATE note_html SET format = format - 1, html = '<p>old format</p>'"), "");
    EXPECT_EQ(html_after_restart(note), "<p>current</p>\n");
    EXPECT_EQ(engine.calls, 2);
    std::atomic<bool> stop{false};
    notes::NoteRenderer renderer(h.svc(), engine);
    ASSERT_EQ(renderer.store_missing(stop).value(), 1u);
    EXPECT_EQ(engine.calls, 3);
    EXPECT_EQ(html_after_restart(note), "<p>current</p>\n");
    EXPECT_EQ(engine.calls, 3);
    // A row whose content hash is not the note's: never shown.
    ASSERT_EQ(h.sql("UPDATE note_html SET content_hash = 'x', html = '<p>stale</p>'"), "");
    EXPECT_EQ(html_after_restart(note), "<p>current</p>\n");
}

TEST_F(RenderedStoreTest, PutStoresNothingForAVersionTheNoteNoLongerHas) {
    auto note = create("version one");
    notes::NoteChange change;
    change.content = "version two";
    ASSERT_TRUE(h.svc().update(note.id, change).ok());
    notes::RenderedNote old;
    old.html = "<p>version one</p>\n";
    old.title = old.excerpt = "version one";
    ASSERT_TRUE(h.svc().rendered().put_many({{note, old}}).ok());  // `note` still has the old hash
    EXPECT_EQ(html_after_restart(note), "<p>version two</p>\n");
}

TEST_F(RenderedStoreTest, FindManyReturnsOnlyCurrentRenderings) {
    auto a = create("note a");
    auto b = create("note b");
    auto c = create("note c");
    ASSERT_EQ(h.sql("UPDATE note_html SET content_hash = 'x' WHERE note_id = " + std::to_string(b.id)), "");
    auto found = h.svc().rendered().find_many({reload(a), reload(b), reload(c)});
    ASSERT_TRUE(found.ok());
    EXPECT_EQ(found->size(), 2u);
    EXPECT_EQ(found->at(a.id).html, "<p>note a</p>\n");
    EXPECT_EQ(found->at(c.id).html, "<p>note c</p>\n");
    EXPECT_FALSE(found->contains(b.id));
}

// List pages read their missing notes with for_list: in the order asked,
// gone notes left out, each with its tags in order, its rendering only when
// current, and whether it has photos.
TEST_F(RenderedStoreTest, ForListReadsNotesTagsAndCurrentRenderingsInTheOrderAsked) {
    notes::NewNote tagged;
    tagged.content = "# Tagged\n\nbody";
    tagged.tags = {"Zeta", "alpha"};
    auto a = h.svc().create(tagged).value();
    auto b = create("note b");
    notes::NewNote with_photo;
    with_photo.content = "note c";
    with_photo.photos = {notes::NewPhoto{.url = "https://img.example/c.jpg", .alt = "c"}};
    auto c = h.svc().create(with_photo);
    ASSERT_TRUE(c.ok()) << c.error().message;
    ASSERT_EQ(h.sql("UPDATE note_html SET content_hash = 'x' WHERE note_id = " + std::to_string(b.id)), "");
    auto found = h.svc().rendered().for_list({c->id, 999999, b.id, a.id}, /*wait=*/false);
    ASSERT_TRUE(found.ok()) << found.error().message;
    ASSERT_EQ(found->size(), 3u);
    EXPECT_EQ((*found)[0].note.id, c->id);
    EXPECT_TRUE((*found)[0].has_photos);
    EXPECT_EQ((*found)[1].note.id, b.id);
    EXPECT_FALSE((*found)[1].rendering.has_value());  // stale: not shown
    EXPECT_FALSE((*found)[1].has_photos);
    EXPECT_EQ((*found)[2].note.id, a.id);
    ASSERT_TRUE((*found)[2].rendering.has_value());
    EXPECT_EQ((*found)[2].rendering->name.value_or(""), "Tagged");
    ASSERT_EQ((*found)[2].tags.size(), 2u);
    EXPECT_EQ((*found)[2].tags[0].display, "Zeta");
    EXPECT_EQ((*found)[2].tags[1].display, "alpha");
    auto none = h.svc().rendered().for_list({});
    ASSERT_TRUE(none.ok());
    EXPECT_TRUE(none->empty());
}

TEST_F(RenderedStoreTest, PurgingANoteRemovesItsRendering) {
    auto note = create("to be purged");
    ASSERT_TRUE(h.svc().soft_delete(note.id).ok());
    ASSERT_TRUE(h.svc().purge(note.id).ok());
    EXPECT_EQ(h.sql_text("SELECT count(*) FROM note_html"), "0");
}

TEST_F(RenderedStoreTest, ADegradedRenderingIsNotStored) {
    testing::NotesHarness tool;
    ASSERT_EQ(tool.start(), "");
    notes::NewNote n;
    n.content = "too costly, say";
    auto note = tool.svc().create(n);
    ASSERT_TRUE(note.ok());
    CountingEngine refusing;
    refusing.over_budget = true;
    notes::NoteRenderer renderer(tool.svc(), refusing);
    auto r = renderer.render(*note);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r.value()->degraded);
    std::atomic<bool> stop{false};
    auto stored = renderer.store_missing(stop);
    ASSERT_TRUE(stored.ok());
    EXPECT_EQ(*stored, 0u);
    EXPECT_EQ(tool.sql_text("SELECT count(*) FROM note_html"), "0");  // a later start tries once more
}

}  // namespace
}  // namespace starpunk
