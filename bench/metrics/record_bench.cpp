// Metrics recording cost (issue: metrics). Target: "recording a sampled-out
// operation: well under 1 µs". Google Benchmark; bench/metrics/run.sh builds
// and runs it (target metrics_bench, EXCLUDE_FROM_ALL).
//
// What each benchmark times, per iteration, with the public API the server
// uses (Metrics is what serve.cpp builds; the SQL observer, App::completed and
// the template observer call statement(), request() and render()):
//
//   Admit/*            MetricsBuffer::admit alone (the sampling decision):
//                      rate 0 (flag test only), rate 0.01 (one xorshift draw).
//   Statement/*        Metrics::statement(sql, took, ok=true): rate 0 and 0.01
//                      are sampled out (the main figure: the cost every SQL
//                      statement pays when database sampling is off), rate 1 is
//                      recorded (classify_sql + shorten_sql + push).
//   Request/*          Metrics::request(info): the unsampled Prometheus counters
//                      are updated whatever the rate (mutex + map lookup +
//                      histogram bucket); rate 1 also pushes a record.
//   Render/*           Metrics::render(name, took): rate 0 and rate 1.
//   */disabled         METRICS_ENABLED=false: what the instrumentation costs
//                      when metrics are off (the baseline of the HTTP test).
//   Request/1/threads:2  two threads recording into one Metrics (contention
//                      on the counters' and the buffer's mutexes).
//
// Durations passed are well below the slow threshold (1 s), and ok=true, so
// nothing is forced: sampling alone decides. The buffer is the default 1000
// records; the recorded variants run in the steady state (ring full, slots
// overwritten in place).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <string_view>

#include "metrics/metrics.hpp"

using namespace starpunk::metrics;
using namespace std::chrono_literals;

namespace {

// A statement of the shape the notes store runs for the home page.
constexpr std::string_view kSql =
    "SELECT id, slug, file_path, published, created_at, updated_at, deleted_at, content_hash, pending_hash "
    "FROM notes WHERE published = 1 AND deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT ?1 OFFSET ?2";

Settings settings(double rate, bool enabled = true) {
    Settings s;
    s.enabled = enabled;
    s.buffer_size = 1000;
    s.sampling = {rate, rate, rate};
    s.slow_threshold_seconds = 1.0;
    return s;
}

RequestInfo home_request() {
    RequestInfo info;
    info.method = "GET";
    info.route = "/";
    info.request_id = "3f2a9c1e7b6d4a58";
    info.status = 200;
    info.bytes = 9876;
    info.took = 42us;
    return info;
}

// One Metrics per (rate, enabled) for the whole process: shared by the threads
// of a ->Threads(n) run, and built outside the timed loop.
Metrics& metrics_for(double rate, bool enabled = true) {
    static Metrics off(settings(0.0));
    static Metrics hundredth(settings(0.01));
    static Metrics on(settings(1.0));
    static Metrics disabled(settings(1.0, false));
    if (!enabled) return disabled;
    if (rate == 0.0) return off;
    if (rate == 1.0) return on;
    return hundredth;
}

double rate_arg(const benchmark::State& state) { return static_cast<double>(state.range(0)) / 100.0; }

void BM_Admit(benchmark::State& state) {
    MetricsBuffer& buffer = metrics_for(rate_arg(state)).buffer();
    for (auto _ : state) {
        bool admitted = buffer.admit(Type::database);
        benchmark::DoNotOptimize(admitted);
    }
}

void BM_Statement(benchmark::State& state) {
    Metrics& m = metrics_for(rate_arg(state));
    std::string_view sql = kSql;
    auto took = 35us;
    const uint64_t before = m.buffer().recorded_total();
    for (auto _ : state) {
        benchmark::DoNotOptimize(sql);
        m.statement(sql, took, true);
    }
    // Share of the calls that pushed a record (0, about 0.01, 1).
    state.counters["recorded"] = static_cast<double>(m.buffer().recorded_total() - before) /
                                 static_cast<double>(state.iterations());
}

void BM_StatementDisabled(benchmark::State& state) {
    Metrics& m = metrics_for(1.0, false);
    std::string_view sql = kSql;
    for (auto _ : state) {
        benchmark::DoNotOptimize(sql);
        m.statement(sql, 35us, true);
    }
}

void BM_Request(benchmark::State& state) {
    Metrics& m = metrics_for(rate_arg(state));
    RequestInfo info = home_request();
    for (auto _ : state) {
        benchmark::DoNotOptimize(info);
        m.request(info);
    }
}

void BM_RequestDisabled(benchmark::State& state) {
    Metrics& m = metrics_for(1.0, false);
    RequestInfo info = home_request();
    for (auto _ : state) {
        benchmark::DoNotOptimize(info);
        m.request(info);
    }
}

void BM_Render(benchmark::State& state) {
    Metrics& m = metrics_for(rate_arg(state));
    std::string_view name = "home";
    for (auto _ : state) {
        benchmark::DoNotOptimize(name);
        m.render(name, 120us, true);
    }
}

// Context: the two clock reads every instrumented operation pays whether or
// not it is sampled (the observers time the operation before calling Metrics).
void BM_SteadyClockPair(benchmark::State& state) {
    for (auto _ : state) {
        auto a = std::chrono::steady_clock::now();
        auto b = std::chrono::steady_clock::now();
        benchmark::DoNotOptimize(b - a);
    }
}

}  // namespace

// Arg = sampling rate in percent: 0 (sampled out), 1 (0.01: one draw, almost
// always out), 100 (always recorded).
BENCHMARK(BM_Admit)->Name("Admit")->Arg(0)->Arg(1)->Arg(100);
BENCHMARK(BM_Statement)->Name("Statement")->Arg(0)->Arg(1)->Arg(100);
BENCHMARK(BM_StatementDisabled)->Name("Statement/disabled");
BENCHMARK(BM_Request)->Name("Request")->Arg(0)->Arg(100);
BENCHMARK(BM_RequestDisabled)->Name("Request/disabled");
BENCHMARK(BM_Request)->Name("Request")->Arg(0)->Arg(100)->Threads(2)->UseRealTime();
BENCHMARK(BM_Render)->Name("Render")->Arg(0)->Arg(100);
BENCHMARK(BM_SteadyClockPair)->Name("SteadyClock/pair");

BENCHMARK_MAIN();
