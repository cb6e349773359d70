#!/usr/bin/env bash
# Runs every benchmark and prints each figure beside its target and in-run reference.
# Usage: bench/run.sh [BUILD_DIR]   (builds Release-with-debug-info first)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
"$root/scripts/build.sh" "$build" >/dev/null
echo "# pedigree benchmarks — $(date -u +%F) — $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for b in "$build"/bench/bench_*; do
  [ -x "$b" ] || continue
  echo "## $(basename "$b")"
  "$b"
done
