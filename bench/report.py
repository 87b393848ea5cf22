#!/usr/bin/env python3
"""Turn the raw measurements of bench/http_bench.sh into a markdown report.

    report.py WORKDIR

WORKDIR holds (all tab-separated, written by http_bench.sh):
  meta.tsv   key, value                       (settings and environment)
  runs.tsv   scenario, conns, server, round, <wrk fields>
  idle.tsv   condition, <wrk fields>, open_at_end
  targets.tsv scenario, target                 (scenarios whose target is not TARGET)
where <wrk fields> are the key=value pairs of wrk_summary.lua's BENCH line.

Exit status is 0 even when a target is missed; the verdicts are in the text
(the last line is `OVERALL: PASS` or `OVERALL: FAIL`).
"""
import statistics
import sys
from pathlib import Path

WRK_FIELDS = ["requests", "duration_us", "bytes", "rps", "p50_us", "p90_us", "p99_us", "max_us",
              "mean_us", "err_connect", "err_read", "err_write", "err_status", "err_timeout", "cpu_us"]


def read_tsv(path: Path):
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        if line.strip():
            rows.append(line.split("\t"))
    return rows


def parse_bench(fields):
    out = {}
    for f in fields:
        k, _, v = f.partition("=")
        if k in WRK_FIELDS:
            out[k] = float(v)
    return out


def ms(us: float) -> str:
    return f"{us / 1000:.3f}"


def rps(x: float) -> str:
    return f"{x:,.0f}"


def errors(r) -> int:
    return int(sum(r.get(k, 0) for k in ("err_connect", "err_read", "err_write", "err_status", "err_timeout")))


def cpu_per_request(r):
    """Server CPU µs per request over the run (None when not measured)."""
    if "cpu_us" not in r or r.get("requests", 0) <= 0:
        return None
    return r["cpu_us"] / r["requests"]


def server_label(server: str) -> str:
    if server.startswith("starpunk:"):
        return f"starpunk (LOG_LEVEL={server.split(':', 1)[1]})"
    return server


def main() -> int:
    work = Path(sys.argv[1])
    meta = {row[0]: row[1] if len(row) > 1 else "" for row in read_tsv(work / "meta.tsv")}
    target = float(meta.get("target", "0.8"))
    idle_p99_ms = float(meta.get("idle_p99_ms", "1"))
    idle_n = int(meta.get("idle_conns", "500"))
    main_server = meta.get("main_server", "starpunk:WARNING")
    targets = {row[0]: float(row[1]) for row in read_tsv(work / "targets.tsv") if len(row) > 1}

    runs = {}  # (scenario, conns) -> server -> round -> stats
    order = []
    servers = []
    for row in read_tsv(work / "runs.tsv"):
        scenario, conns, server, rnd = row[0], int(row[1]), row[2], int(row[3])
        key = (scenario, conns)
        if key not in runs:
            runs[key] = {}
            order.append(key)
        if server not in servers:
            servers.append(server)
        runs[key].setdefault(server, {})[rnd] = parse_bench(row[4:])
    starpunks = [s for s in servers if s.startswith("starpunk:")]
    starpunks.sort(key=lambda s: s != main_server)  # main comparison first

    out = []
    w = out.append
    w(f"# StarPunk HTTP benchmark — {meta.get('date', '')}")
    w("")
    w("| setting | value |")
    w("|---|---|")
    for k in ("commit", "starpunk", "nginx", "wrk", "kernel", "cpu", "loadavg_start", "loadavg_end", "pinning",
              "rounds", "duration", "warmup", "wrk_threads", "starpunk_workers", "nginx_headers"):
        if k in meta:
            w(f"| {k} | {meta[k]} |")
    w("")
    w(f"Main comparison: **{server_label(main_server)} vs nginx**. "
      + ("Other starpunk rows are informational (INFO writes one access-log line per request). "
         if len(starpunks) > 1 else "")
      + f"Ratio = starpunk req/s ÷ nginx req/s in the same round; target: median ratio ≥ {target}"
      + ("".join(f"; {k}: ≥ {v:g}" for k, v in targets.items())) + ".")
    w("")

    verdicts = []  # (scenario label, server, median ratio, pass)
    cpu_ratio = {}  # (title, server) -> nginx CPU/request ÷ starpunk CPU/request
    for key in order:
        scenario, conns = key
        by_server = runs[key]
        rounds = sorted(by_server.get("nginx", {}).keys())
        title = f"{scenario}, {conns} connections"
        w(f"## {title}")
        w("")
        head = ["round"] + [f"{server_label(s)} req/s" for s in starpunks] + ["nginx req/s"] \
            + [f"ratio {s.split(':', 1)[1]}" for s in starpunks]
        w("| " + " | ".join(head) + " |")
        w("|" + "---|" * len(head))
        ratios = {s: [] for s in starpunks}
        for r in rounds:
            ng = by_server["nginx"][r]["rps"]
            cells = [str(r)]
            for s in starpunks:
                cells.append(rps(by_server[s][r]["rps"]) if r in by_server.get(s, {}) else "—")
            cells.append(rps(ng))
            for s in starpunks:
                if r in by_server.get(s, {}) and ng > 0:
                    ratio = by_server[s][r]["rps"] / ng
                    ratios[s].append(ratio)
                    cells.append(f"{ratio:.3f}")
                else:
                    cells.append("—")
            w("| " + " | ".join(cells) + " |")
        med_cells = ["**median**"]
        for s in starpunks + ["nginx"]:
            vals = [v["rps"] for v in by_server.get(s, {}).values()]
            med_cells.append(rps(statistics.median(vals)) if vals else "—")
        for s in starpunks:
            if ratios[s]:
                m = statistics.median(ratios[s])
                goal = targets.get(scenario, target)
                ok = m >= goal
                verdicts.append((title, s, m, ok, min(ratios[s]), max(ratios[s]), goal))
                med_cells.append(f"**{m:.3f}** {'PASS' if ok else 'FAIL'}")
            else:
                med_cells.append("—")
        w("| " + " | ".join(med_cells) + " |")
        w("")
        w("| server | median req/s | p50 ms (median of rounds) | p99 ms (median of rounds) | worst p99 ms "
          "| bytes/response | server CPU µs/request (median) | errors |")
        w("|---|---|---|---|---|---|---|---|")
        for s in starpunks + ["nginx"]:
            vals = list(by_server.get(s, {}).values())
            if not vals:
                continue
            bpr = statistics.median(v["bytes"] / v["requests"] for v in vals if v["requests"] > 0)
            cpus = [c for c in (cpu_per_request(v) for v in vals) if c is not None]
            cpu = f"{statistics.median(cpus):.1f}" if cpus else "—"
            w(f"| {server_label(s)} | {rps(statistics.median(v['rps'] for v in vals))} "
              f"| {ms(statistics.median(v['p50_us'] for v in vals))} "
              f"| {ms(statistics.median(v['p99_us'] for v in vals))} "
              f"| {ms(max(v['p99_us'] for v in vals))} | {bpr:.0f} | {cpu} | {sum(errors(v) for v in vals)} |")
        ng_cpu = [c for c in (cpu_per_request(v) for v in by_server.get("nginx", {}).values()) if c is not None]
        for s in starpunks:
            sp_cpu = [c for c in (cpu_per_request(v) for v in by_server.get(s, {}).values()) if c is not None]
            if ng_cpu and sp_cpu and statistics.median(sp_cpu) > 0:
                cpu_ratio[(title, s)] = statistics.median(ng_cpu) / statistics.median(sp_cpu)
        w("")

    # Idle keep-alive connections.
    idle_rows = read_tsv(work / "idle.tsv")
    idle_ok = None
    if idle_rows:
        w(f"## /health on a fresh connection with {idle_n} idle keep-alive connections held open")
        w("")
        w(f"wrk, 1 connection, against {server_label(main_server)}; "
          f"target: p99 ≤ {idle_p99_ms:g} ms with the idle connections held.")
        w("")
        w("| condition | req/s | p50 ms | p99 ms | max ms | errors | idle conns still open at end |")
        w("|---|---|---|---|---|---|---|")
        with_idle = None
        for row in idle_rows:
            cond = row[0]
            st = parse_bench(row[1:-1])
            open_at_end = row[-1]
            w(f"| {cond} | {rps(st['rps'])} | {ms(st['p50_us'])} | {ms(st['p99_us'])} | {ms(st['max_us'])} "
              f"| {errors(st)} | {open_at_end} |")
            if cond.startswith("with"):
                with_idle = (st, open_at_end)
        w("")
        if with_idle:
            st, open_at_end = with_idle
            held = open_at_end.isdigit() and int(open_at_end) == idle_n
            idle_ok = st["p99_us"] <= idle_p99_ms * 1000 and held and errors(st) == 0
            why = []
            if st["p99_us"] > idle_p99_ms * 1000:
                why.append(f"p99 {ms(st['p99_us'])} ms > {idle_p99_ms:g} ms")
            if not held:
                why.append(f"only {open_at_end} of {idle_n} idle connections were still open at the end")
            if errors(st):
                why.append(f"{errors(st)} wrk errors")
            w(f"Result: **{'PASS' if idle_ok else 'FAIL'}**" + (f" ({'; '.join(why)})" if why else ""))
            w("")

    # Summary.
    w("## Summary")
    w("")
    w("| scenario | starpunk | median ratio to nginx | min–max over rounds | target | result "
      "| CPU/request, nginx ÷ starpunk |")
    w("|---|---|---|---|---|---|---|")
    overall = True
    for title, s, m, ok, lo, hi, goal in verdicts:
        main = s == main_server
        if main:
            overall = overall and ok
        cr = cpu_ratio.get((title, s))
        w(f"| {title} | {server_label(s)}{'' if main else ' (info)'} | {m:.3f} | {lo:.3f}–{hi:.3f} "
          f"| ≥ {goal:g} | {'PASS' if ok else 'FAIL'} | {f'{cr:.2f}' if cr else '—'} |")
    if idle_ok is not None:
        overall = overall and idle_ok
        w(f"| /health p99 with {idle_n} idle conns | {server_label(main_server)} | — | — "
          f"| p99 ≤ {idle_p99_ms:g} ms | {'PASS' if idle_ok else 'FAIL'} | — |")
    w("")
    if meta.get("noisy"):
        w(f"> Note: {meta['noisy']}")
        w("")
    w(f"OVERALL: {'PASS' if overall else 'FAIL'} (verdict uses {server_label(main_server)} only)")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
