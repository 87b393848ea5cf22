#include "auth/discovery.hpp"

#include <fmt/format.h>
#include <cctype>
#include <gumbo.h>
#include <spdlog/spdlog.h>

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <nlohmann/json.hpp>

#include "util/strings.hpp"

namespace starpunk::auth {

// ---------------------------------------------------------------------------
// Link header (RFC 8288 §3)
//
//   Link       = #link-value
//   link-value = "<" URI-Reference ">" *( OWS ";" OWS link-param )
//   link-param = token BWS [ "=" BWS ( token / quoted-string ) ]

namespace {

bool is_ows(char c) { return c == ' ' || c == '\t'; }

class LinkScanner {
public:
    explicit LinkScanner(std::string_view s) : s_(s) {}

    std::vector<LinkValue> run() {
        std::vector<LinkValue> out;
        while (out.size() < kMaxLinks) {
            while (i_ < s_.size() && (is_ows(s_[i_]) || s_[i_] == ',')) ++i_;
            if (i_ >= s_.size()) break;
            if (s_[i_] != '<') {
                skip_to_next_value();
                continue;
            }
            const size_t close = s_.find('>', i_ + 1);
            if (close == std::string_view::npos) break;  // unterminated: nothing more to read
            LinkValue link;
            link.target = std::string(trim(s_.substr(i_ + 1, close - i_ - 1)));
            i_ = close + 1;
            if (params(link)) out.push_back(std::move(link));
        }
        return out;
    }

private:
    // Reads "; name[=value]" params up to the next top-level comma. False when
    // the link-value is malformed (then skipped to the next comma).
    bool params(LinkValue& link) {
        bool seen_rel = false;
        while (true) {
            skip_ows();
            if (i_ >= s_.size()) return true;
            if (s_[i_] == ',') {
                ++i_;
                return true;
            }
            if (s_[i_] != ';') {
                skip_to_next_value();
                return false;
            }
            ++i_;
            skip_ows();
            const size_t name_start = i_;
            while (i_ < s_.size() && is_token_char(s_[i_])) ++i_;
            const std::string name = to_lower(s_.substr(name_start, i_ - name_start));
            skip_ows();
            std::string value;
            if (i_ < s_.size() && s_[i_] == '=') {
                ++i_;
                skip_ows();
                if (i_ < s_.size() && s_[i_] == '"') {
                    if (!quoted(value)) return false;
                } else {
                    const size_t v = i_;
                    while (i_ < s_.size() && s_[i_] != ';' && s_[i_] != ',' && !is_ows(s_[i_])) ++i_;
                    value = std::string(s_.substr(v, i_ - v));
                }
            }
            if (name.empty()) {  // e.g. ";;" or "; =x": ignore the param
                continue;
            }
            if (name == "rel" && !seen_rel) {  // only the first rel counts (RFC 8288 §3.3)
                seen_rel = true;
                size_t p = 0;
                while (p < value.size()) {
                    while (p < value.size() && is_space(value[p])) ++p;
                    const size_t q = p;
                    while (p < value.size() && !is_space(value[p])) ++p;
                    if (p > q) link.rels.push_back(to_lower(std::string_view(value).substr(q, p - q)));
                }
            } else if (name == "anchor") {
                link.has_anchor = true;
            }
        }
    }

    bool quoted(std::string& value) {
        ++i_;  // opening quote
        while (i_ < s_.size()) {
            const char c = s_[i_++];
            if (c == '"') return true;
            if (c == '\\' && i_ < s_.size()) {
                value.push_back(s_[i_++]);
            } else {
                value.push_back(c);
            }
        }
        return false;  // unterminated
    }

    void skip_ows() {
        while (i_ < s_.size() && is_ows(s_[i_])) ++i_;
    }

    // Skips to just past the next comma outside <…> and quotes.
    void skip_to_next_value() {
        bool in_quotes = false;
        bool in_angle = false;
        while (i_ < s_.size()) {
            const char c = s_[i_++];
            if (in_quotes) {
                if (c == '\\' && i_ < s_.size()) {
                    ++i_;
                } else if (c == '"') {
                    in_quotes = false;
                }
            } else if (in_angle) {
                if (c == '>') in_angle = false;
            } else if (c == '"') {
                in_quotes = true;
            } else if (c == '<') {
                in_angle = true;
            } else if (c == ',') {
                return;
            }
        }
    }

    static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
    static bool is_token_char(char c) {
        if (c >= 'a' && c <= 'z') return true;
        if (c >= 'A' && c <= 'Z') return true;
        if (c >= '0' && c <= '9') return true;
        return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    }

    std::string_view s_;
    size_t i_ = 0;
};

bool has_rel(const std::vector<std::string>& rels, std::string_view rel) {
    for (const auto& r : rels)
        if (r == rel) return true;
    return false;
}

// Fills the empty fields of `links` from one (target, rels) pair.
void take(ProfileLinks& links, const std::vector<std::string>& rels, std::string_view target, std::string_view base) {
    auto fill = [&](std::string& field, std::string_view rel) {
        if (!field.empty() || !has_rel(rels, rel)) return;
        if (auto u = resolve_url(base, target)) field = std::move(*u);
    };
    fill(links.metadata, "indieauth-metadata");
    fill(links.authorization_endpoint, "authorization_endpoint");
    fill(links.token_endpoint, "token_endpoint");
    if (has_rel(rels, "redirect_uri")) {
        if (auto u = resolve_url(base, target)) links.redirect_uris.push_back(std::move(*u));
    }
}

std::vector<std::string> split_rels(std::string_view value) {
    std::vector<std::string> out;
    size_t p = 0;
    auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; };
    while (p < value.size()) {
        while (p < value.size() && space(value[p])) ++p;
        const size_t q = p;
        while (p < value.size() && !space(value[p])) ++p;
        if (p > q) out.push_back(to_lower(value.substr(q, p - q)));
    }
    return out;
}

bool is_http_url(const boost::urls::url_view& u) {
    const std::string scheme = to_lower(u.scheme());
    return (scheme == "https" || scheme == "http") && u.has_authority() && !u.encoded_host().empty();
}

}  // namespace

std::vector<LinkValue> parse_link_header(std::string_view value) { return LinkScanner(value).run(); }

std::optional<std::string> resolve_url(std::string_view base, std::string_view reference) {
    auto b = boost::urls::parse_uri(base);
    auto r = boost::urls::parse_uri_reference(trim(reference));
    if (!b || !r) return std::nullopt;
    boost::urls::url dest;
    if (!boost::urls::resolve(*b, *r, dest)) return std::nullopt;
    if (!is_http_url(dest)) return std::nullopt;
    dest.normalize_scheme();  // "HTTPS://…" -> "https://…"
    dest.remove_fragment();
    return std::string(dest.buffer());
}

ProfileLinks links_from_headers(const net::Headers& headers, std::string_view base_url) {
    ProfileLinks links;
    for (std::string_view field : headers.get_all("Link")) {
        for (const auto& link : parse_link_header(field)) {
            if (link.has_anchor) continue;
            take(links, link.rels, link.target, base_url);
        }
    }
    return links;
}

ProfileLinks links_from_html(std::string_view html, std::string_view base_url) {
    ProfileLinks links;
    GumboOutput* out = gumbo_parse_with_options(&kGumboDefaultOptions, html.data(), html.size());
    if (out == nullptr) return links;
    // Document order, iteratively (deep documents must not exhaust the stack).
    std::vector<const GumboNode*> stack{out->root};
    std::vector<std::pair<std::vector<std::string>, std::string>> found;  // rels, href
    std::optional<std::string> base;
    while (!stack.empty()) {
        const GumboNode* node = stack.back();
        stack.pop_back();
        if (node->type != GUMBO_NODE_ELEMENT) continue;
        const GumboElement& el = node->v.element;
        if (el.tag == GUMBO_TAG_BASE && !base) {
            if (const GumboAttribute* href = gumbo_get_attribute(&el.attributes, "href")) {
                base = resolve_url(base_url, href->value);
            }
        } else if (el.tag == GUMBO_TAG_LINK) {
            const GumboAttribute* rel = gumbo_get_attribute(&el.attributes, "rel");
            const GumboAttribute* href = gumbo_get_attribute(&el.attributes, "href");
            if (rel != nullptr && href != nullptr) found.emplace_back(split_rels(rel->value), href->value);
        }
        for (unsigned i = el.children.length; i > 0; --i) {
            stack.push_back(static_cast<const GumboNode*>(el.children.data[i - 1]));
        }
    }
    gumbo_destroy_output(&kGumboDefaultOptions, out);
    const std::string effective_base = base ? *base : std::string(base_url);
    for (const auto& [rels, href] : found) take(links, rels, href, effective_base);
    return links;
}

namespace {

bool has_class(const GumboElement& el, std::string_view name) {
    const GumboAttribute* cls = gumbo_get_attribute(&el.attributes, "class");
    if (cls == nullptr) return false;
    std::string_view v = cls->value;
    size_t i = 0;
    while (i < v.size()) {
        while (i < v.size() && std::isspace(static_cast<unsigned char>(v[i]))) ++i;
        size_t j = i;
        while (j < v.size() && !std::isspace(static_cast<unsigned char>(v[j]))) ++j;
        if (v.substr(i, j - i) == name) return true;
        i = j;
    }
    return false;
}

bool is_item_root(const GumboElement& el) {
    const GumboAttribute* cls = gumbo_get_attribute(&el.attributes, "class");
    if (cls == nullptr) return false;
    std::string_view v = cls->value;
    for (size_t p = v.find("h-"); p != std::string_view::npos; p = v.find("h-", p + 2)) {
        if (p == 0 || std::isspace(static_cast<unsigned char>(v[p - 1]))) return true;
    }
    return false;
}

// The text of `node` (iteratively), whitespace runs collapsed, trimmed.
std::string text_of(const GumboNode* root) {
    std::string raw;
    std::vector<const GumboNode*> stack{root};
    while (!stack.empty()) {
        const GumboNode* n = stack.back();
        stack.pop_back();
        if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_WHITESPACE || n->type == GUMBO_NODE_CDATA) {
            raw += n->v.text.text;
        } else if (n->type == GUMBO_NODE_ELEMENT) {
            const GumboElement& el = n->v.element;
            if (el.tag == GUMBO_TAG_SCRIPT || el.tag == GUMBO_TAG_STYLE) continue;
            if (el.tag == GUMBO_TAG_IMG) {
                if (const GumboAttribute* alt = gumbo_get_attribute(&el.attributes, "alt")) raw += alt->value;
            }
            for (unsigned i = el.children.length; i > 0; --i) stack.push_back(static_cast<const GumboNode*>(el.children.data[i - 1]));
        }
    }
    std::string out;
    bool space = false;
    for (char c : raw) {
        if (std::isspace(static_cast<unsigned char>(c))) {
            space = !out.empty();
        } else {
            if (space) out.push_back(' ');
            space = false;
            out.push_back(c);
        }
    }
    return out;
}

}  // namespace

AppInfo app_from_html(std::string_view html, std::string_view base_url) {
    AppInfo app;
    GumboOutput* out = gumbo_parse_with_options(&kGumboDefaultOptions, html.data(), html.size());
    if (out == nullptr) return app;
    std::optional<std::string> base;
    const GumboNode* root = nullptr;
    {
        std::vector<const GumboNode*> stack{out->root};
        while (!stack.empty() && root == nullptr) {
            const GumboNode* node = stack.back();
            stack.pop_back();
            if (node->type != GUMBO_NODE_ELEMENT) continue;
            const GumboElement& el = node->v.element;
            if (el.tag == GUMBO_TAG_BASE && !base) {
                if (const GumboAttribute* href = gumbo_get_attribute(&el.attributes, "href")) {
                    base = resolve_url(base_url, href->value);
                }
            }
            if (has_class(el, "h-app") || has_class(el, "h-x-app")) {
                root = node;
                break;
            }
            for (unsigned i = el.children.length; i > 0; --i) stack.push_back(static_cast<const GumboNode*>(el.children.data[i - 1]));
        }
    }
    if (root != nullptr) {
        const std::string effective_base = base ? *base : std::string(base_url);
        bool named = false;
        bool logo = false;
        std::vector<const GumboNode*> stack;
        const GumboElement& r = root->v.element;
        for (unsigned i = r.children.length; i > 0; --i) stack.push_back(static_cast<const GumboNode*>(r.children.data[i - 1]));
        while (!stack.empty() && !(named && logo)) {
            const GumboNode* node = stack.back();
            stack.pop_back();
            if (node->type != GUMBO_NODE_ELEMENT) continue;
            const GumboElement& el = node->v.element;
            if (!named && has_class(el, "p-name")) {
                app.name = text_of(node);
                named = true;
            }
            if (!logo && has_class(el, "u-logo")) {
                const GumboAttribute* src = gumbo_get_attribute(&el.attributes, "src");
                if (src == nullptr) src = gumbo_get_attribute(&el.attributes, "href");
                if (src != nullptr) {
                    if (auto u = resolve_url(effective_base, src->value)) app.logo = std::move(*u);
                }
                logo = true;
            }
            if (is_item_root(el)) continue;  // a nested item's properties are its own
            for (unsigned i = el.children.length; i > 0; --i) stack.push_back(static_cast<const GumboNode*>(el.children.data[i - 1]));
        }
        if (!named) app.name = text_of(root);
    }
    gumbo_destroy_output(&kGumboDefaultOptions, out);
    return app;
}

Result<Endpoints> parse_metadata(std::string_view json, std::string_view metadata_url) {
    const std::string where = fmt::format("IndieAuth metadata at {}", net::url_for_log(metadata_url));
    const auto doc = nlohmann::json::parse(json.begin(), json.end(), nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) return make_error(ErrorCode::io, where + " is not a JSON object");
    auto string_field = [&doc](const char* name) -> std::optional<std::string> {
        auto it = doc.find(name);
        if (it == doc.end() || !it->is_string()) return std::nullopt;
        return it->get<std::string>();
    };
    Endpoints e;
    e.metadata_url = std::string(metadata_url);
    auto auth = string_field("authorization_endpoint");
    if (!auth) return make_error(ErrorCode::io, where + " has no authorization_endpoint");
    auto resolved = resolve_url(metadata_url, *auth);
    if (!resolved) return make_error(ErrorCode::io, where + " has an invalid authorization_endpoint");
    e.authorization_endpoint = std::move(*resolved);
    if (auto token = string_field("token_endpoint")) {
        if (auto t = resolve_url(metadata_url, *token)) e.token_endpoint = std::move(*t);
    }
    if (auto issuer = string_field("issuer")) {
        auto u = boost::urls::parse_uri(*issuer);
        if (!u || !is_http_url(*u) || u->has_query() || u->has_fragment())
            return make_error(ErrorCode::io, where + " has an invalid issuer");
        e.issuer = std::move(*issuer);
    }
    return e;
}

namespace {

bool is_success(int status) { return status >= 200 && status < 300; }

bool looks_like_html(const net::HttpResponse& r) {
    auto ct = r.headers.get("Content-Type");
    if (!ct) return true;
    const std::string type = to_lower(trim(ct->substr(0, ct->find(';'))));
    return type == "text/html" || type == "application/xhtml+xml" || type.empty();
}

}  // namespace

Result<Endpoints> discover_endpoints(net::HttpClient& http, std::string_view profile_url) {
    const std::string where = net::url_for_log(profile_url);
    net::HttpRequest req;
    req.url = std::string(profile_url);
    req.headers = {{"Accept", "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"}};
    auto page = http.fetch(req);
    if (!page) {
        const ErrorCode code = page.error().code == ErrorCode::busy ? ErrorCode::busy : ErrorCode::io;
        return make_error(code, fmt::format("fetching {}: {}", where, page.error().message));
    }
    if (!is_success(page->status))
        return make_error(ErrorCode::io, fmt::format("fetching {}: it answered HTTP {}", where, page->status));

    const ProfileLinks header = links_from_headers(page->headers, page->final_url);
    const ProfileLinks html = looks_like_html(*page) ? links_from_html(page->body, page->final_url) : ProfileLinks{};
    auto first = [](const std::string& a, const std::string& b) { return a.empty() ? b : a; };

    std::string metadata_problem;
    if (const std::string metadata = first(header.metadata, html.metadata); !metadata.empty()) {
        net::HttpRequest mreq;
        mreq.url = metadata;
        mreq.headers = {{"Accept", "application/json"}};
        auto m = http.fetch(mreq);
        if (!m && m.error().code == ErrorCode::busy) return std::move(m).error();  // no verdict: the metadata would win
        if (!m) {
            metadata_problem = m.error().message;
        } else if (!is_success(m->status)) {
            metadata_problem = fmt::format("IndieAuth metadata at {} answered HTTP {}", net::url_for_log(metadata), m->status);
        } else {
            auto parsed = parse_metadata(m->body, m->final_url);
            if (parsed) {
                if (parsed->token_endpoint.empty()) parsed->token_endpoint = first(header.token_endpoint, html.token_endpoint);
                return parsed;
            }
            metadata_problem = parsed.error().message;
        }
        spdlog::warn("indieauth: discovery for {}: {}; trying rel=authorization_endpoint", where, metadata_problem);
    }

    Endpoints e;
    e.authorization_endpoint = first(header.authorization_endpoint, html.authorization_endpoint);
    e.token_endpoint = first(header.token_endpoint, html.token_endpoint);
    if (!e.authorization_endpoint.empty()) return e;
    if (!metadata_problem.empty()) return make_error(ErrorCode::io, metadata_problem);
    return make_error(ErrorCode::not_found, fmt::format("{} advertises no IndieAuth authorization endpoint", where));
}

// ---------------------------------------------------------------------------
// EndpointCache

EndpointCache::EndpointCache(const Clock& clock, std::chrono::seconds ttl) : clock_(clock), ttl_(ttl) {}

std::optional<Endpoints> EndpointCache::peek(std::string_view profile_url) const {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(profile_url);
    if (it == entries_.end() || it->second.expires <= clock_.now()) return std::nullopt;
    return it->second.endpoints;
}

void EndpointCache::put(std::string_view profile_url, Endpoints endpoints) {
    std::lock_guard lock(mutex_);
    const Timestamp now = clock_.now();
    if (entries_.size() >= kMaxEntries && !entries_.contains(profile_url)) {
        std::erase_if(entries_, [now](const auto& kv) { return kv.second.expires <= now; });
        if (entries_.size() >= kMaxEntries) entries_.clear();
    }
    entries_.insert_or_assign(std::string(profile_url), Entry{std::move(endpoints), now + ttl_});
}

void EndpointCache::clear() {
    std::lock_guard lock(mutex_);
    entries_.clear();
}

Result<Endpoints> EndpointCache::get(net::HttpClient& http, std::string_view profile_url) {
    if (auto hit = peek(profile_url)) return *hit;
    auto found = discover_endpoints(http, profile_url);
    if (found) put(profile_url, *found);
    return found;
}

}  // namespace starpunk::auth
