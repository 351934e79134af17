#!/usr/bin/env bash
# Installs everything govhall needs on Debian 12 with Python 3.11: system packages (with
# retries, the dpkg lock is often held by unattended upgrades) and the .venv in the repo root.
# Idempotent: a second run installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  python3-venv xvfb xauth libmtdev1 libgl1 libgl1-mesa-dri libegl1 fonts-wqy-microhei
  espeak-ng sox alsa-utils socat postgresql chromium
  systemd  # systemd-analyze verifies the unit files in tests/ops
  libxtst6  # tests/e2e/test_demo.py taps the demo's kiosk on its virtual display (XTest)
  nginx openssl  # tests/ops/test_nginx.py: deploy/nginx/govhall.conf in front of a hall
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing system packages: ${missing[*]}"
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    if $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 update -qq &&
       $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 install -y -qq \
         --no-install-recommends "${missing[@]}"; then
      break
    fi
    [ "$attempt" -eq 10 ] && { echo "setup: apt-get failed 10 times" >&2; exit 1; }
    echo "setup: apt-get failed (attempt $attempt), retrying in 15 s" >&2
    sleep 15
  done
fi

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.govhall-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[test]'
  touch "$stamp"
fi
