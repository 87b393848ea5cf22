#!/usr/bin/env bash
# Load (issue 17): mixed reads + ~5 % Micropub creates under wrk on loopback for
# DURATION seconds (60 = the CI-sized row, DURATION=600 = the long run), with
# the server's RSS and open descriptors sampled every second. Targets: 0
# non-2xx/3xx, 0 socket errors, every 201 create in the database and on disk,
# RSS and descriptors flat. Exit status 0 only when every target is met.
# Fills its rows of docs/reliability.md (RECORD=0 to skip). See bench/README.md.
#   bench/reliability/load.sh
#   DURATION=600 bench/reliability/load.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
exec /usr/bin/python3 bench/reliability/load.py "$@"
