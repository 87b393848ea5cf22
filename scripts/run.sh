#!/usr/bin/env bash
# Sets up (deps + build) and starts StarPunk on the embedded default:
# SQLite under ./data, http://127.0.0.1:8000, and — when there is no .env —
# DEV_MODE=true so /dev/login gives you an admin session (loudly warned).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ ! -f .env ] && [ -z "${DEV_MODE:-}" ]; then
  export DEV_MODE=true
fi
exec build/release/starpunk serve "$@"
