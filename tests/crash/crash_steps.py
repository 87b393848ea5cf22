#!/usr/bin/python3
"""Deterministic crash test (SPEC §2.3, issue 17): a SIGKILL at each write,
sync, rename, unlink ... system call of one note operation, in turn.

For each operation (create, update, soft delete, restore, purge):

1. `<writer> DIR --prepare OP` sets up a data directory with the step note
   (tests/crash/crash_writer.cpp); a copy of it is verified to get the state
   *before*.
2. A reference run, `strace -f -o LOG <writer> COPY --one OP`, completes the
   operation; verifying its directory gives the state *after* (it must differ
   from *before*). Its log lists the operation's system calls between the two
   marker calls access("/crash-step: begin"/"end"); the *steps* are those that
   change the file system (STEP_CALLS below: writes, syncs, renames, unlinks,
   truncates, mkdirs, opens with O_CREAT; writes to stdout/stderr and to
   pipes excluded — ASan probes memory by writing to a pipe).
   Each step is identified by its syscall name and its ordinal J among that
   syscall's calls since the process started (strace counts injections per
   syscall and per tracee).
3. For step K = 1..N: a fresh copy of the prepared directory, then
   `strace -f -o LOGK -e inject=NAME:signal=SIGKILL:when=J <writer> COPY --one OP`.
   The kill lands on entry to the call, so the call itself never runs: the
   directory is left as calls 1..K-1 left it. The run must die by SIGKILL, and
   its log must end on the intended call — the same syscall, with the same
   K-1 steps before it since the begin marker — or the step counts as not
   reached (the run fails: no step can pass without its kill firing).
4. `<writer> COPY --verify` (start-up recovery, then the checks): exit 0, its
   summary line with bad=0, index_mismatch=0, integrity=ok, and the step
   note's state (row, deleted, published, content hash, pending hash, the
   file's own hash, tags) equal to *before* or to *after* — never a mix.
   Orphan files (a file without its row) are allowed only where the protocol
   leaves them — create (the file is renamed in before the row is inserted)
   and purge (the row goes before the file) — and are counted.

    crash_steps.py --writer PATH [--ops create,update,...] [--jobs N] [--keep] [--json FILE]

Exit 0 when every step of every operation passed. Needs /usr/bin/strace.
Under AddressSanitizer, LeakSanitizer cannot run in a traced process, so the
traced runs get detect_leaks=0 (the verify runs keep ASAN_OPTIONS as given).
Stdlib only; run with /usr/bin/python3.
"""
import argparse
import concurrent.futures
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

STRACE = os.environ.get("STRACE", "/usr/bin/strace")
OPS = ["create", "update", "delete", "restore", "purge"]
# Operations whose protocol may leave an orphan file (no row) after a crash.
ORPHANS_ALLOWED = {"create", "purge"}
# System calls that change the file system (or make a change durable).
STEP_CALLS = {
    "write", "pwrite64", "writev", "pwritev", "pwritev2",
    "fsync", "fdatasync", "sync_file_range", "syncfs", "sync",
    "rename", "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat",
    "unlink", "unlinkat", "rmdir", "mkdir", "mkdirat",
    "ftruncate", "truncate", "fallocate",
    "open", "openat", "openat2", "creat",
}
BEGIN, END = 'access("/crash-step: begin"', 'access("/crash-step: end"'
LINE = re.compile(r"^(\d+)\s+(?:<\.\.\. )?(\w+)\((.*)$")
SUMMARY = re.compile(r"verify: notes=(\S+) bad=(\S+) orphans=(\S+) stale_tmp_removed=(\S+) settled=(\S+) "
                     r"index_mismatch=(\S+) integrity=(\S+)")


WRITES = ("write", "writev", "pwrite64", "pwritev", "pwritev2")


def is_step(name, args, pipes):
    if name not in STEP_CALLS:
        return False
    if name in WRITES:
        fd = re.match(r"(\d+),", args)
        if fd and (fd.group(1) in ("1", "2") or fd.group(1) in pipes):
            return False  # the writer's own stdout/stderr; pipes (ASan probes memory by writing to one)
    if name in ("open", "openat", "openat2") and "O_CREAT" not in args:
        return False
    return True


def parse_log(path):
    """The log's calls as (pid, name, args, ordinal of name in pid, is a step)
    and the indexes of the begin/end markers in that list."""
    calls, counts, begin, end, pids = [], {}, None, None, set()
    pipes = set()  # descriptors that are pipes (or sockets/eventfds) now, not files
    with open(path, errors="replace") as f:
        for raw in f:
            line = raw.rstrip("\n")
            m = LINE.match(line)
            if not m or " resumed>" in line:
                continue  # +++ exited +++, --- SIG... ---, the tail of an interrupted call
            pid, name, args = m.group(1), m.group(2), m.group(3)
            pids.add(pid)
            counts[(pid, name)] = counts.get((pid, name), 0) + 1
            if line.split(None, 1)[1].startswith(BEGIN):
                begin = len(calls)
            elif line.split(None, 1)[1].startswith(END):
                end = len(calls)
            step = is_step(name, args, pipes)
            if name in ("pipe", "pipe2", "socketpair"):
                pipes.update(re.findall(r"\d+", args.split("]")[0]))
            elif name in ("socket", "eventfd", "eventfd2") or re.search(r"= \d+$", args) and name in (
                    "open", "openat", "openat2", "creat", "dup", "dup2", "dup3"):
                fd = re.search(r"= (\d+)$", args)
                if fd:
                    (pipes.add if name in ("socket", "eventfd", "eventfd2") else pipes.discard)(fd.group(1))
            elif name == "close":
                pipes.discard(args.split(")")[0])
            calls.append((pid, name, args, counts[(pid, name)], step))
    return calls, begin, end, pids


def steps_of(calls, begin, end):
    return [c for c in calls[begin + 1:end] if c[4]]


def verify(writer, data):
    v = subprocess.run([writer, data, "--verify"], capture_output=True, text=True, timeout=120)
    m = SUMMARY.search(v.stdout)
    state = next((line[len("state: "):] for line in v.stdout.splitlines() if line.startswith("state: ")), None)
    return v, (dict(zip(["notes", "bad", "orphans", "stale_tmp_removed", "settled", "index_mismatch", "integrity"],
                        m.groups())) if m else None), state


def traced_env():
    env = dict(os.environ)
    opts = [o for o in env.get("ASAN_OPTIONS", "").split(":") if o and not o.startswith("detect_leaks=")]
    env["ASAN_OPTIONS"] = ":".join(opts + ["detect_leaks=0"])
    return env


def run_step(writer, op, prepared, work, k, step, before, after):
    """One kill. Returns a dict describing the outcome; 'problems' empty = pass."""
    pid, name, args, ordinal, _ = step
    data = os.path.join(work, f"{op}-{k}")
    shutil.copytree(prepared, data)
    log = data + ".strace"
    r = subprocess.run([STRACE, "-f", "-qq", "-o", log, "-e", f"inject={name}:signal=SIGKILL:when={ordinal}",
                        writer, data, "--one", op], capture_output=True, text=True, timeout=120, env=traced_env())
    out = dict(op=op, step=k, call=f"{name}({args[:60]}", ordinal=ordinal, problems=[])
    calls, begin, end, pids = parse_log(log)
    if r.returncode != -signal.SIGKILL:
        out["problems"].append(f"not killed: exit {r.returncode} {r.stderr.strip()[-300:]}")
    if begin is None or end is not None:
        out["problems"].append("the kill did not land between the markers")
    elif not calls or (calls[-1][1], calls[-1][3]) != (name, ordinal) \
            or len(steps_of(calls, begin, len(calls) - 1)) != k - 1 or not calls[-1][2].endswith("= ?"):
        last = calls[-1] if calls else None
        out["problems"].append(f"the last call was not step {k} ({name} #{ordinal}): {last}")
    if len(pids) > 1:
        out["problems"].append(f"more than one tracee ({len(pids)}): per-tracee ordinals are ambiguous")
    v, summary, state = verify(writer, data)
    out["state"] = "before" if state == before else "after" if state == after else state
    if summary is None:
        out["problems"].append("verify printed no summary line")
    else:
        out["summary"] = summary
        if summary["bad"] != "0" or summary["index_mismatch"] != "0" or summary["integrity"] != "ok":
            out["problems"].append(f"verify found problems: {summary}")
        if summary["orphans"] != "0" and op not in ORPHANS_ALLOWED:
            out["problems"].append(f"{summary['orphans']} orphan file(s) after {op}")
    if v.returncode != 0:
        out["problems"].append(f"verify exit {v.returncode}")
    if out["state"] not in ("before", "after"):
        out["problems"].append(f"the note is in neither state: {state}")
    if out["problems"]:
        out["verify_output"] = v.stdout + v.stderr
    else:
        shutil.rmtree(data, ignore_errors=True)
        os.remove(log)
    return out


def campaign(writer, op, work, jobs):
    """All steps of one operation. Returns (report dict, list of failing step dicts)."""
    prepared = os.path.join(work, f"{op}-prepared")
    os.makedirs(prepared)
    p = subprocess.run([writer, prepared, "--prepare", op], capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        return dict(op=op, error=f"--prepare exit {p.returncode}: {p.stderr.strip()}"), []
    copy = os.path.join(work, f"{op}-before")
    shutil.copytree(prepared, copy)
    v, summary, before = verify(writer, copy)
    if v.returncode != 0 or before is None:
        return dict(op=op, error=f"the prepared directory does not verify: {v.stdout}{v.stderr}"), []
    ref = os.path.join(work, f"{op}-reference")
    shutil.copytree(prepared, ref)
    log = ref + ".strace"
    r = subprocess.run([STRACE, "-f", "-qq", "-o", log, writer, ref, "--one", op], capture_output=True, text=True,
                       timeout=120, env=traced_env())
    if r.returncode != 0 or f"done {op}" not in r.stdout:
        return dict(op=op, error=f"reference run exit {r.returncode}: {r.stderr.strip()}"), []
    v, summary, after = verify(writer, ref)
    if v.returncode != 0 or after is None:
        return dict(op=op, error=f"the reference run does not verify: {v.stdout}{v.stderr}"), []
    if after == before:
        return dict(op=op, error=f"{op} left the note as it was: {before}"), []
    calls, begin, end, pids = parse_log(log)
    if begin is None or end is None:
        return dict(op=op, error="no begin/end markers in the reference log"), []
    steps = steps_of(calls, begin, end)
    if not steps:
        return dict(op=op, error="the operation made no step call"), []
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(lambda ks: run_step(writer, op, prepared, work, ks[0], ks[1], before, after),
                                enumerate(steps, start=1)))
    kinds = {}
    for s in steps:
        kinds[s[1]] = kinds.get(s[1], 0) + 1
    report = dict(op=op, steps=len(steps), calls=kinds,
                  before=sum(1 for x in results if x["state"] == "before"),
                  after=sum(1 for x in results if x["state"] == "after"),
                  orphans=sum(1 for x in results if x.get("summary", {}).get("orphans", "0") != "0"),
                  stale_tmp_removed=sum(int(x.get("summary", {}).get("stale_tmp_removed", "0") or 0)
                                        for x in results),
                  settled=sum(int(x.get("summary", {}).get("settled", "0") or 0) for x in results),
                  failed=sum(1 for x in results if x["problems"]),
                  sequence=[f"{s[1]}" for s in steps],
                  outcomes=["B" if x["state"] == "before" else "A" if x["state"] == "after" else "?"
                            for x in results])
    return report, [x for x in results if x["problems"]]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--writer", required=True)
    ap.add_argument("--ops", default=",".join(OPS))
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--json", help="write the per-operation report here")
    args = ap.parse_args()
    ops = [o for o in args.ops.split(",") if o]
    for o in ops:
        if o not in OPS:
            ap.error(f"unknown operation {o!r}: choose from {', '.join(OPS)}")
    if not os.access(STRACE, os.X_OK):
        print(f"crash_steps: FAILED: {STRACE} not found (apt-get install strace)", flush=True)
        return 1

    work = tempfile.mkdtemp(prefix="starpunk-crash-steps-")
    print(f"crash_steps: operations {', '.join(ops)}, work {work}", flush=True)
    started = time.monotonic()
    reports, failures = [], []
    for op in ops:
        report, failed = campaign(args.writer, op, work, args.jobs)
        reports.append(report)
        failures += failed
        if "error" in report:
            print(f"crash_steps: {op}: FAILED: {report['error']}", flush=True)
            continue
        calls = ", ".join(f"{n} {c}" for n, c in sorted(report["calls"].items()))
        print(f"crash_steps: {op}: {report['steps']} steps ({calls}); after the kill: {report['before']} old state, "
              f"{report['after']} new state; orphan files {report['orphans']}, stale temp files removed "
              f"{report['stale_tmp_removed']}, pending updates settled {report['settled']}; failed {report['failed']}",
              flush=True)
        print(f"crash_steps: {op}: " + " ".join(f"{s}:{o}" for s, o in zip(report["sequence"], report["outcomes"])),
              flush=True)
    for f in failures:
        print(f"crash_steps: FAIL {f['op']} step {f['step']} {f['call']} (#{f['ordinal']}): "
              + "; ".join(f["problems"]), flush=True)
        print(f.get("verify_output", ""), flush=True)
    elapsed = time.monotonic() - started
    total = sum(r.get("steps", 0) for r in reports)
    errors = [r for r in reports if "error" in r]
    failed = bool(failures or errors or total == 0)
    print(f"crash_steps: {total} steps in {len(ops)} operations, {len(failures)} failed, "
          f"{len(errors)} operations not run, elapsed {elapsed:.1f}s", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(reports=reports, failures=len(failures), elapsed=elapsed), f, indent=1)
    if failed or args.keep:
        print(f"crash_steps: kept {work}", flush=True)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
