#!/usr/bin/env python3
"""The figures behind the pass/fail checks CI runs (issue 17): each check is
run as CI runs it, and its counts are recorded, not only its exit status.

  io-faults-unit      ctest -R 'FaultFs|AtomicWrite' (the fault-injecting
                      filesystem's unit tests): tests run and passed.
  fuzz-replay-ci      ctest -L fuzz: every target's seed corpus replayed;
                      targets and corpus inputs.
  hostile-browser-ci  tests/browser/hostile_input.test.mjs in Chromium:
                      payloads, pages and searches opened in each CSP mode,
                      dialogs, payload runs, page errors, problems.
  headers-crawl-ci    tests/e2e/test_route_crawl.py: routes crawled,
                      responses whose security headers were checked, forged
                      requests refused, routes the server's counters saw.

The two tests write their counts as JSON lines to the file named by
RELIABILITY_SUMMARY. Needs build/release configured (scripts/test.sh does
it; this script builds the server, the unit tests and the replay programs
first) and node_modules (`npm ci`). Writes the four rows of docs/reliability.md (RECORD=0 to skip).
Exit status 0 only when every check passes.
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from common import git_commit  # noqa: E402
from record import record  # noqa: E402

BUILD = os.path.join(ROOT, "build", "release")
BIN = os.path.join(BUILD, "starpunk")
CMD = "bench/reliability/checks.sh"


def run(argv, cwd=ROOT, env=None, timeout=900):
    started = time.monotonic()
    p = subprocess.run(argv, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout + p.stderr, time.monotonic() - started


def ctest_counts(output):
    """(passed, total) from CTest's closing line."""
    m = re.search(r"(\d+)% tests passed, (\d+) tests failed out of (\d+)", output)
    if not m:
        return 0, 0
    total = int(m.group(3))
    return total - int(m.group(2)), total


def summaries(path):
    out = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    out[r["test"]] = r
    return out


def ci_row(row_id, figure, result):
    return dict(id=row_id, kind="CI", figure=figure, command=CMD, result=result)


def stopped(code):
    return f"FAIL: the test stopped before writing its counts (exit {code}); see its output"


def tail(output, lines=15):
    return "\n".join(output.strip().splitlines()[-lines:])


def io_faults_unit():
    code, out, secs = run(["ctest", "-R", "FaultFs|AtomicWrite", "--output-on-failure"], cwd=BUILD)
    passed, total = ctest_counts(out)
    ok = code == 0 and total > 0 and passed == total
    result = (f"{'PASS' if ok else 'FAIL'}: {passed}/{total} tests passed (failed write, fsync and rename at each "
              f"step, power loss: no torn or lost file) in {secs:.0f} s")
    return ok, ci_row("io-faults-unit", "I/O faults in the write path, in process (fault-injecting filesystem: "
                      "failed write, fsync, rename; power loss)", result), out


def fuzz_replay():
    code, out, secs = run(["ctest", "-L", "fuzz", "--output-on-failure"], cwd=BUILD)
    passed, total = ctest_counts(out)
    corpus = {os.path.basename(d): len(os.listdir(d)) for d in sorted(glob.glob(os.path.join(ROOT, "fuzz", "corpus", "*")))
              if os.path.isdir(d)}
    targets = len(glob.glob(os.path.join(ROOT, "fuzz", "fuzz_*.cpp")))
    ok = code == 0 and total == targets and passed == total
    result = (f"{'PASS' if ok else 'FAIL'}: {passed}/{total} targets (of {targets}) replayed "
              f"{sum(corpus.values()):,} seed inputs without a crash, leak or timeout "
              f"({', '.join(f'{k} {v}' for k, v in corpus.items())}) in {secs:.0f} s")
    return ok, ci_row("fuzz-replay-ci", "Fuzzing: every fuzz target's seed corpus replayed", result), out


def hostile_browser(summary_file):
    code, out, secs = run(["node", "tests/browser/hostile_input.test.mjs"],
                          env={"STARPUNK_BIN": BIN, "RELIABILITY_SUMMARY": summary_file}, timeout=300)
    s = summaries(summary_file).get("hostile_input")
    modes = (s or {}).get("modes", [])
    complete = len(modes) == 2 and not any(m.get("incomplete") for m in modes)
    bad = sum(m.get(k, 0) for m in modes for k in ("dialogs", "runs", "pageErrors", "problems"))
    ok = code == 0 and complete and bad == 0
    per = "; ".join(f"{m['mode']}: {m['opened']} pages and searches opened ({m['documents']} documents), "
                    f"{m['dialogs']} dialogs, {m['runs']} payload runs, {m['pageErrors']} page errors, "
                    f"{m['problems']} problems (CSP violations, live hostile markup, injected text missing)"
                    for m in modes if complete)
    result = (f"{'PASS' if ok else 'FAIL'}: {s['payloads']} payloads through the admin form, raw form bytes, "
              f"Micropub (form, JSON html, JSON escapes) and {s['searches']} searches; {s['pages']} pages "
              f"that show them; {per}; {secs:.0f} s") if s and complete else stopped(code)
    return ok, ci_row("hostile-browser-ci", "Hostile input in headless Chromium (admin form, Micropub, search box; "
                      "CSP on and off): 0 dialogs, 0 script executions", result), out


def headers_crawl(summary_file):
    code, out, secs = run(["/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/e2e/test_route_crawl.py"],
                          env={"STARPUNK_BIN": BIN, "RELIABILITY_SUMMARY": summary_file})
    s = summaries(summary_file).get("route_crawl")
    m = re.search(r"(\d+) passed", out)
    tests = int(m.group(1)) if m else 0
    ok = code == 0 and s is not None and s["counted_by_server"] == s["routes"]
    result = (f"{'PASS' if ok else 'FAIL'}: {s['routes']} routes ({s['state_changing']} state-changing, "
              f"{s['admin']} admin), {s['responses']:,} responses with the security headers checked, "
              f"{s['refused']} forged requests (anonymous, cross-site, bad CSRF token, no token) refused with "
              f"nothing stored changed; the server's counters saw {s['counted_by_server']} of {s['routes']} "
              f"routes; {tests} tests passed; {secs:.0f} s") if s else stopped(code)
    return ok, ci_row("headers-crawl-ci", "Headers and access control: every route of the route table — security "
                      "headers; anonymous and cross-site requests refused", result), out


def main():
    commit = git_commit(ROOT)
    date = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    if not os.path.exists(os.path.join(BUILD, "build.ninja")):
        sys.exit("checks: no build/release — run scripts/test.sh (or configure the release build) first")
    replays = [f"fuzz/replay_{re.sub(r'^fuzz_|[.]cpp$', '', os.path.basename(f))}"
               for f in sorted(glob.glob(os.path.join(ROOT, "fuzz", "fuzz_*.cpp")))]
    subprocess.run(["ninja", "-C", BUILD, "starpunk", "tests/starpunk_tests", *replays], check=True)
    print(f"checks: load {os.getloadavg()[0]:.2f}", flush=True)
    rows, failed = [], []
    with tempfile.TemporaryDirectory(prefix="starpunk-checks-") as tmp:
        summary_file = os.path.join(tmp, "summary.jsonl")
        for check in (io_faults_unit, fuzz_replay, lambda: hostile_browser(summary_file),
                      lambda: headers_crawl(summary_file)):
            ok, row, out = check()
            print(f"{row['id']}: {row['result']}", flush=True)
            if not ok:
                failed.append(row["id"])
                print(tail(out), flush=True)
            rows.append(row)
    if os.environ.get("RECORD", "1") != "0":
        record(rows, commit=commit, date=date)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
