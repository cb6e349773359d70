#!/usr/bin/env bash
# Runs every benchmark and prints each figure beside its target and in-run reference.
# Usage: bench/run.sh [BUILD_DIR]   (builds Release-with-debug-info first)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
"$root/scripts/build.sh" "$build" >/dev/null
# A throwaway PostgreSQL cluster (Unix socket only, fsync on) for the PostgreSQL figures
# of bench_log; stopped and deleted on exit (and by its watchdog if this script dies).
if pg_dir=$("$root/tests/common/pg_cluster.sh" start --fsync on --watch $$); then
  trap '"$root/tests/common/pg_cluster.sh" stop "$pg_dir"' EXIT
  psql -q "postgresql:///postgres?host=$pg_dir&user=pedigree" -c "CREATE DATABASE bench"
  export PEDIGREE_BENCH_PG="postgresql:///bench?host=$pg_dir&user=pedigree"
else
  echo "no PostgreSQL cluster: the PostgreSQL figures are skipped" >&2
fi
echo "# pedigree benchmarks — $(date -u +%F) — $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for b in "$build"/bench/bench_*; do
  [ -x "$b" ] || continue
  echo "## $(basename "$b")"
  "$b"
done
# The verify round trips through a real `pedigree serve` process (issue 13): the remote CLI
# and the web page in headless Chromium (skipped, exit 77, without Chromium).
echo "## cli_remote_verify"
"$root/bench/cli_remote_verify.sh" "$build/app/pedigree"
echo "## web_verify"
"$root/bench/web_verify.sh" "$build/app/pedigree" || [ $? -eq 77 ]
# Peak RSS of `pedigree serve` taking dataset uploads of two sizes (issue 18).
echo "## trial_upload"
"$root/bench/trial_upload.sh" "$build" 16 64
# The HTTP front under load (issue 18): against an nginx static 200 in the same run, with
# 10,000 idle keep-alive connections, and under 500 slowloris connections. They need wrk
# (and nginx for the ceiling); bench/run.sh skips them with a message rather than
# installing packages (bench/http_front.sh alone installs what it lacks).
chassis="$build/bench/bench_http_verify_chassis"
nginx_bin=$(command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true)
echo "## http_front"
if ! command -v wrk >/dev/null || [ -z "$nginx_bin" ]; then
  echo "# skipped: http_front needs wrk and nginx (apt-get install wrk nginx-light)"
else
  "$root/bench/http_front.sh" "$build"
fi
# Each in a subshell: the descriptor limit is raised for it alone.
echo "## http_idle_connections"
(ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
 "$root/bench/http_idle_connections.py" "$chassis" 10000) ||
  echo "# http_idle_connections failed (exit $?)"
echo "## http_slowloris"
if ! command -v wrk >/dev/null; then
  echo "# skipped: http_slowloris needs wrk (apt-get install wrk)"
else
  (ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
   "$root/bench/http_slowloris.py" "$chassis") ||
    echo "# http_slowloris failed (exit $?)"
fi
