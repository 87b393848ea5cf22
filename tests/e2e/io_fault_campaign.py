"""I/O faults through the running server (issue 17): the campaign shared by
tests/e2e/test_io_faults.py (CI-sized) and bench/reliability/io_faults.py (every
step, recorded in docs/reliability.md).

Injected errors: Debian's strace attaches to the server's one worker thread
(WORKERS=1; blocking routes, the note writes among them, run there) for one
request and makes its K-th write(2), pwrite64(2) (SQLite's database and WAL),
fsync(2) or fdatasync(2) fail with EIO or ENOSPC. strace counts calls per
syscall and per thread, so K counts exactly the worker's calls of that kind
during the request; a clean traced run of the same request tells how many there
are, and K walks 1..N. After each fault: the answer is an error (5xx, HTML
for the admin, JSON for Micropub; 507 for ENOSPC) that names no path or system
message, or a success when the fault hit something outside the write (a log
line); every acknowledged note is intact (row, file, hash); the failed note is
absent or wholly there; no temp file is left; the server is up and the very
next identical request, without a fault, succeeds.

Full disk: the data directory on a small tmpfs, filled with Micropub creates
and photo uploads until the server answers 507, then freed.

Servers listen on 127.0.0.1 only; every strace and request is bounded in time.
"""
import hashlib
import json
import os
import re
import select
import signal
import sqlite3
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from conftest import Server, run_cli
from test_admin import Admin
from test_micropub import SITE_URL, MockTokenEndpoint, env, post_form, post_json

# What a client must never see in an error: the data directory, a temp name,
# the system's or SQLite's own words (SPEC §12.1).
LEAKS = re.compile(r"/tmp/|/var/|\.tmp\b|\.md\b|No space left|Input/output|errno|sqlite|SQLITE|disk I/O", re.I)

SYSCALLS = ("write", "pwrite64", "fsync", "fdatasync")
STRACE_TIMEOUT = 10.0
MAX_MISSES = 4  # fresh requests tried when one makes fewer calls than K


class TraceError(RuntimeError):
    pass


@dataclass
class Trace:
    counts: dict
    injected: int
    text: str


class Tracer:
    """strace attached to one thread for the duration of a `with` block."""

    def __init__(self, tid, out, inject=None):
        self.tid, self.out, self.inject = tid, out, inject

    def __enter__(self):
        args = ["strace", "-p", str(self.tid), "-o", str(self.out), "-e", "trace=" + ",".join(SYSCALLS)]
        if self.inject:
            args += ["-e", "inject=" + self.inject]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        # strace says "Process N attached" on stderr once ptrace holds the thread.
        line = read_line(self.proc.stderr)
        if "attached" not in line:
            self.proc.kill()
            raise TraceError(f"strace did not attach to {self.tid}: {line}{self.proc.stderr.read()}")
        return self

    def __exit__(self, *exc):
        time.sleep(0.05)  # let the worker finish what follows its answer (the log line)
        self.proc.send_signal(signal.SIGINT)  # detaches
        try:
            self.proc.wait(STRACE_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise TraceError("strace did not detach")
        self.proc.stderr.close()
        text = Path(self.out).read_text(errors="replace")
        counts = {s: len(re.findall(r"^%s\(" % s, text, re.M)) for s in SYSCALLS}
        self.trace = Trace(counts, text.count("(INJECTED)"), text)
        return False


def read_line(stream, timeout=STRACE_TIMEOUT):
    """One line of a pipe, or "" after `timeout` seconds."""
    ready, _, _ = select.select([stream], [], [], timeout)
    return stream.readline() if ready else ""


def worker_tid(server, request):
    """The thread that runs blocking handlers: the one that opens a note's
    temp file while `request()` (a note write) runs under `strace -f`."""
    out = Path(server.cwd) / "find-worker.trace"
    st = subprocess.Popen(["strace", "-f", "-p", str(server.proc.pid), "-o", str(out), "-e", "trace=openat"],
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    line = read_line(st.stderr)  # "Process N attached with M threads"
    if "attached" not in line:
        st.kill()
        raise TraceError(f"strace -f did not attach to {server.proc.pid}: {line}")
    request()
    time.sleep(0.05)
    st.send_signal(signal.SIGINT)
    st.wait(STRACE_TIMEOUT)
    st.stderr.close()
    tids = {int(m.group(1)) for m in re.finditer(r"^(\d+)\s+openat\(.*/notes/.*\.tmp\"", out.read_text(), re.M)}
    if len(tids) != 1:
        raise TraceError(f"expected one thread writing notes, saw {tids}")
    return tids.pop()


# ----------------------------------------------------------------------- the store


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def rows(data):
    db = sqlite3.connect(f"file:{data / 'starpunk.db'}?mode=ro", uri=True, timeout=10)
    try:
        return db.execute("SELECT id, slug, file_path, content_hash, pending_hash, deleted_at FROM notes").fetchall()
    finally:
        db.close()


def temp_files(data):
    return sorted(str(p.relative_to(data)) for p in data.rglob("*.tmp"))


def store_problems(data, acked):
    """What is wrong with the data directory right now: a row without its file,
    a file matching neither of its row's hashes, a note file without a row, a
    temp file, or an acknowledged note missing or changed. `acked` maps slug to
    the set of contents it may hold (one, or old and new after a failed
    update) and whether it may be deleted."""
    problems = []
    notes = data / "notes"
    by_slug = {}
    for _id, slug, path, h, pending, deleted in rows(data):
        by_slug[slug] = (path, deleted)
        f = notes / path
        if not f.is_file():
            problems.append(f"row {slug}: file {path} missing")
        elif sha256(f) not in {h, pending}:
            problems.append(f"row {slug}: {path} matches neither hash (torn or foreign)")
    known = {p for p, _ in by_slug.values()}
    for f in notes.rglob("*.md"):
        if str(f.relative_to(notes)) not in known:
            problems.append(f"orphan file {f.relative_to(notes)}")
    problems += [f"temp file {t}" for t in temp_files(data)]
    for slug, want in acked.items():
        if slug not in by_slug:
            problems.append(f"acknowledged note {slug} lost")
            continue
        path, deleted = by_slug[slug]
        f = notes / path
        if f.is_file() and f.read_text() not in want["contents"]:
            problems.append(f"acknowledged note {slug} holds other content")
        if deleted and not want["may_be_deleted"]:
            problems.append(f"acknowledged note {slug} deleted")
        if not deleted and want.get("deleted"):
            problems.append(f"note {slug} acknowledged deleted is live")
    return problems


def slugs_with(data, content):
    notes = data / "notes"
    return [slug for _i, slug, path, *_ in rows(data) if (notes / path).is_file() and (notes / path).read_text() == content]


# ----------------------------------------------------------------------- the site


class FaultSite:
    """A server (WORKERS=1) with an owner's session and a Micropub token, and
    the notes it has acknowledged."""

    def __init__(self, work, extra_env=None):
        self.work = Path(work)
        self.mock = MockTokenEndpoint()
        self.env = env(self.mock, DEV_MODE="true", DEV_ADMIN_ME=self.mock.profile, WORKERS="1",
                       LOG_LEVEL="WARNING", **(extra_env or {}))
        self.work.mkdir(parents=True, exist_ok=True)
        self.server = Server(self.work, self.env)
        self.data = self.server.data
        self.token = self.mock.grant("create update delete")
        self.admin = Admin(self.server)
        self.acked = {}
        self.n = 0

    def restart(self):
        code = self.server.stop()
        assert code == 0, f"server exited with {code}:\n{self.server.output()[-3000:]}"
        self.server = Server(self.work, self.env)
        self.admin = Admin(self.server)

    def close(self):
        code = self.server.stop()
        self.mock.close()
        return code

    def unique(self, what):
        self.n += 1
        return f"{what} {self.n} " + "lorem ipsum " * 8

    # Each operation: (status, content type, body text).
    def micropub_create(self, content):
        r, body = post_form(self.server, {"h": "entry", "content": content}, self.token)
        return r.status, r.getheader("Content-Type") or "", body.decode("utf-8", "replace"), r.getheader("Location")

    def admin_create(self, content):
        r, body = self.admin.post("/admin/new", {"content": content, "slug": "", "published": "1"})
        return r.status, r.getheader("Content-Type") or "", body, r.getheader("Location")

    def micropub_update(self, slug, content):
        r, body = post_json(self.server, {"action": "update", "url": f"{SITE_URL}/note/{slug}",
                                          "replace": {"content": [content]}}, self.token)
        return r.status, r.getheader("Content-Type") or "", body.decode("utf-8", "replace"), None

    def micropub_delete(self, slug):
        r, body = post_form(self.server, {"action": "delete", "url": f"{SITE_URL}/note/{slug}"}, self.token)
        return r.status, r.getheader("Content-Type") or "", body.decode("utf-8", "replace"), None

    def acknowledge_create(self, content):
        slugs = slugs_with(self.data, content)
        assert len(slugs) >= 1, f"created note with {content[:20]!r} not found"
        for s in slugs:
            self.acked[s] = {"contents": {content}, "may_be_deleted": False}


@dataclass
class Outcome:
    op: str
    fault: str
    k: int
    status: int
    note: str  # "absent", "present", "old", "new", "deleted", "live"


@dataclass
class Report:
    injections: list = field(default_factory=list)
    failures: list = field(default_factory=list)
    beyond: list = field(default_factory=list)  # K no longer reached: the request made fewer calls

    def fail(self, what):
        self.failures.append(what)


FAULTS = (("fsync", "EIO"), ("fdatasync", "EIO"), ("write", "EIO"), ("pwrite64", "EIO"),
          ("write", "ENOSPC"), ("pwrite64", "ENOSPC"))


def is_error_answer(op, status, ctype, body, errno_name, report, label):
    """True when the answer is a proper error; records what is wrong with it."""
    ok = True
    want = 507 if errno_name == "ENOSPC" else 500
    if status != want:
        report.fail(f"{label}: status {status}, expected {want}: {body[:200]!r}")
        ok = False
    if op.startswith("micropub"):
        try:
            doc = json.loads(body)
            if set(doc) != {"error", "error_description"} or not doc["error_description"]:
                raise ValueError(doc)
        except ValueError:
            report.fail(f"{label}: not a JSON error: {ctype} {body[:200]!r}")
            ok = False
    elif not (ctype.startswith("text/html") and "<html" in body.lower()):
        report.fail(f"{label}: not an HTML error page: {ctype} {body[:200]!r}")
        ok = False
    leak = LEAKS.search(body)
    if leak:
        report.fail(f"{label}: the answer leaks {leak.group(0)!r}: {body[:300]!r}")
        ok = False
    return ok


def campaign(site, ops, ks=None, report=None, trace_dir=None):
    """Runs every fault of FAULTS at K = 1..N (or the K in ks(N) when given)
    for each operation of `ops` ("admin_create", "micropub_create",
    "micropub_update", "micropub_delete"). Returns the Report."""
    report = report or Report()
    trace_dir = Path(trace_dir or site.work)
    seed = site.unique("seed")
    assert site.micropub_create(seed)[0] == 201
    site.acknowledge_create(seed)
    finder = site.unique("find")
    tid = worker_tid(site.server, lambda: site.micropub_create(finder))
    site.acknowledge_create(finder)

    for op in ops:
        for sysc, errno_name in FAULTS:
            k, n_clean, misses = 1, None, 0
            while True:
                if n_clean is not None:
                    if k > n_clean:
                        break
                    if ks is not None and k not in ks(n_clean):
                        k += 1
                        continue
                target = None
                if op in ("micropub_update", "micropub_delete"):
                    target_content = site.unique("target")
                    st = site.micropub_create(target_content)
                    if st[0] != 201:
                        report.fail(f"{op}: creating its target answered {st[0]}")
                        break
                    site.acknowledge_create(target_content)
                    target = slugs_with(site.data, target_content)[0]
                if n_clean is None:
                    # A clean traced run tells N the first time; afterwards the
                    # clean retry after each fault does.
                    content = site.unique(op)
                    with Tracer(tid, trace_dir / "clean.trace") as t:
                        res = run_op(site, op, content, target)
                    if not succeeded(op, res[0]):
                        report.fail(f"{op}: clean run answered {res[0]}: {res[2][:200]!r}")
                        break
                    settle_success(site, op, content, target)
                    n_clean = t.trace.counts[sysc]
                    continue
                label = f"{op} {sysc}={errno_name} K={k}/{n_clean}"
                content = site.unique(op)
                before = snapshot(site, op, target)
                with Tracer(tid, trace_dir / "fault.trace", f"{sysc}:error={errno_name}:when={k}") as t:
                    res = run_op(site, op, content, target)
                if t.trace.injected == 0 and t.trace.counts[sysc] < k:
                    # This request made fewer calls than the clean one (SQLite
                    # writes as many WAL frames as the pages it touched, and a
                    # page split touches more): it went through unharmed; try
                    # K again on a fresh request. When MAX_MISSES requests in a
                    # row stay below K, K is past what the request does now.
                    misses += 1
                    if succeeded(op, res[0]):
                        settle_success(site, op, content, target)
                    else:
                        report.fail(f"{label}: answered {res[0]} although nothing was injected: {res[2][:200]!r}")
                    if misses >= MAX_MISSES:
                        report.beyond.append(f"{label}: {misses} requests in a row made {t.trace.counts[sysc]} calls")
                        n_clean, misses = t.trace.counts[sysc], 0
                    continue
                if t.trace.injected != 1:
                    report.fail(f"{label}: strace injected {t.trace.injected} times, expected once "
                                f"({t.trace.counts[sysc]} calls)")
                misses = 0
                status = res[0]
                if site.server.proc.poll() is not None:
                    report.fail(f"{label}: the server died: {site.server.output()[-2000:]}")
                    return report
                note = settle_after_fault(site, op, content, target, status, errno_name, res, report, label, before)
                report.injections.append(Outcome(op, f"{sysc}={errno_name}", k, status, note))
                for p in store_problems(site.data, site.acked):
                    report.fail(f"{label}: {p}")
                # The very next identical request, without a fault, succeeds.
                with Tracer(tid, trace_dir / "clean.trace") as t:
                    res = run_op(site, op, content, target)
                if not succeeded(op, res[0]):
                    report.fail(f"{label}: the retry without a fault answered {res[0]}: {res[2][:200]!r}")
                else:
                    settle_success(site, op, content, target)
                    n_clean = max(t.trace.counts[sysc], k)
                for p in store_problems(site.data, site.acked):
                    report.fail(f"{label}, after the retry: {p}")
                k += 1
    return report


def run_op(site, op, content, target):
    if op == "admin_create":
        return site.admin_create(content)
    if op == "micropub_create":
        return site.micropub_create(content)
    if op == "micropub_update":
        return site.micropub_update(target, content)
    if op == "micropub_delete":
        return site.micropub_delete(target)
    raise ValueError(op)


def succeeded(op, status):
    return {"admin_create": (303,), "micropub_create": (201,)}.get(op, (200, 201, 204)).__contains__(status)


def snapshot(site, op, target):
    return dict(site.acked.get(target, {})) if target else None


def settle_success(site, op, content, target):
    if op.endswith("_create"):
        site.acknowledge_create(content)
    elif op == "micropub_update":
        site.acked[target] = {"contents": {content}, "may_be_deleted": False}
    elif op == "micropub_delete":
        site.acked[target] = {"contents": site.acked[target]["contents"], "may_be_deleted": True, "deleted": True}


def settle_after_fault(site, op, content, target, status, errno_name, res, report, label, before):
    """Judges the answer and the failed note; updates what is acknowledged."""
    if succeeded(op, status):
        # The fault hit something the write does not depend on (a log line):
        # then the write must be whole.
        settle_success(site, op, content, target)
        return "acknowledged"
    is_error_answer(op, status, res[1], res[2], errno_name, report, label)
    if op.endswith("_create"):
        found = slugs_with(site.data, content)
        # Absent, or wholly present (store_problems checks its file).
        for s in found:
            site.acked[s] = {"contents": {content}, "may_be_deleted": False}
        return "present" if found else "absent"
    if op == "micropub_update":
        site.acked[target] = {"contents": before["contents"] | {content}, "may_be_deleted": False}
        return "old or new"
    if op == "micropub_delete":
        site.acked[target] = {"contents": before["contents"], "may_be_deleted": True}
        return "live or deleted"
    return "?"


def check_clean(work, env_):
    """`starpunk check` on the data directory: (exit code, output)."""
    r = run_cli(Path(work), ["check"], env={k: v for k, v in env_.items() if k not in ("PORT",)}, timeout=120)
    return r.returncode, r.stdout + r.stderr


# ----------------------------------------------------------------------- full disk


def mount_tmpfs(where, size):
    """Mounts a tmpfs of `size` (e.g. "3m") at `where`; returns None, or why it
    could not (not root, no CAP_SYS_ADMIN in this container, ...)."""
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        return f"mount -t tmpfs failed: {(r.stderr or r.stdout).strip()}"
    return None


def unmount(where):
    """Unmounts; lazily when something still holds a file there (a server that
    failed to start leaves its log open), so no test leaves a mount behind."""
    if subprocess.run(["umount", str(where)], capture_output=True, timeout=30).returncode != 0:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=30)


@dataclass
class FullDiskReport:
    creates_before_full: int = 0
    full_status: int = 0
    full_body: str = ""
    photo_status: int = 0
    photo_body: str = ""
    health_status: int = 0
    failures: list = field(default_factory=list)
    notes_at_the_end: int = 0

    def fail(self, what):
        self.failures.append(what)


def full_disk(site, photo, filler_bytes, note_bytes=24 * 1024, max_creates=400):
    """Fills the tmpfs the site's data directory lives on with Micropub creates
    until the server answers 507, checks the answers, reads and /health while
    full, then deletes a filler file (`filler_bytes` written before the server
    started) and checks writes and uploads work again. `photo`: image bytes."""
    from test_media import upload

    rep = FullDiskReport()
    filler = site.work / "filler"
    assert filler.exists(), "write the filler before starting the server"
    status = 0
    for i in range(max_creates):
        content = f"filling {i} " + ("0123456789abcdef" * (note_bytes // 16))
        status, ctype, body, _loc = site.micropub_create(content)
        if status == 201:
            site.acknowledge_create(content)
            continue
        rep.creates_before_full, rep.full_status, rep.full_body = i, status, body
        is_error_answer("micropub_create", status, ctype, body, "ENOSPC", rep, "create on the full disk")
        found = slugs_with(site.data, content)
        for s in found:  # absent, or wholly present (checked below)
            site.acked[s] = {"contents": {content}, "may_be_deleted": False}
        break
    else:
        rep.fail(f"{max_creates} creates never filled the disk")
        return rep
    if site.server.proc.poll() is not None:
        rep.fail("the server died when the disk filled: " + site.server.output()[-2000:])
        return rep
    # A photo upload on the full disk: 507 as well (or 201 if it fit).
    r, body = upload(site.server, photo, site.token)
    rep.photo_status, rep.photo_body = r.status, body.decode("utf-8", "replace")
    if r.status != 201:
        is_error_answer("micropub_media", r.status, r.getheader("Content-Type") or "", rep.photo_body, "ENOSPC", rep,
                        "photo upload on the full disk")
    # Another create is refused the same way: the server does not get stuck.
    st2 = site.micropub_create("one more " + "x" * note_bytes)
    if st2[0] != 507:
        rep.fail(f"a second create on the full disk answered {st2[0]}: {st2[2][:200]!r}")
    # Reads and /health keep working.
    r, body = site.server.request("GET", "/health")
    rep.health_status = r.status
    if r.status not in (200, 503) or not body:
        rep.fail(f"/health answered {r.status} on the full disk")
    for slug in list(site.acked)[:5]:
        r, _ = site.server.request("GET", f"/note/{slug}")
        if r.status != 200:
            rep.fail(f"/note/{slug} answered {r.status} on the full disk")
    r, _ = site.server.request("GET", "/")
    if r.status != 200:
        rep.fail(f"the home page answered {r.status} on the full disk")
    for p in store_problems(site.data, site.acked):
        rep.fail(f"on the full disk: {p}")
    # Free space: writes work again.
    filler.unlink()
    content = "after freeing space " + "y" * note_bytes
    st3 = site.micropub_create(content)
    if st3[0] != 201:
        rep.fail(f"a create after freeing space answered {st3[0]}: {st3[2][:200]!r}")
    else:
        site.acknowledge_create(content)
    r, body = upload(site.server, photo, site.token)
    if r.status != 201:
        rep.fail(f"a photo upload after freeing space answered {r.status}: {body[:200]!r}")
    for p in store_problems(site.data, site.acked):
        rep.fail(f"after freeing space: {p}")
    rep.notes_at_the_end = len(rows(site.data))
    return rep


# ----------------------------------------------------------------------- whole runs


def finish(site):
    """Stops the server, runs `starpunk check`, starts it again and checks what
    a restart finds; returns what is wrong (empty when nothing) and closes the
    site."""
    failures = []
    code = site.server.stop()
    if code != 0:
        failures.append(f"the server exited with {code}: {site.server.output()[-2000:]}")
    rc, out = check_clean(site.work, site.env)
    if rc != 0:
        failures.append(f"`starpunk check` exited {rc}: {out.strip()[-500:]}")
    site.server = Server(site.work, site.env)
    failures += [f"after a restart: {p}" for p in store_problems(site.data, site.acked)]
    for slug in list(site.acked)[-3:]:
        r, _ = site.server.request("GET", f"/note/{slug}")
        if r.status not in (200, 410):
            failures.append(f"after a restart /note/{slug} answered {r.status}")
    if site.close() != 0:
        failures.append("the restarted server did not exit 0")
    return failures


def run_injected(work, ops, ks=None):
    """The injected-error campaign on a fresh site under `work`, finished.
    Returns (Report, seconds)."""
    t0 = time.monotonic()
    site = FaultSite(Path(work) / "site")
    try:
        report = campaign(site, ops, ks=ks)
    except BaseException:
        site.close()
        raise
    report.failures += finish(site)
    return report, time.monotonic() - t0


def run_full_disk(work, size, photo):
    """The full-disk run: a tmpfs of `size` at work/small with a 1 MiB filler
    beside the data directory. Returns (None, why) when the tmpfs cannot be
    mounted, else (FullDiskReport, None)."""
    mnt = Path(work) / "small"
    why = mount_tmpfs(mnt, size)
    if why:
        return None, why
    try:
        (mnt / "filler").write_bytes(os.urandom(1024 * 1024))
        site = FaultSite(mnt)
        try:
            rep = full_disk(site, photo, 1024 * 1024)
        except BaseException:
            site.close()
            raise
        rep.failures += finish(site)
        return rep, None
    finally:
        unmount(mnt)
