#!/usr/bin/env python3
"""Fuzzing campaign (issue 17): every libFuzzer target for SECONDS each.

Builds build/fuzz (clang, -DSTARPUNK_FUZZ=ON: libFuzzer + ASan + UBSan), then
runs each fuzz/fuzz_<name>.cpp target, JOBS at a time, on a scratch copy of
its seed corpus (fuzz/corpus/<name>/ is only read), with a 10 s per-input
timeout and leak detection. Reports per target: executions, new corpus
inputs, CPU seconds, crashes/leaks/timeouts (any of them fails the run and
leaves the input under build/fuzz/fuzz/artifacts/).

Recording (RECORD=0: none): a run of every target for SECONDS < 600 writes
`fuzz-60s-ci`. A long run (SECONDS >= 600) writes one row per target it ran,
`fuzz-long-<target>`, so the hour per target can be run a few targets at a
time (11 hours of one core in all). libFuzzer's -max_total_time is wall-clock
time: on a busy machine a target may get less CPU than that, so a long row
says PASS only when the fuzzer had at least 90 % of SECONDS of CPU time.

    bench/reliability/fuzz.sh               # 60 s per target
    SECONDS_PER_TARGET=3600 bench/reliability/fuzz.sh   # the long run, every target
    SECONDS_PER_TARGET=3600 JOBS=1 bench/reliability/fuzz.sh form json   # some of it
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
    env = dict(os.environ, CC="clang-14", CXX="clang++-14")  # Debian's clang-14 (scripts/setup.sh)
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
    with tempfile.TemporaryFile("w+", errors="replace") as err:
        p = subprocess.Popen([binary, f"-max_total_time={seconds}", "-timeout=10", "-rss_limit_mb=2048",
                              "-print_final_stats=1", f"-artifact_prefix={artifacts}/{name}-", work, seeds],
                             env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(p.pid, 0)  # this child's own CPU time
        returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        log = err.read()
    elapsed = time.monotonic() - started
    execs = re.search(r"stat::number_of_executed_units:\s+(\d+)", log)
    problem = None
    if returncode != 0:
        m = re.search(r"(ERROR: libFuzzer: [^\n]+|ERROR: AddressSanitizer: [^\n]+|ERROR: LeakSanitizer: [^\n]+"
                      r"|runtime error: [^\n]+|ALARM: [^\n]+)", log)
        problem = m.group(1) if m else f"exit {returncode}"
    return dict(name=name, execs=int(execs.group(1)) if execs else 0, new=len(os.listdir(work)),
                seconds=elapsed, cpu=usage.ru_utime + usage.ru_stime, problem=problem,
                tail="\n".join(log.splitlines()[-30:]))


def long_row(r, seconds):
    """The long-run row of one target: PASS needs no finding and ≥ 90 % of the
    time as CPU time (a starved fuzzer has not fuzzed for the time asked)."""
    if r["problem"]:
        verdict = f"FAIL: {r['problem']}"
    elif r["cpu"] < 0.9 * seconds:
        verdict = f"FAIL: only {r['cpu']:,.0f} s of CPU time of {seconds:,} s (machine busy)"
    else:
        verdict = "PASS: 0 crashes, leaks, timeouts"
    hours = f"{seconds / 3600:g} h" if seconds % 360 == 0 else f"{seconds} s"
    return dict(id=f"fuzz-long-{r['name']}", kind="long run",
                figure=f"Fuzzing: `fuzz_{r['name']}` for {hours} on top of its corpus",
                command=f"SECONDS_PER_TARGET={seconds} JOBS=1 bench/reliability/fuzz.sh {r['name']}",
                result=(f"{verdict}; {r['execs']:,} inputs in {r['seconds']:,.0f} s "
                        f"({r['cpu']:,.0f} s CPU), {r['new']:,} new corpus inputs"))


def main():
    seconds = int(os.environ.get("SECONDS_PER_TARGET", "60"))
    jobs = int(os.environ.get("JOBS", str(os.cpu_count() or 1)))
    commit = git_commit(ROOT)
    date = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    build()
    every = sorted(re.sub(r"^fuzz_|\.cpp$", "", os.path.basename(f))
                   for f in glob.glob(os.path.join(ROOT, "fuzz", "fuzz_*.cpp")))
    names = sys.argv[1:] or every
    unknown = sorted(set(names) - set(every))
    if unknown:
        sys.exit(f"fuzz: no target {', '.join(unknown)} (targets: {', '.join(every)})")
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
        print(f"  {r['name']:<22} {r['execs']:>12,} runs in {r['seconds']:6.0f} s ({r['cpu']:6.0f} s CPU), "
              f"{r['new']:>5} new inputs  {status}")
    for r in failed:
        print(f"--- {r['name']} ---\n{r['tail']}")
    total = sum(r["execs"] for r in results)
    per = ", ".join(f"{r['name']} {r['execs']:,}" for r in results)
    verdict = "FAIL" if failed else "PASS"
    result = (f"{verdict}: {len(names)} targets × {seconds} s, {len(failed)} with a crash, leak or timeout; "
              f"{total:,} inputs run ({per})")
    print(result)
    if os.environ.get("RECORD", "1") != "0":
        if seconds >= 600:
            record([long_row(r, seconds) for r in results], commit=commit, date=date)
        elif names == every:
            record([dict(id="fuzz-60s-ci", kind="CI",
                         figure="Fuzzing: every parser's target ≥ 60 s on top of the corpus; 0 crashes, leaks, timeouts",
                         command="bench/reliability/fuzz.sh (in CI: scripts/test.sh's fuzzing pass)",
                         result=result)], commit=commit, date=date)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
