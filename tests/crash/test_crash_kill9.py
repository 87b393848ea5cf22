"""The crash driver itself (crash_kill9.py): it must fail a run that proved
nothing, not only one that found a bad note. Fake writers (shell scripts) stand
in for crash_writer: each prints what the real one would, or leaves something out.

    /usr/bin/python3 -m pytest -q tests/crash/test_crash_kill9.py
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

DRIVER = Path(__file__).resolve().parent / "crash_kill9.py"
SUMMARY = "verify: notes=1 bad=0 orphans=0 stale_tmp_removed=0 settled=0 index_mismatch=0 integrity=ok"


def fake_writer(tmp_path, write_ops=True, verify_output=SUMMARY, verify_exit=0):
    script = tmp_path / "writer.sh"
    op_line = 'echo "op 1 create fake-note"' if write_ops else ":"
    script.write_text(f"""#!/bin/sh
if [ "$2" = "--verify" ]; then
    printf '%s\\n' '{verify_output}'
    exit {verify_exit}
fi
{op_line}
exec sleep 30
""")
    script.chmod(0o755)
    return script


def run_driver(writer):
    # The writer is killed after 300-350 ms: long enough for the script to print its op.
    # TMPDIR: the driver keeps its data directory after a failure; keep it in tmp_path.
    env = {**os.environ, "TMPDIR": str(writer.parent)}
    env.pop("CRASH_ITERATIONS", None)
    return subprocess.run([sys.executable, str(DRIVER), "--writer", str(writer), "--iterations", "2",
                           "--seed", "1", "--min-ms", "300", "--max-ms", "350"],
                          capture_output=True, text=True, timeout=60, env=env)


def test_a_clean_run_passes(tmp_path):
    r = run_driver(fake_writer(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ops=2 " in r.stdout


@pytest.mark.parametrize("verify_output", ["", "verify: notes=1 (truncated)"])
def test_a_verify_without_its_summary_fails(tmp_path, verify_output):
    r = run_driver(fake_writer(tmp_path, verify_output=verify_output))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "no summary line" in r.stdout


def test_a_run_in_which_no_operation_completed_fails(tmp_path):
    r = run_driver(fake_writer(tmp_path, write_ops=False))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "no operation completed" in r.stdout


def test_integrity_failure_in_the_summary_fails_even_with_exit_0(tmp_path):
    bad = SUMMARY.replace("integrity=ok", "integrity=FAILED")
    r = run_driver(fake_writer(tmp_path, verify_output=bad))
    assert r.returncode == 1, r.stdout + r.stderr
