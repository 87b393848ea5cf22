// GET /search?q=&page= — the search page (SPEC §7).
//
// States: search unavailable (SEARCH_ENABLED=false or no service: 503), empty
// query (a prompt), a query that cannot match anything (only exclusions or
// punctuation: 200 with the service's hint), no results, results (20 per
// page, previous/next links). Every state with the form shows a one-line
// reminder of the syntax (search/query.hpp).
// The excerpt is the only unescaped HTML on the page: it comes from
// search::highlight_excerpt, which escapes every byte of the note and adds
// nothing but <mark>…</mark>.
//
// Caching: results for the admin include drafts, so they are sent with
// `Cache-Control: private, no-store`. Anonymous results may be kept for 60 s
// like every other public page (`public, max-age=60`); `Vary: Cookie` keeps a
// shared cache from handing an anonymous answer to the admin's browser.
#include <charconv>

#include "http/form.hpp"
#include "notes/note_text.hpp"
#include "search/search_service.hpp"
#include "util/clock.hpp"
#include "util/strings.hpp"
#include "web/errors.hpp"
#include "web/visitor.hpp"
#include "web/handlers/handlers.hpp"
#include "web/pagination.hpp"

namespace starpunk::web::handlers {

namespace {

namespace sp = starpunk::search;

constexpr int64_t kPerPage = 20;
// Queries longer than this are cut (with "…") in the page title.
constexpr std::size_t kTitleQueryChars = 40;

std::string title_for(std::string_view q) {
    q = trim(q);
    if (q.empty()) return "Search";
    const std::string_view cut = notes::truncate_chars(q, kTitleQueryChars);
    if (cut.size() == q.size()) return "Search: " + std::string(q);
    return "Search: " + std::string(trim(cut)) + "\u2026";
}

std::string count_text(const sp::Results& r) {
    std::string n = std::to_string(r.total);
    if (r.total_exact) return r.total == 1 ? "1 note matches." : n + " notes match.";
    // FTS: the ranked set is capped; fallback: the scan stopped once this page was full.
    if (r.mode == sp::Mode::fts) return "More than " + n + " notes match; the " + n + " newest of them are ranked.";
    return "At least " + n + " notes match, newest first.";
}

}  // namespace

http::Handler search(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        auto form = http::parse_urlencoded(req.query);
        if (!form) return error_response(*site, req, 400, "The search address is malformed.");
        auto page = page_number(*form);
        if (!page) return error_response(*site, req, 400, "The page number must be a positive whole number.");
        const std::string q(form->get("q").value_or(""));
        const bool blank = trim(q).empty();

        TemplateData data;
        data.set("query", q);
        // The admin's navigation on the admin's page (sent private, no-store).
        PageInfo info = page_info(req, title_for(q));
        info.search_query = q;
        int status = 200;
        if (!site->config.search_enabled || site->search == nullptr) {
            data.set("unavailable", true);
            status = 503;
        } else if (blank) {
            data.set("empty_query", true);
        } else {
            sp::Query query{q, visitor(req).is_admin, kPerPage, (*page - 1) * kPerPage};
            auto found = site->search->search(query);
            if (!found) {
                if (found.error().code == ErrorCode::invalid_input) {
                    return error_response(*site, req, 400, "This search cannot be run: " + found.error().message + ".");
                }
                return error_response(*site, req, 500, "The search failed.");
            }
            TemplateData list{TemplateData::type::list};
            for (const auto& hit : found->hits) {
                TemplateData item;
                item.set("url", site->url(hit.path));
                item.set("title", hit.title);
                item.set("excerpt", hit.excerpt_html);
                item.set("published_iso", format_rfc3339(hit.published_at));
                item.set("published_human", human_date(hit.published_at));
                if (!hit.published) item.set("draft", true);
                list.push_back(std::move(item));
            }
            if (!found->hint.empty()) {
                data.set("hint", found->hint);
            } else if (found->hits.empty()) {
                data.set("no_results", true);
                if (*page > 1 && found->total > 0) data.set("past_the_end", true);
            } else {
                data.set("has_results", true);
                data.set("results", std::move(list));
                data.set("summary", count_text(*found));
                data.set("first_number", std::to_string((*page - 1) * kPerPage + 1));
            }
            const std::string base = site->url("/search?q=" + percent_encode(q));
            const bool has_prev = *page > 1 && !found->hits.empty();
            const bool has_next = found->total > *page * kPerPage;
            if (has_prev) data.set("prev_url", *page == 2 ? base : base + "&page=" + std::to_string(*page - 1));
            if (has_next) data.set("next_url", base + "&page=" + std::to_string(*page + 1));
            if (has_prev || has_next) {
                data.set("paginated", true);
                data.set("page", std::to_string(*page));
            }
            data.set("first_url", base);
            if (*page > 1) info.title += " (page " + std::to_string(*page) + ")";
        }
        auto body = render_page(*site, info, "search", std::move(data));
        if (!body) return error_response(*site, req, 500, "The page could not be rendered.");
        auto res = http::html_response(status, std::move(*body));
        res.set_header("Cache-Control",
                       visitor(req).is_admin ? "private, no-store" : (status == 200 ? "public, max-age=60" : "no-store"));
        res.set_header("Vary", "Cookie");
        res.set_header("Link", site->discovery_links.empty() ? discovery_link_header(*site) : site->discovery_links);
        return res;
    };
}

}  // namespace starpunk::web::handlers
