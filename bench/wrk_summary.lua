-- wrk reporter used by bench/http_bench.sh.
-- Prints one machine-readable line with exact percentiles (wrk keeps latency
-- in microseconds), so nothing has to be parsed out of wrk's rounded text.
-- Works with any thread count: done() runs once, on the aggregated stats.

done = function(summary, latency, requests)
   local e = summary.errors
   local secs = summary.duration / 1e6
   local rps = 0
   if secs > 0 then rps = summary.requests / secs end
   io.write(string.format(
      "BENCH requests=%d duration_us=%d bytes=%d rps=%.2f" ..
      " p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.2f" ..
      " err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
      summary.requests, summary.duration, summary.bytes, rps,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max, latency.mean,
      e.connect, e.read, e.write, e.status, e.timeout))
end
