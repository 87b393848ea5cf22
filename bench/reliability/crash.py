#!/usr/bin/env python3
"""Crashes (issue 17): runs the two crash drivers against the release build's
writer and records their figures in docs/reliability.md.

- tests/crash/crash_kill9.py: SIGKILL at random instants during mixed
  create/update/delete/restore/purge, 100 kills (`crash-random-ci`); with
  LONG=1 also 1,000 kills (`crash-random-long`, ~10 minutes).
- tests/crash/crash_steps.py: a SIGKILL at each file-system call of each
  operation in turn (`crash-steps`).

Environment: BUILD (build/release), LONG (0), ITERATIONS (100),
LONG_ITERATIONS (1000), RECORD (1; 0 leaves docs/reliability.md alone),
SEED (random). Exit 0 only when every run passed. The CTests crash_kill9 and
crash_steps run the same drivers but never write into the source tree.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import git_commit  # noqa: E402
from record import record  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
env = os.environ.get
BUILD = os.path.join(ROOT, env("BUILD", "build/release"))
WRITER = os.path.join(BUILD, "tests", "starpunk_crash_writer")
LONG = env("LONG", "0") == "1"
ITERATIONS = int(env("ITERATIONS", "100"))
LONG_ITERATIONS = int(env("LONG_ITERATIONS", "1000"))
RECORD = env("RECORD", "1") == "1"
SEED = env("SEED")


def verdict(ok):
    return "PASS" if ok else "**FAIL**"


def run_json(cmd, extra_env=None):
    """Runs a driver with --json, echoing its output; returns (exit code, its JSON or None)."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    try:
        child_env = {k: v for k, v in os.environ.items() if k != "CRASH_ITERATIONS"}
        child_env.update(extra_env or {})
        r = subprocess.run(cmd + ["--json", out], env=child_env)
        try:
            with open(out) as f:
                return r.returncode, json.load(f)
        except (OSError, ValueError):
            return r.returncode, None
    finally:
        os.path.exists(out) and os.remove(out)


def kill9(iterations):
    cmd = ["/usr/bin/python3", os.path.join(ROOT, "tests", "crash", "crash_kill9.py"), "--writer", WRITER,
           "--iterations", str(iterations)]
    if SEED:
        cmd += ["--seed", SEED]
    rc, t = run_json(cmd)
    if t is None:
        return False, f"**FAIL**: crash_kill9.py exit {rc} without its totals"
    ok = rc == 0 and not t["failed"] and t["killed"] >= iterations * 0.95
    result = (f"{verdict(ok)}: {t['killed']:,} kills of {t['iterations']:,} runs ({t['exited']} writers exited by "
              f"themselves), {t['ops']:,} operations completed between kills ({t['creates']:,} creates, "
              f"{t['updates']:,} updates, {t['deletes']:,} soft deletes, {t['purges']:,} purges, the rest "
              f"restores); after each kill: {t['bad']} bad notes (missing file or hash mismatch), "
              f"{t['index_mismatch']} search-index mismatches, {t['integrity_failures']} integrity failures, "
              f"{t['verify_failures']} failed verifies; start-ups removed {t['stale_tmp_removed']:,} stale temp "
              f"files and settled {t['settled']:,} interrupted updates; {t['final_notes']} notes and "
              f"{t['final_orphans']} orphan files (allowed) at the end; {t['elapsed']:.0f} s, seed {t['seed']}")
    return ok, result


def steps():
    cmd = ["/usr/bin/python3", os.path.join(ROOT, "tests", "crash", "crash_steps.py"), "--writer", WRITER,
           "--jobs", "2"]
    rc, t = run_json(cmd)
    if t is None:
        return False, f"**FAIL**: crash_steps.py exit {rc} without its report"
    reports = t["reports"]
    errors = [r for r in reports if "error" in r]
    total = sum(r.get("steps", 0) for r in reports)
    ok = rc == 0 and not errors and t["failures"] == 0 and total > 0
    names = {"delete": "soft delete"}
    parts = []
    for r in reports:
        if "error" in r:
            parts.append(f"{r['op']}: not run ({r['error'][:80]})")
            continue
        calls = ", ".join(f"{c} {n}" for n, c in sorted(r["calls"].items()))
        extra = f"; {r['orphans']} left an orphan file" if r["orphans"] else ""
        parts.append(f"{names.get(r['op'], r['op'])} {r['steps']} ({calls}) → {r['before']} old, {r['after']} new"
                     f"{extra}")
    result = (f"{verdict(ok)}: {total} steps, every kill on its call; " + "; ".join(parts)
              + f"; {t['failures']} failed (integrity, row without file, torn file, or a state neither old nor new);"
              f" {t['elapsed']:.0f} s")
    return ok, result


def main():
    if not os.access(WRITER, os.X_OK):
        print(f"crash: {WRITER} not found: ninja -C {os.path.relpath(BUILD, ROOT)} starpunk_crash_writer",
              file=sys.stderr)
        return 2
    started = (git_commit(ROOT), time.strftime("%Y-%m-%d %H:%M", time.gmtime()))
    print(f"# Crashes — {started[1]} UTC, commit {started[0]}, load average {os.getloadavg()[0]:.2f}", flush=True)
    rows, ok_all = [], True

    ok, result = kill9(ITERATIONS)
    ok_all &= ok
    print(f"crash-random-ci: {result}", flush=True)
    rows.append({"id": "crash-random-ci", "kind": "CI", "command": "bench/reliability/crash.sh",
                 "figure": f"Crashes: SIGKILL at {ITERATIONS} random instants (5–200 ms into each run) during mixed "
                           "create/update/delete/restore/purge; after each, start-up recovery and verify: 0 "
                           "integrity failures, 0 rows without their file, 0 torn files",
                 "result": result})
    if LONG:
        ok, result = kill9(LONG_ITERATIONS)
        ok_all &= ok
        print(f"crash-random-long: {result}", flush=True)
        rows.append({"id": "crash-random-long", "kind": "long run", "command": "LONG=1 bench/reliability/crash.sh",
                     "figure": f"Crashes: the same with {LONG_ITERATIONS:,} kills", "result": result})
    ok, result = steps()
    ok_all &= ok
    print(f"crash-steps: {result}", flush=True)
    rows.append({"id": "crash-steps", "kind": "CI", "command": "bench/reliability/crash.sh",
                 "figure": "Crashes, deterministic: a SIGKILL (strace inject) on entry to each file-system call "
                           "(write, fsync, rename, unlink, …) of create, update, soft delete, restore and purge in "
                           "turn; after each, start-up recovery and verify: 0 integrity failures, 0 rows without "
                           "their file, 0 torn files, the note wholly in its old or its new state",
                 "result": result})
    print(f"OVERALL: {'PASS' if ok_all else 'FAIL'}", flush=True)
    if RECORD:
        record(rows, *started)
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())
