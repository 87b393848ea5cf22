#!/usr/bin/env bash
# Slow and idle clients (issue 17): IDLE=500 idle keep-alive + SLOW=100
# slow-header connections held HOLD=60 s while /health is probed every 200 ms
# (each must answer 200 within 100 ms), then 431/413 for oversized headers and
# bodies, then what a connection beyond MAX_CONNECTIONS sees. Exit status 0 only
# when every target is met. Fills its rows of docs/reliability.md (RECORD=0 to
# skip). See bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true   # the holder and the server need > 600 descriptors
exec /usr/bin/python3 bench/reliability/idle_clients.py "$@"
