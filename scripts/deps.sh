#!/usr/bin/env bash
# Installs the Debian 12 packages pedigree builds and tests with, when missing.
# Runs apt-get only if something is absent, so repeated runs are fast.
set -euo pipefail
packages=(build-essential cmake ninja-build pkg-config
  libpoco-dev libsqlite3-dev libssl-dev libzxing-dev libboost-test-dev libstb-dev libsodium-dev
  libturbojpeg0-dev
  golang-go golang-golang-x-mod-dev sqlite3 wrk python3
  libpq-dev postgresql-15
  chromium) # headless: the report print test (tests/print) and the web app test (tests/browser)
# The EPCIS interop test (tests/epcis) installs its validators with npm.
command -v node >/dev/null || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
