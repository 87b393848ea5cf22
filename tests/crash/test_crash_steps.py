"""The deterministic crash driver itself (crash_steps.py): it must fail a step
whose kill never fired and a note left in neither its old nor its new state,
not only pass a clean run. Wrappers around the real writer and strace (shell
scripts) break one thing each. Runs the soft-delete campaign only (the
shortest); CRASH_WRITER names the writer binary.

    CRASH_WRITER=build/release/tests/starpunk_crash_writer \\
        /usr/bin/python3 -m pytest -q tests/crash/test_crash_steps.py
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

DRIVER = Path(__file__).resolve().parent / "crash_steps.py"
WRITER = os.environ.get("CRASH_WRITER", "")

pytestmark = pytest.mark.skipif(not WRITER, reason="CRASH_WRITER is not set")


def script(path, text):
    path.write_text("#!/bin/sh\n" + text)
    path.chmod(0o755)
    return path


def run_driver(tmp_path, writer=None, strace=None, ops="delete"):
    env = {**os.environ, "TMPDIR": str(tmp_path)}  # a failed run keeps its work directory
    if strace:
        env["STRACE"] = str(strace)
    return subprocess.run([sys.executable, str(DRIVER), "--writer", str(writer or WRITER), "--ops", ops],
                          capture_output=True, text=True, timeout=240, env=env)


def test_a_clean_run_passes_and_counts_its_steps(tmp_path):
    r = run_driver(tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 failed, 0 operations not run" in r.stdout
    assert " old state, 1 new state" in r.stdout  # the last step is the commit's sync: already new


def test_a_step_whose_kill_never_fired_fails(tmp_path):
    # strace without the injection: every "killed" run completes the operation.
    strace = script(tmp_path / "strace.sh", """
args=""
skip=0
for a in "$@"; do
  if [ $skip = 1 ]; then skip=0; case "$a" in inject=*) continue;; esac; args="$args -e"; fi
  if [ "$a" = "-e" ]; then skip=1; continue; fi
  args="$args '$a'"
done
eval exec /usr/bin/strace $args
""")
    r = run_driver(tmp_path, strace=strace)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "not killed: exit 0" in r.stdout
    assert "the kill did not land between the markers" in r.stdout


def test_a_note_in_neither_state_fails(tmp_path):
    # The verify after a kill reports a tag neither state has (a half-applied
    # change as the checks see it).
    writer = script(tmp_path / "writer.sh", f"""
case "$1" in
  */delete-[0-9]*) if [ "$2" = "--verify" ]; then
      "{WRITER}" "$@" | sed 's/ tags=alpha$/ tags=alpha,beta/'; exit 0; fi;;
esac
exec "{WRITER}" "$@"
""")
    r = run_driver(tmp_path, writer=writer)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "the note is in neither state" in r.stdout


def test_an_operation_that_changes_nothing_fails(tmp_path):
    # A --one that claims success without doing anything: there is nothing to
    # kill, and before = after.
    writer = script(tmp_path / "writer.sh", f"""
if [ "$2" = "--one" ]; then echo "done $3"; exit 0; fi
exec "{WRITER}" "$@"
""")
    r = run_driver(tmp_path, writer=writer)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "delete left the note as it was" in r.stdout
