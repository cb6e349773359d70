#!/usr/bin/env bash
# scripts/demo.sh: installs dependencies, builds, and runs the end-to-end demo on a
# fresh embedded SQLite ledger under ./demo (kept for inspection and reports).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh" "$root/build"
rm -rf "$root/demo"
"$root/build/app/pedigree" demo --dir "$root/demo"
