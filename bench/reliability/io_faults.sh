#!/usr/bin/env bash
# I/O faults through the running server (issue 17): strace injects EIO/ENOSPC
# into the worker thread's write, pwrite64, fsync and fdatasync at every step of
# a note's create, update and delete; then the data directory on a small tmpfs
# is filled until the server answers 507, and freed. Needs root (ptrace, mount);
# rows that cannot run say why. Exit status 0 only when every target is met.
# Fills its rows of docs/reliability.md (RECORD=0 to skip). See docs/reliability.md.
#   bench/reliability/io_faults.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
exec /usr/bin/python3 bench/reliability/io_faults.py "$@"
