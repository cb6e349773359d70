#!/usr/bin/env bash
# scripts/test.sh [BUILD_DIR] [extra cmake args...]: installs dependencies, builds,
# and runs every test with CTest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
shift || true
"$root/scripts/build.sh" "$build" "$@"
cd "$build"
ctest --output-on-failure -j"$(nproc)"
