// The page cache's byte budget and its CLOCK eviction (web/page_cache.hpp):
// memory stays under PAGE_CACHE_SIZE whatever is crawled, and pages asked for
// again survive a crawl of one-off pages.
#include <gtest/gtest.h>

#include <string>

#include "notes/changes.hpp"
#include "web/page_cache.hpp"

namespace starpunk::web {
namespace {

std::shared_ptr<const CachedPage> page_of(std::size_t body_bytes, char fill = 'x') {
    return make_cached_page(200, std::string(body_bytes, fill), "");
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

}  // namespace
}  // namespace starpunk::web
