#!/usr/bin/env python3
"""Replace rows of the figures table in docs/reliability.md (issue 17).

The table sits between `<!-- figures:begin -->` and `<!-- figures:end -->`;
its first column is a row id. record(rows) replaces each row whose id is
given (or appends it before the end marker when there is none yet) and leaves
every other row as it is. Each row gets the date (UTC) and the commit
(`git rev-parse --short HEAD`, plus " dirty" when tracked files differ).

As a command, for shell scripts:
    record.py ID KIND FIGURE COMMAND RESULT [ID KIND FIGURE COMMAND RESULT ...]
KIND is "CI" (the figure the short, CI-sized run produces) or "long run".
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import git_commit  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DOC = os.environ.get("RELIABILITY_DOC", os.path.join(ROOT, "docs", "reliability.md"))
BEGIN, END = "<!-- figures:begin -->", "<!-- figures:end -->"


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def record(rows, commit=None, date=None, doc=DOC):
    """rows: iterable of dicts with id, kind, figure, command, result. commit
    and date default to now; a script passes those it read when it started, so
    a commit made while it ran is not credited with its figures."""
    date = date or time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    commit = commit or git_commit(ROOT)
    with open(doc) as f:
        lines = f.read().split("\n")
    try:
        begin, end = lines.index(BEGIN), lines.index(END)
    except ValueError:
        raise SystemExit(f"{doc}: no {BEGIN} ... {END} block")
    for r in rows:
        line = "| " + " | ".join(cell(x) for x in (
            f"`{r['id']}`", r["figure"], f"`{r['command']}`", r["result"], date, commit, r["kind"])) + " |"
        prefix = f"| `{r['id']}` |"
        at = next((i for i in range(begin, end) if lines[i].startswith(prefix)), None)
        if at is None:
            lines.insert(end, line)
            end += 1
        else:
            lines[at] = line
    tmp = doc + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines))
    os.replace(tmp, doc)
    print(f"record: {len(rows)} row(s) written to {os.path.relpath(doc, ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    args = sys.argv[1:]
    if not args or len(args) % 5:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    record([dict(zip(("id", "kind", "figure", "command", "result"), args[i:i + 5]))
            for i in range(0, len(args), 5)])
