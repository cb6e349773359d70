#!/usr/bin/env bash
# Leader failover on PostgreSQL (issue 16, Performance: "time from kill to the first
# acknowledged write on the new leader, p99 <= 5 s"): three `pedigree serve` on one
# throwaway cluster under a continuous commission load; the sequencer is killed with
# SIGKILL KILLS times (and restarted as a follower). Each failover is the time from the
# kill to the acknowledgement of the first write sent after it (through a surviving node).
# Prints p50/p99 beside the target, with the same loss/duplicate/audit checks as the CTest
# pg_failover.
# Usage: bench/pg_failover.sh PEDIGREE_BINARY [KILLS=20] [LEASE_POLL_MS=500]
set -euo pipefail
pedigree=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
export FAILOVER_KILLS=${2:-20}
export FAILOVER_LEASE_POLL_MS=${3:-500}
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
exec python3 "$here/../tests/durability/pg_failover.py" "$pedigree"
