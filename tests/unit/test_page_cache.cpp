// The page cache's byte budget and its CLOCK eviction (web/page_cache.hpp):
// memory stays under PAGE_CACHE_SIZE whatever is crawled, and pages asked for
// again survive a crawl of one-off pages.
#include <gtest/gtest.h>
#include <malloc.h>

#include <string>

#include "notes/changes.hpp"
#include "web/page_cache.hpp"

namespace starpunk::web {
namespace {

std::shared_ptr<const CachedPage> page_of(std::size_t body_bytes, char fill = 'x') {
    return make_cached_page(200, std::string(body_bytes, fill), 0);
}

std::string key(int i) { return "note:n" + std::to_string(i); }

TEST(PageCacheBudget, NeverHoldsMoreThanItsBudget) {
    notes::NoteChanges changes;
    constexpr std::size_t kBudget = 200 * 1024;
    PageCache pages(changes, kBudget);
    for (int i = 0; i < 2000; ++i) {
        pages.store(key(i), page_of(1000 + static_cast<std::size_t>(i % 7) * 1500), pages.generation());
        ASSERT_LE(pages.bytes(), kBudget) << "after " << i;
    }
    // Full, not empty: eviction drops what it must, not everything.
    EXPECT_GT(pages.bytes(), kBudget * 3 / 4);
    EXPECT_GT(pages.size(), 20u);
    // The newest page is there.
    EXPECT_NE(pages.find(key(1999)), nullptr);
}

TEST(PageCacheBudget, PagesAskedForAgainSurviveACrawl) {
    notes::NoteChanges changes;
    PageCache pages(changes, 100 * 1024);
    pages.store("home", page_of(8000, 'h'), pages.generation());
    for (int i = 0; i < 500; ++i) {
        ASSERT_NE(pages.find("home"), nullptr) << "home evicted after " << i << " one-off pages";
        pages.store(key(i), page_of(8000), pages.generation());
    }
    // A page nobody asked for again went long ago.
    EXPECT_EQ(pages.find(key(0)), nullptr);
}

TEST(PageCacheBudget, ZeroKeepsNothingAndPagesOverAQuarterAreNotKept) {
    notes::NoteChanges changes;
    PageCache off(changes, 0);
    off.store("home", page_of(10), off.generation());
    EXPECT_EQ(off.find("home"), nullptr);

    PageCache pages(changes, 40 * 1024);
    pages.store("big", page_of(11 * 1024), pages.generation());
    EXPECT_EQ(pages.find("big"), nullptr);
    pages.store("small", page_of(9 * 1024), pages.generation());
    EXPECT_NE(pages.find("small"), nullptr);
}

TEST(PageCacheBudget, ReplacingAPageKeepsTheCountRightAndAWriteEmptiesIt) {
    notes::NoteChanges changes;
    PageCache pages(changes, 64 * 1024);
    pages.store("home", page_of(1000), pages.generation());
    pages.store("home", page_of(3000), pages.generation());
    EXPECT_EQ(pages.size(), 1u);
    EXPECT_EQ(pages.bytes(), PageCache::entry_bytes("home", *page_of(3000)));
    changes.publish();  // what every note write does
    EXPECT_EQ(pages.size(), 0u);
    EXPECT_EQ(pages.bytes(), 0u);
    EXPECT_EQ(pages.find("home"), nullptr);
}

// List entries (web/note_view.hpp) share the pages' budget, clock and
// generation: a list page is assembled from memory only when every entry is
// there, in the order asked, and a write drops them with the pages.
TEST(PageCacheEntries, AppendsEveryEntryInOrderOrNothing) {
    notes::NoteChanges changes;
    PageCache pages(changes, 64 * 1024);
    const uint64_t g = pages.generation();
    pages.store_entry(3, "<article>three</article>", g);
    pages.store_entry(1, "<article>one</article>", g);
    std::string out = "before|";
    ASSERT_TRUE(pages.append_entries({1, 3}, '\n', out));
    EXPECT_EQ(out, "before|<article>one</article>\n<article>three</article>");
    out = "before|";
    EXPECT_FALSE(pages.append_entries({1, 2, 3}, '\n', out)) << "2 was never kept";
    EXPECT_EQ(out, "before|") << "a partial page is never left behind";
    EXPECT_TRUE(pages.append_entries({}, '\n', out));
    EXPECT_EQ(out, "before|");
    // A page and an entry never answer for each other.
    EXPECT_EQ(pages.find("1"), nullptr);
}

TEST(PageCacheEntries, AWriteDropsThemAndAnOlderGenerationIsRefused) {
    notes::NoteChanges changes;
    PageCache pages(changes, 64 * 1024);
    const uint64_t before = pages.generation();
    pages.store_entry(1, "one", before);
    changes.publish();  // what every note write does
    std::string out;
    EXPECT_FALSE(pages.append_entries({1}, '\n', out));
    pages.store_entry(1, "built before the write", before);
    EXPECT_FALSE(pages.append_entries({1}, '\n', out)) << "an entry read before the write must not be kept";
    EXPECT_EQ(pages.size(), 0u);
    EXPECT_EQ(pages.bytes(), 0u);
}

TEST(PageCacheEntries, EntriesAndPagesShareTheBudget) {
    notes::NoteChanges changes;
    constexpr std::size_t kBudget = 100 * 1024;
    PageCache pages(changes, kBudget);
    pages.store("home", page_of(8000, 'h'), pages.generation());
    for (int64_t id = 1; id <= 1000; ++id) {
        pages.store_entry(id, std::string(1400, 'e'), pages.generation());
        ASSERT_LE(pages.bytes(), kBudget) << "after entry " << id;
        ASSERT_NE(pages.find("home"), nullptr) << "home, asked for again, evicted by one-off entries at " << id;
    }
    std::string out;
    EXPECT_TRUE(pages.append_entries({1000, 999}, '\n', out)) << "the newest entries are kept";
    EXPECT_FALSE(pages.append_entries({1}, '\n', out)) << "the oldest went";
    EXPECT_EQ(pages.bytes() / 1000, (PageCache::entry_bytes(std::string(1400, 'e')) * (pages.size() - 1) +
                                     PageCache::entry_bytes("home", *page_of(8000, 'h'))) / 1000);
}

// The budget bounds resident memory only if what it counts is at least what
// the allocator holds for the cache: slots, index nodes and buckets, headers,
// not only the bytes of pages and entries.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
TEST(PageCacheBudget, CountsAtLeastWhatMallocHoldsForIt) { GTEST_SKIP() << "a sanitizer's allocator replaces glibc's malloc"; }
#else
TEST(PageCacheBudget, CountsAtLeastWhatMallocHoldsForIt) {
    notes::NoteChanges changes;
    const std::size_t before = mallinfo2().uordblks;
    {
        PageCache pages(changes, 4u << 20);
        // List-page entries of ~0.6–1.8 KB (most of a full cache at 100,000
        // notes), and pages, through enough turns of the clock to evict.
        for (int64_t id = 1; id <= 12'000; ++id) {
            pages.store_entry(id, std::string(600 + static_cast<std::size_t>(id % 13) * 100, 'e'), pages.generation());
            if (id % 10 == 0) pages.store(key(static_cast<int>(id)), page_of(2000 + static_cast<std::size_t>(id % 7) * 500), pages.generation());
        }
        const std::size_t held = mallinfo2().uordblks - before;
        ASSERT_GT(pages.bytes(), (4u << 20) * 3 / 4);
        // Freed chunks in the thread's cache count as in use (up to 7 per
        // size class): allowed for. Counting an entry's overhead as 120
        // bytes held ~260 KB more than counted here.
        constexpr std::size_t kThreadCache = 64 * 1024;
        EXPECT_LE(held, pages.bytes() + kThreadCache)
            << "malloc holds more for the cache than it counts against its budget";
        EXPECT_GE(held, pages.bytes() * 3 / 4) << "counted far above what it holds: the budget would waste its memory";
    }
}
#endif

TEST(PageCacheEntries, ZeroBudgetKeepsNone) {
    notes::NoteChanges changes;
    PageCache off(changes, 0);
    off.store_entry(1, "one", off.generation());
    std::string out;
    EXPECT_FALSE(off.append_entries({1}, '\n', out));
    EXPECT_EQ(off.size(), 0u);
}

}  // namespace
}  // namespace starpunk::web
