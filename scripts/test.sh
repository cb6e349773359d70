#!/usr/bin/env bash
# scripts/test.sh [BUILD_DIR] [extra cmake args...]: installs dependencies, builds,
# and runs every test with CTest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
shift || true
"$root/scripts/build.sh" "$build" "$@"
cd "$build"
# A hung test fails after 15 minutes instead of holding the run (the slowest suite takes
# ~150 s under ASan): an ASan failure with server threads still running can hang in the
# sanitizer's exit path rather than end the process.
ctest --output-on-failure -j"$(nproc)" --timeout 900
