#!/usr/bin/env bash
# Installs everything StarPunk needs to build, run and test on Debian 12, then
# builds the release binary. Idempotent: a second run installs nothing.
#   scripts/setup.sh            # deps + release build (build/release/starpunk)
#   scripts/setup.sh --deps     # deps only
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config clang-14 libclang-rt-14-dev
  # libraries
  libboost1.81-dev libboost-url1.81-dev libsqlite3-dev sqlite3 libcmark-gfm-dev
  libcmark-gfm-extensions-dev libgumbo-dev libkainjow-mustache-dev nlohmann-json3-dev libicu-dev
  libcurl4-openssl-dev libssl-dev libspdlog-dev libfmt-dev libcli11-dev libsodium-dev libvips-dev libxxhash-dev
  liblz4-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev python3 python3-pytest
  python3-mf2py python3-feedparser python3-authlib libxml2-utils curl wrk nginx-light
  # the deployment tests: the shipped Caddyfile runs in Debian's caddy, and a throwaway TLS
  # certificate (tests/e2e/test_deploy_nginx.py, test_deploy_caddy.py)
  openssl caddy
  # photos: the tests make fixtures with the vips command and judge metadata with exiftool
  libimage-exiftool-perl libvips-tools
  # the dashboard's browser test (driven by npm playwright-core; never a downloaded browser)
  chromium
  # the deterministic crash test kills the writer at each system call (tests/crash/crash_steps.py);
  # the I/O fault tests inject EIO/ENOSPC into the running server (tests/e2e/test_io_faults.py)
  strace
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  # nginx-light and caddy must not start a system server on port 80/443 during install.
  echo exit 101 | $SUDO tee /usr/sbin/policy-rc.d >/dev/null && $SUDO chmod +x /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  $SUDO rm -f /usr/sbin/policy-rc.d
fi

if [ -f package.json ]; then
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then npm ci --no-audit --no-fund; fi
fi

[ "${1:-}" = "--deps" ] && exit 0

cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo ${STARPUNK_CMAKE_ARGS:-} >/dev/null
ninja -C build/release starpunk
