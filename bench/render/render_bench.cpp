// Markdown rendering under a budget (issue 12 item 1): one case per process.
//
//   render_bench cases                         list the case names
//   render_bench inprocess <case>              unbounded render in this process
//   render_bench isolated <case> <starpunk>    through IsolatedMarkdown (workers
//                                              run `<starpunk> render-worker`)
// Prints one line: case mode outcome ms input_bytes output_bytes peak_rss_kb
// (inprocess: this process's peak; isolated: the worker's peak, from
// RUSAGE_CHILDREN once the worker is reaped; the time excludes starting it). bench/render/run.sh runs every
// case both ways, the unbounded one under `timeout`.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "render/engine.hpp"
#include "render/isolated.hpp"
#include "render/markdown.hpp"

namespace {

using namespace starpunk;

constexpr std::size_t kNoteBytes = 1024 * 1024;  // MAX_NOTE_SIZE's default

std::string repeat(std::string_view unit, std::size_t times) {
    std::string s;
    s.reserve(unit.size() * times);
    for (std::size_t i = 0; i < times; ++i) s.append(unit);
    return s;
}
std::string fill(std::string_view unit) { return repeat(unit, kNoteBytes / unit.size()); }

// Ordinary notes at the size limit, and the pathological inputs known for
// cmark/cmark-gfm (issue 12's two, then the upstream pathological test list
// and the 0.29.0.gfm.7–.13 advisories), each as large as a note may be.
std::vector<std::pair<std::string, std::function<std::string()>>> cases() {
    return {
        {"prose", [] {
             return fill("Some *ordinary* prose with a [link](https://example.com/) and `code`, "
                         "**bold** words, ~~struck~~ text and an autolink www.example.org.\n\n");
         }},
        {"table_10_columns", [] {
             return "| a | b | c | d | e | f | g | h | i | j |\n|---|---|---|---|---|---|---|---|---|---|\n" +
                    fill("| 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 |\n");
         }},
        {"lists_and_quotes", [] { return fill("> quoted *text*\n>\n> - item one\n> - item two\n\n1. first\n2. second\n\n"); }},
        {"wide_table_12k", [] { return "|" + repeat("a|", 3000) + "\n|" + repeat("-|", 3000) + "\n" + repeat("x\n", 2000); }},
        {"wide_table_1m", [] {
             return "|" + repeat("a|", 5000) + "\n|" + repeat("-|", 5000) + "\n" + repeat("x\n", (kNoteBytes - 20000) / 2);
         }},
        {"image_brackets", [] { return "x " + repeat("![[]()", kNoteBytes / 6); }},
        {"nested_brackets", [] { return repeat("[", kNoteBytes / 2) + "a" + repeat("]", kNoteBytes / 2); }},
        {"link_closers", [] { return fill("a]"); }},
        {"link_openers_emph_closers", [] { return fill("[ a_"); }},
        {"nested_strong_emph", [] { return repeat("*a **a ", kNoteBytes / 14) + "b" + repeat(" a** a*", kNoteBytes / 14); }},
        {"emph_closers", [] { return fill("a_ "); }},
        {"mismatched_emph", [] { return fill("*a_ "); }},
        {"emph_multiple_of_3", [] { return "a**b" + fill("c* "); }},
        {"underscores", [] { return fill("_a"); }},
        {"nested_quotes", [] { return repeat("> ", kNoteBytes / 2) + "a"; }},
        {"nested_lists", [] {
             std::string s;
             for (int i = 0; s.size() < kNoteBytes; ++i) s += std::string(static_cast<std::size_t>(2 * (i % 500)), ' ') + "* a\n";
             return s;
         }},
        {"backticks", [] {
             std::string s;
             for (int i = 1; s.size() < kNoteBytes; ++i) s += "e" + std::string(static_cast<std::size_t>(i % 5000), '`');
             return s;
         }},
        {"unclosed_links", [] { return fill("[a](<b"); }},
        {"unclosed_links_b", [] { return fill("[a](b"); }},
        {"html_comments", [] { return "a" + fill("<!--"); }},
        {"cdata", [] { return "a" + fill("<![CDATA["); }},
        {"processing_instructions", [] { return "a" + fill("<?"); }},
        {"declarations", [] { return "a" + fill("<!A "); }},
        {"autolinks", [] { return fill("www.a."); }},
        {"email_autolinks", [] { return fill("a@b."); }},
        {"strikethrough", [] { return fill("~~a "); }},
        {"footnotes", [] { return fill("[^a]") + "\n\n" + fill("[^a]: b\n"); }},
        {"reference_definitions", [] { return fill("[a]: b\n"); }},
        {"table_many_rows_pipes", [] { return "a|b\n-|-\n" + fill("|\n"); }},
        {"entities", [] { return fill("&#12345678;&amp;"); }},
    };
}

long peak_kb(int who) {
    rusage u{};
    getrusage(who, &u);
    return u.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
    auto all = cases();
    if (argc == 2 && std::string(argv[1]) == "cases") {
        for (const auto& [name, make] : all) std::printf("%s\n", name.c_str());
        return 0;
    }
    if (argc < 3) {
        std::fprintf(stderr, "usage: render_bench cases | inprocess <case> | isolated <case> <starpunk>\n");
        return 2;
    }
    std::string mode = argv[1], name = argv[2];
    std::string input;
    for (const auto& [n, make] : all) {
        if (n == name) input = make();
    }
    if (input.empty()) {
        std::fprintf(stderr, "unknown case %s\n", name.c_str());
        return 2;
    }
    auto start = std::chrono::steady_clock::now();
    std::string outcome = "ok";
    std::size_t out_bytes = 0;
    long peak = 0;
    if (mode == "inprocess") {
        out_bytes = render::render_markdown(input).size();
        peak = peak_kb(RUSAGE_SELF);
    } else if (mode == "isolated" && argc == 4) {
        {
            render::IsolatedMarkdown engine({.executable = argv[3], .workers = 1});
            (void)engine.to_html("warm", render::RenderBudget{});  // start the worker: not part of the time
            start = std::chrono::steady_clock::now();
            auto html = engine.to_html(input, render::budget_for(input.size()));  // a write's budget
            if (html) {
                out_bytes = html.value().size();
            } else {
                outcome = html.error().code == ErrorCode::invalid_input ? "over_budget" : "error";
                if (outcome == "error") std::fprintf(stderr, "%s\n", html.error().message.c_str());
            }
        }  // reaps the worker, so its peak is in RUSAGE_CHILDREN
        peak = peak_kb(RUSAGE_CHILDREN);
    } else {
        std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
        return 2;
    }
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::printf("%s %s %s %.1f %zu %zu %ld\n", name.c_str(), mode.c_str(), outcome.c_str(), ms, input.size(), out_bytes,
                peak);
    return 0;
}
