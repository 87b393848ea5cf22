// IsolatedMarkdown: Markdown rendered in worker processes, each render bounded
// in CPU time, memory and output size whatever cmark-gfm does (render/engine.hpp).
//
// A worker is this same executable started as `<exe> render-worker` (one file
// to deploy; cli/ routes that argument to render::run_worker before anything
// else). It talks over a socketpair on its stdin (render/worker.hpp: framing),
// renders one request at a time and, before each render, arms a profiling
// timer for the budget's CPU time, whose signal kills it, and caps its data
// segment at what it uses plus the budget's memory (render/worker.hpp).
//
// Invariants:
//   * At most `workers` processes; a caller waits for a free one (up to
//     `queue_wait`, then busy). Workers start lazily and are reused.
//   * A worker that dies or overruns is reaped (SIGKILL + waitpid) and replaced
//     on the next request; its request fails with invalid_input (over_budget_error).
//     A hang is also bounded by wall time (`wall_factor` × the CPU budget +
//     `wall_grace`), for a worker that sleeps rather than computes. CPU time
//     is the budget; the wall bound is only a backstop, generous enough for a
//     busy machine (two cores shared by many requests) and a fresh worker's
//     start-up, which it includes: a tight one refused ordinary notes as
//     "took too long" under load.
//   * Every descriptor is close-on-exec; writes use MSG_NOSIGNAL, so a dead
//     worker never raises SIGPIPE in the server.
//   * The destructor closes the sockets and reaps every worker.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "render/engine.hpp"

namespace starpunk::render {

class IsolatedMarkdown final : public MarkdownEngine {
public:
    struct Options {
        std::string executable;                 // absolute path of the starpunk binary
        std::size_t workers = 2;
        std::size_t max_memory_bytes = 1u << 30;  // no budget above this (the worker's hard limit)
        std::chrono::milliseconds queue_wait{10000};
        int wall_factor = 5;
        std::chrono::milliseconds wall_grace{5000};
    };

    explicit IsolatedMarkdown(Options options);
    ~IsolatedMarkdown() override;
    IsolatedMarkdown(const IsolatedMarkdown&) = delete;
    IsolatedMarkdown& operator=(const IsolatedMarkdown&) = delete;

    Result<std::string> to_html(std::string_view markdown, const RenderBudget& budget) override;

    // Workers started so far (replacements included): tests and diagnostics.
    std::size_t spawned() const;

private:
    struct Worker;
    Result<Worker*> acquire();
    void release(Worker* worker);

    Options options_;
    mutable std::mutex mutex_;
    std::condition_variable free_;
    std::vector<std::unique_ptr<Worker>> workers_;
    std::vector<Worker*> idle_;
    std::size_t spawned_ = 0;
};

// The path of the running executable (/proc/self/exe), for Options::executable.
Result<std::string> current_executable();

}  // namespace starpunk::render
