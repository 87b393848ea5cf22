// Markdown engines: who turns a note's Markdown into sanitised HTML, and within
// what bounds (issue 12 item 1).
//
// cmark-gfm 0.29.0.gfm.6 (Debian 12) has inputs whose cost grows without bound:
// a table whose rows are filled out to a wide header's column count, long runs
// of unmatched brackets, nested emphasis and others fixed only in later
// releases. Rather than chase every pattern, a render runs under a budget that
// holds whatever the library does:
//   * IsolatedMarkdown (render/isolated.hpp) renders in worker processes, each
//     render limited in CPU time (a profiling timer that kills the worker),
//     memory (RLIMIT_DATA) and output size. The server uses it.
//   * InProcessMarkdown renders in the calling thread with no bound. For tests,
//     tools and the worker itself — never for stored notes in the server.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace starpunk::render {

struct RenderBudget {
    std::chrono::milliseconds cpu{100};         // CPU time of one render
    std::size_t memory_bytes = 32u << 20;       // heap one render may add (isolated engine)
    std::size_t max_html_bytes = 8u << 20;      // sanitised output
};

// The budget for Markdown of `markdown_bytes`: 100 ms of CPU and 32 MiB of
// memory, the same for every size up to MAX_NOTE_SIZE (issue 12: no note may
// cost more than that to render, so a note that needs more is refused at
// write time); HTML up to 8 MiB or 8× the input, whichever is more.
// Ordinary Markdown costs ~0.5 ms per KiB here (prose; ~1.4 ms for wide
// tables), mostly in the HTML sanitizer, so notes of a couple of hundred KiB
// fit. `cpu_scale` multiplies the time (reads give stored notes twice what
// writes were checked against).
RenderBudget budget_for(std::size_t markdown_bytes, int cpu_scale = 1);

// How an over-budget render is reported: invalid_input, with a message for
// the author that starts with kOverBudget, says `why` and what to change.
inline constexpr std::string_view kOverBudget = "This note cannot be rendered within the limits";
Error over_budget_error(std::string_view why);

class MarkdownEngine {
public:
    virtual ~MarkdownEngine() = default;
    // Sanitised HTML of `markdown` (any bytes; see render/markdown.hpp for the
    // dialect). Errors: invalid_input (over_budget_error: the render exceeded the
    // budget — the Markdown itself is at fault), busy (every worker stayed
    // occupied past the wait limit), io/internal (the engine could not run).
    // Thread-safe.
    virtual Result<std::string> to_html(std::string_view markdown, const RenderBudget& budget) = 0;
};

// The source shown as text when it cannot be rendered: one <p> per
// blank-line-separated block, line breaks as <br>, everything escaped,
// invalid UTF-8 replaced with U+FFFD. Linear in the input; never fails.
std::string escaped_text_html(std::string_view source);

// No isolation and no bound: only the output size is checked.
class InProcessMarkdown final : public MarkdownEngine {
public:
    Result<std::string> to_html(std::string_view markdown, const RenderBudget& budget) override;
};

}  // namespace starpunk::render
