#!/usr/bin/env python3
"""I/O faults through the running server (issue 17), the whole campaign:

1. strace injects EIO into fsync/fdatasync and EIO and ENOSPC into
   write/pwrite64 at every step K = 1..N of the server's worker thread during
   a note's create (admin form, Micropub), update and delete (Micropub);
2. the data directory on a small tmpfs, filled with Micropub creates and a
   photo upload until the server answers 507, then freed.

The campaign is tests/e2e/io_fault_campaign.py (tests/e2e/test_io_faults.py
runs a CI-sized sample of it). Writes the `io-faults-server` and
`io-faults-full-disk` rows of docs/reliability.md (RECORD=0 to skip). Exit
status 0 only when every target is met.
"""
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
os.environ.setdefault("STARPUNK_BIN", os.path.join(ROOT, "build", "release", "starpunk"))
from common import git_commit  # noqa: E402
from record import record  # noqa: E402
import io_fault_campaign as campaign  # noqa: E402
from test_io_faults import OPS, ptrace_refused  # noqa: E402
from test_media import make_image  # noqa: E402

env = os.environ.get
RECORD = env("RECORD", "1") == "1"
KEEP_TMP = env("KEEP_TMP", "0") == "1"
TMPFS_SIZE = env("TMPFS_SIZE", "4m")
CMD = "bench/reliability/io_faults.sh"


def log(msg):
    print(f"io_faults: {msg}", file=sys.stderr, flush=True)


def injected(work):
    why = ptrace_refused()
    if why:
        return False, f"not run: {why}"
    report, took = campaign.run_injected(work, OPS)
    for f in report.failures[:20]:
        log("FAIL " + f)
    if report.failures:
        return False, f"{len(report.failures)} failures, first: {report.failures[0]}"
    for b in report.beyond:
        log("K no longer reached: " + b)
    by_status = Counter(o.status for o in report.injections)
    per_op = Counter(o.op for o in report.injections)
    notes = Counter(o.note for o in report.injections if o.op.endswith("_create") and o.status >= 500)
    return True, (f"{len(report.injections)} injections, each fired once ("
                  + ", ".join(op.replace("_", " ") + f" {n}" for op, n in per_op.items()) + "); answers "
                  + ", ".join(f"{n}× {s}" for s, n in sorted(by_status.items()))
                  + f"; failed creates {notes.get('absent', 0)} absent, {notes.get('present', 0)} whole; 0 "
                  f"acknowledged notes lost, 0 temp or orphan files, every retry succeeded, `starpunk check` "
                  f"exit 0, restart clean; {len(report.beyond)} K past the calls the request made by then "
                  f"(SQLite's WAL frames vary by a few); {took:.0f} s")


def full(work):
    rep, why = campaign.run_full_disk(work, TMPFS_SIZE, make_image(work, "jpg", 400, 300))
    if why:
        return False, f"not run: {why}"
    for f in rep.failures:
        log("FAIL " + f)
    if rep.failures:
        return False, f"{len(rep.failures)} failures, first: {rep.failures[0]}"
    desc = json.loads(rep.full_body).get("error_description", "")
    return True, (f"tmpfs {TMPFS_SIZE}, 1 MiB filler: {rep.creates_before_full} creates of 24 KB fit, then "
                  f"{rep.full_status} \"{desc}\"; photo upload {rep.photo_status}; /health {rep.health_status}, "
                  f"home and permalinks 200 while full; after deleting the filler: create 201, photo 201, "
                  f"{rep.notes_at_the_end} notes, `starpunk check` exit 0, restart clean")


def main():
    started = (git_commit(ROOT), time.strftime("%Y-%m-%d %H:%M", time.gmtime()))
    work = Path(tempfile.mkdtemp(prefix="starpunk-io-faults.", dir=env("TMPDIR", "/var/tmp")))
    log(f"work directory {work}; load average {' '.join(open('/proc/loadavg').read().split()[:3])}")
    try:
        ok1, res1 = injected(work)
        log(("PASS " if ok1 else "FAIL ") + res1)
        ok2, res2 = full(work)
        log(("PASS " if ok2 else "FAIL ") + res2)
    finally:
        if not KEEP_TMP:
            shutil.rmtree(work, ignore_errors=True)
    if RECORD:
        verdict = lambda ok: "PASS" if ok else "**FAIL**"
        record([
            {"id": "io-faults-server", "kind": "CI", "command": CMD,
             "figure": "I/O faults through the server (strace into its worker thread): EIO on fsync/fdatasync, EIO and "
                       "ENOSPC on write/pwrite64 at every step K of a create (admin form, Micropub), update and "
                       "delete (Micropub); 5xx HTML/JSON (507 for ENOSPC) without paths, nothing acknowledged lost, "
                       "failed note absent or whole, no temp files, server up, the next identical request succeeds",
             "result": f"{verdict(ok1)}: {res1}"},
            {"id": "io-faults-full-disk", "kind": "CI", "command": CMD,
             "figure": "Full disk: data directory on a small tmpfs filled by Micropub creates and a photo upload; "
                       "507 JSON saying the disk is full, nothing acknowledged lost, reads and /health keep working, "
                       "writes resume once a file is deleted, `starpunk check` clean",
             "result": f"{verdict(ok2)}: {res2}"},
        ], commit=started[0], date=started[1])
    print(f"injected errors: {'PASS' if ok1 else 'FAIL'}: {res1}")
    print(f"full disk: {'PASS' if ok2 else 'FAIL'}: {res2}")
    print(f"OVERALL: {'PASS' if ok1 and ok2 else 'FAIL'}")
    return 0 if ok1 and ok2 else 1


if __name__ == "__main__":
    sys.exit(main())
