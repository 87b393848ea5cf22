#!/usr/bin/python3
"""Crash test driver (SPEC §2.3): kill -9 a note writer at random instants.

Each iteration starts tests/crash/crash_writer.cpp's binary on one data
directory (kept across iterations, so every start-up recovers from the
previous crash), lets it create/update/delete notes for a random 5-200 ms,
SIGKILLs it, then runs `<writer> DATA --verify` (migrations, recover(), check(),
PRAGMA integrity_check, search index vs files). Any bad note fails the run, and
so does a run that proved nothing: a verify without its summary line, or no
completed operation in the whole run.

    crash_kill9.py --writer PATH [--iterations K] [--seed S] [--keep] [--json FILE]

CRASH_ITERATIONS in the environment overrides --iterations (long runs).
Stdlib only; run with /usr/bin/python3.
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--writer", required=True)
    ap.add_argument("--iterations", type=int, default=100)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--min-ms", type=float, default=5)
    ap.add_argument("--max-ms", type=float, default=200)
    ap.add_argument("--keep", action="store_true", help="keep the data directory")
    ap.add_argument("--json", help="write the totals here (bench/reliability/crash.py records them)")
    args = ap.parse_args()
    iterations = int(os.environ.get("CRASH_ITERATIONS", args.iterations))
    seed = args.seed if args.seed is not None else int(time.time() * 1000) % 1_000_000_007
    rng = random.Random(seed)

    work = tempfile.mkdtemp(prefix="starpunk-crash-")
    data = os.path.join(work, "data")
    os.makedirs(data)
    print(f"crash_kill9: {iterations} iterations, seed {seed}, data {data}", flush=True)

    totals = dict(ops=0, creates=0, updates=0, deletes=0, purges=0, killed=0, exited=0,
                  bad=0, index_mismatch=0, integrity_failures=0, verify_failures=0, missing_summaries=0,
                  stale_tmp_removed=0, settled=0)
    last = {}
    first_failure = None
    started = time.monotonic()
    for i in range(iterations):
        writer = subprocess.Popen([args.writer, data, str(seed * 1000 + i)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(args.min_ms, args.max_ms) / 1000.0)
        if writer.poll() is None:
            writer.send_signal(signal.SIGKILL)
            totals["killed"] += 1
        out, err = writer.communicate()
        if writer.returncode != -signal.SIGKILL:
            totals["exited"] += 1
            print(f"[{i}] writer exited by itself with {writer.returncode}: {err.decode(errors='replace').strip()}",
                  flush=True)
        for line in out.decode(errors="replace").splitlines():
            m = re.match(r"op \d+ (\w+)", line)
            if m:
                totals["ops"] += 1
                kind = m.group(1)
                key = {"create": "creates", "update": "updates", "delete": "deletes", "purge": "purges"}.get(kind)
                if key:
                    totals[key] += 1

        v = subprocess.run([args.writer, data, "--verify"], capture_output=True, timeout=120)
        text = v.stdout.decode(errors="replace")
        m = re.search(r"verify: notes=(\S+) bad=(\S+) orphans=(\S+) stale_tmp_removed=(\S+) settled=(\S+) "
                      r"index_mismatch=(\S+) integrity=(\S+)", text)
        if m:
            last = dict(zip(["notes", "bad", "orphans", "stale_tmp_removed", "settled", "index_mismatch",
                             "integrity"], m.groups()))
            for k in ("bad", "stale_tmp_removed", "settled", "index_mismatch"):
                if last[k].isdigit():
                    totals[k] += int(last[k])
            if last["integrity"] != "ok":
                totals["integrity_failures"] += 1
        else:
            totals["missing_summaries"] += 1
            print(f"[{i}] verify printed no summary line", flush=True)
        if v.returncode != 0 or m is None or writer.returncode not in (-signal.SIGKILL,):
            totals["verify_failures"] += v.returncode != 0
            print(f"[{i}] verify exit {v.returncode}:\n{text}{v.stderr.decode(errors='replace')}", flush=True)
            if first_failure is None:
                first_failure = os.path.join(work, f"failure-{i}")
                shutil.copytree(data, first_failure)
                print(f"[{i}] data directory copied to {first_failure}", flush=True)

    elapsed = time.monotonic() - started
    print(f"crash_kill9: iterations={iterations} killed={totals['killed']} exited_early={totals['exited']} "
          f"ops={totals['ops']} (creates={totals['creates']} updates={totals['updates']} "
          f"deletes={totals['deletes']} purges={totals['purges']})", flush=True)
    print(f"crash_kill9: final notes={last.get('notes')} orphans={last.get('orphans')} "
          f"stale_tmp_removed={totals['stale_tmp_removed']} pending_updates_settled={totals['settled']}", flush=True)
    print(f"crash_kill9: BAD NOTES={totals['bad']} index_mismatch={totals['index_mismatch']} "
          f"integrity_failures={totals['integrity_failures']} verify_failures={totals['verify_failures']} "
          f"missing_summaries={totals['missing_summaries']} elapsed={elapsed:.1f}s seed={seed}", flush=True)
    if totals["ops"] == 0:
        print("crash_kill9: FAILED: no operation completed in the whole run, so nothing was tested", flush=True)
    failed = (totals["verify_failures"] > 0 or totals["exited"] > 0 or totals["bad"] > 0
              or totals["index_mismatch"] > 0 or totals["integrity_failures"] > 0
              or totals["missing_summaries"] > 0 or totals["ops"] == 0)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(iterations=iterations, seed=seed, elapsed=elapsed, failed=failed,
                           final_notes=last.get("notes"), final_orphans=last.get("orphans"), **totals), f, indent=1)
    if failed or args.keep:
        print(f"crash_kill9: kept {work}", flush=True)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
