#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and benchmarks: initdb + pg_ctl in a fresh
# temporary directory, listening only on a Unix socket in that directory (no TCP, no
# system service), trust authentication, superuser "pedigree".
#
#   pg_cluster.sh start [--watch PID] [--fsync on|off]
#       prints the cluster directory; connect with
#       postgresql:///postgres?host=<dir>&user=pedigree
#       --watch PID: a detached watchdog stops and deletes the cluster once PID has exited
#       (so a crashed test leaves no server behind). --fsync off (tests) skips fsync.
#   pg_cluster.sh stop DIR
#       stops the server and deletes DIR; a no-op when DIR is gone.
#
# initdb and pg_ctl refuse to run as root: as root the cluster runs as user nobody (the
# directory is handed to it). The binaries come from PG_BINDIR, PATH, or Debian's
# /usr/lib/postgresql/<version>/bin; exit status 2 with a message when none is found.
set -euo pipefail

self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")

find_bindir() {
  if [ -n "${PG_BINDIR:-}" ]; then
    [ -x "$PG_BINDIR/initdb" ] && [ -x "$PG_BINDIR/pg_ctl" ] || return 1
    echo "$PG_BINDIR"
    return
  fi
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
    return
  fi
  local d
  for d in /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
      echo "$d"
      return
    fi
  done
  return 1
}

# Runs a command as the cluster's owner: ourselves, or nobody when we are root.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u nobody -- "$@"
  else
    "$@"
  fi
}

start() {
  local watch="" fsync=on
  while [ $# -gt 0 ]; do
    case "$1" in
      --watch) watch=$2; shift 2 ;;
      --fsync) fsync=$2; shift 2 ;;
      *) echo "pg_cluster.sh: unknown option $1" >&2; exit 64 ;;
    esac
  done
  local bindir
  if ! bindir=$(find_bindir); then
    echo "pg_cluster.sh: PostgreSQL server binaries (initdb, pg_ctl) not found in PATH or" \
      "/usr/lib/postgresql/*/bin${PG_BINDIR:+ (PG_BINDIR=$PG_BINDIR)}: install postgresql-15 (scripts/deps.sh does) or set PG_BINDIR" >&2
    exit 2
  fi
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/pedigree-pg-XXXXXX")
  chmod 755 "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown nobody: "$dir"; fi
  # A working directory the owner can enter (initdb warns otherwise).
  cd "$dir"
  if ! as_owner "$bindir/initdb" -D "$dir/data" -U pedigree --auth=trust --no-locale \
      -E UTF8 --no-sync >"$dir/initdb.log" 2>&1; then
    echo "pg_cluster.sh: initdb failed:" >&2
    cat "$dir/initdb.log" >&2
    rm -rf "$dir"
    exit 1
  fi
  # listen_addresses '' = no TCP at all; the socket lives in the cluster directory.
  if ! as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses= -k $dir -c fsync=$fsync -c max_connections=40 -c shared_buffers=64MB" \
      start >"$dir/pg_ctl.log" 2>&1; then
    echo "pg_cluster.sh: the server did not start:" >&2
    cat "$dir/pg_ctl.log" "$dir/server.log" >&2 || true
    rm -rf "$dir"
    exit 1
  fi
  echo "$bindir" >"$dir/bindir"
  if [ -n "$watch" ]; then
    setsid bash -c 'while kill -0 "$0" 2>/dev/null; do sleep 1; done; exec "$1" stop "$2"' \
      "$watch" "$self" "$dir" </dev/null >/dev/null 2>&1 &
  fi
  echo "$dir"
}

stop() {
  local dir=${1:?usage: pg_cluster.sh stop DIR}
  [ -d "$dir" ] || return 0
  if [ -f "$dir/bindir" ] && [ -f "$dir/data/postmaster.pid" ]; then
    cd "$dir"
    as_owner "$(cat "$dir/bindir")/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  *) echo "usage: pg_cluster.sh start [--watch PID] [--fsync on|off] | stop DIR" >&2; exit 64 ;;
esac
