#!/usr/bin/env python3
"""Fuzzing campaign (issue 17): every libFuzzer target for SECONDS each.

Builds build/fuzz (clang, -DSTARPUNK_FUZZ=ON: libFuzzer + ASan + UBSan), then
runs each fuzz/fuzz_<name>.cpp target, JOBS at a time, on a scratch copy of
its seed corpus (fuzz/corpus/<name>/ is only read), with a 10 s per-input
timeout and leak detection. Reports per target: executions, new corpus
inputs, crashes/leaks/timeouts (any of them fails the run and leaves the input
under build/fuzz/fuzz/artifacts/). Records `fuzz-60s-ci` when SECONDS < 600,
else `fuzz-1h-long` (RECORD=0: no recording).

    bench/reliability/fuzz.sh               # 60 s per target
    SECONDS_PER_TARGET=3600 bench/reliability/fuzz.sh   # the long run
"""
import concurrent.futures
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import git_commit  # noqa: E402
from record import record  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.path.join(ROOT, "build", "fuzz")


def build():
    env = dict(os.environ, CC="clang", CXX="clang++")
    subprocess.run(["cmake", "-S", ROOT, "-B", BUILD, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
                    "-DSTARPUNK_FUZZ=ON"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(["ninja", "-C", BUILD, "fuzz_targets"], check=True)


def run_target(name, seconds, scratch):
    binary = os.path.join(BUILD, "fuzz", f"fuzz_{name}")
    seeds = os.path.join(ROOT, "fuzz", "corpus", name)
    work = os.path.join(scratch, name)
    os.makedirs(work)
    artifacts = os.path.join(BUILD, "fuzz", "artifacts")
    os.makedirs(artifacts, exist_ok=True)
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=1",
               UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1")
    started = time.monotonic()
    p = subprocess.run([binary, f"-max_total_time={seconds}", "-timeout=10", "-rss_limit_mb=2048",
                        "-print_final_stats=1", f"-artifact_prefix={artifacts}/{name}-", work, seeds],
                       env=env, capture_output=True, text=True, errors="replace")
    elapsed = time.monotonic() - started
    log = p.stderr
    execs = re.search(r"stat::number_of_executed_units:\s+(\d+)", log)
    problem = None
    if p.returncode != 0:
        m = re.search(r"(ERROR: libFuzzer: [^\n]+|ERROR: AddressSanitizer: [^\n]+|ERROR: LeakSanitizer: [^\n]+"
                      r"|runtime error: [^\n]+|ALARM: [^\n]+)", log)
        problem = m.group(1) if m else f"exit {p.returncode}"
    return dict(name=name, execs=int(execs.group(1)) if execs else 0, new=len(os.listdir(work)),
                seconds=elapsed, problem=problem, tail="\n".join(log.splitlines()[-30:]))


def main():
    seconds = int(os.environ.get("SECONDS_PER_TARGET", "60"))
    jobs = int(os.environ.get("JOBS", str(os.cpu_count() or 1)))
    commit = git_commit(ROOT)
    date = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    build()
    names = sorted(re.sub(r"^fuzz_|\.cpp$", "", os.path.basename(f))
                   for f in glob.glob(os.path.join(ROOT, "fuzz", "fuzz_*.cpp")))
    print(f"fuzz: {len(names)} targets, {seconds} s each, {jobs} at a time; load {os.getloadavg()[0]:.2f}",
          flush=True)
    scratch = tempfile.mkdtemp(prefix="starpunk-fuzz-")
    try:
        with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
            results = list(pool.map(lambda n: run_target(n, seconds, scratch), names))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    failed = [r for r in results if r["problem"]]
    for r in results:
        status = f"FAIL: {r['problem']}" if r["problem"] else "ok"
        print(f"  {r['name']:<22} {r['execs']:>12,} runs in {r['seconds']:6.0f} s, {r['new']:>5} new inputs  {status}")
    for r in failed:
        print(f"--- {r['name']} ---\n{r['tail']}")
    total = sum(r["execs"] for r in results)
    per = ", ".join(f"{r['name']} {r['execs']:,}" for r in results)
    verdict = "FAIL" if failed else "PASS"
    result = (f"{verdict}: {len(names)} targets × {seconds} s, {len(failed)} with a crash, leak or timeout; "
              f"{total:,} inputs run ({per})")
    print(result)
    if os.environ.get("RECORD", "1") != "0":
        long_run = seconds >= 600
        record([dict(id="fuzz-1h-long" if long_run else "fuzz-60s-ci", kind="long run" if long_run else "CI",
                     figure=("Fuzzing: each target for an hour" if long_run else
                             "Fuzzing: every parser's target ≥ 60 s on top of the corpus; 0 crashes, leaks, timeouts"),
                     command=("SECONDS_PER_TARGET=3600 bench/reliability/fuzz.sh" if long_run else
                              "bench/reliability/fuzz.sh (in CI: scripts/test.sh's fuzzing pass)"),
                     result=result)], commit=commit, date=date)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
