// GET /api/search?q=&limit=&offset= — search as JSON (SPEC §7).
//
//   200 {"query", "total", "total_exact", "limit", "offset",
//        "results": [{"slug", "title", "excerpt", "published_at", "url"}]}
//       plus "hint" (what to change) when the query cannot match anything
//       (only exclusions or punctuation; results is then empty)
//   400 JSON error: q missing or blank; limit not a whole number from 1 up;
//       offset not a whole number from 0 up (or absurdly large); query too long
//   503 JSON error: search disabled (SEARCH_ENABLED=false)
// limit defaults to 20 and is clamped to 100 (the response says which limit
// applied); offset defaults to 0. `total` counts matching notes; when
// total_exact is false it is a lower bound (search/search_service.hpp: at most
// 1,000 matches are ranked). `url` is absolute, `published_at` RFC 3339,
// `excerpt` HTML whose only markup is <mark>…</mark>.
// Caching: as the search page (web/handlers/search.cpp) — the admin's answers
// (which include drafts) are `private, no-store`.
#include <nlohmann/json.hpp>

#include "http/form.hpp"
#include "search/search_service.hpp"
#include "util/clock.hpp"
#include "util/strings.hpp"
#include "web/errors.hpp"
#include "web/visitor.hpp"
#include "web/handlers/handlers.hpp"

namespace starpunk::web::handlers {

namespace {

namespace sp = starpunk::search;

constexpr int64_t kDefaultLimit = 20;
constexpr int64_t kMaxOffset = 1'000'000'000;

// A whole number >= minimum; `fallback` when absent or empty; nullopt when malformed.
std::optional<int64_t> number(const http::FormData& form, std::string_view name, int64_t fallback, int64_t minimum) {
    auto v = form.get(name);
    if (!v || v->empty()) return fallback;
    auto n = parse_int64(*v);
    if (!n || *n < minimum) return std::nullopt;
    return n;
}

}  // namespace

http::Handler api_search(std::shared_ptr<const Site> site) {
    return [site = std::move(site)](http::Request& req) {
        auto form = http::parse_urlencoded(req.query);
        if (!form) return error_response(*site, req, 400, "The query string is malformed: " + form.error().message);
        auto q = form->get("q");
        if (!q || trim(*q).empty()) {
            return error_response(*site, req, 400, "The q parameter (what to search for) is required.");
        }
        auto limit = number(*form, "limit", kDefaultLimit, 1);
        if (!limit) return error_response(*site, req, 400, "limit must be a whole number from 1 to 100.");
        auto offset = number(*form, "offset", 0, 0);
        if (!offset || *offset > kMaxOffset) {
            return error_response(*site, req, 400, "offset must be a whole number from 0.");
        }
        if (!site->config.search_enabled || site->search == nullptr) {
            return error_response(*site, req, 503, "Search is not available on this site.");
        }
        sp::Query query{std::string(*q), visitor(req).is_admin, std::min(*limit, sp::kMaxLimit), *offset};
        auto found = site->search->search(query);
        if (!found) {
            if (found.error().code == ErrorCode::invalid_input) {
                return error_response(*site, req, 400, "This search cannot be run: " + found.error().message + ".");
            }
            return error_response(*site, req, 500, "The search failed.");
        }
        nlohmann::ordered_json results = nlohmann::ordered_json::array();
        for (const auto& hit : found->hits) {
            results.push_back({{"slug", hit.slug},
                               {"title", hit.title},
                               {"excerpt", hit.excerpt_html},
                               {"published_at", format_rfc3339(hit.published_at)},
                               {"url", site->url(hit.path)}});
        }
        nlohmann::ordered_json body = {{"query", std::string(trim(*q))},
                                       {"total", found->total},
                                       {"total_exact", found->total_exact},
                                       {"limit", query.limit},
                                       {"offset", query.offset},
                                       {"results", std::move(results)}};
        if (!found->hint.empty()) body["hint"] = found->hint;
        auto res = http::json_response(200, body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
        res.set_header("Cache-Control", visitor(req).is_admin ? "private, no-store" : "public, max-age=60");
        res.set_header("Vary", "Cookie");
        return res;
    };
}

}  // namespace starpunk::web::handlers
