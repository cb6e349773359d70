#!/usr/bin/env bash
# Remote CLI verify (issue 13, Performance): wall time of one `pedigree verify --server URL
# --token T --code C` invocation against `pedigree serve` on loopback (process start, TLS-less
# HTTP/1.1 to 127.0.0.1, GET /v1/verify, verdict printed), N times in a row. Target: <= 20 ms
# per invocation. In-run reference: the same number of `pedigree --version` spawns (what any
# invocation of the binary costs before it does anything), and the ratio.
# Usage: bench/cli_remote_verify.sh PEDIGREE_BINARY [N=200]
set -euo pipefail
pedigree=$(realpath "$1")
n=${2:-200}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/pedigree-bench-cli-XXXXXX")
# shellcheck source=bench/verify_fixture.sh
source "$here/verify_fixture.sh"
trap 'fixture_stop; rm -rf "$work"' EXIT
fixture_serve "$pedigree" "$work"

# Once, checked: the answer is the verdict, so the loop below measures real verifies.
out=$("$pedigree" verify --server "$base" --token "$token" --code "$code" --json)
case $out in *'"verified":true'*) ;; *) echo "FAIL: remote verify answered: $out" >&2; exit 1 ;; esac

ms_per() {  # ms_per COMMAND...: mean wall ms of N runs
  local start end
  start=$(date +%s%N)
  for _ in $(seq 1 "$n"); do "$@" >/dev/null; done
  end=$(date +%s%N)
  echo "scale=2; ($end - $start) / 1000000 / $n" | bc
}
# Interleaved halves, so that the machine's load moves both alike.
n_half=$((n / 2)); n=$n_half
v1=$(ms_per "$pedigree" verify --server "$base" --token "$token" --code "$code")
r1=$(ms_per "$pedigree" --version)
v2=$(ms_per "$pedigree" verify --server "$base" --token "$token" --code "$code")
r2=$(ms_per "$pedigree" --version)
verify_ms=$(echo "scale=2; ($v1 + $v2) / 2" | bc)
spawn_ms=$(echo "scale=2; ($r1 + $r2) / 2" | bc)
ratio=$(echo "scale=2; $verify_ms / $spawn_ms" | bc)
echo "remote CLI verify, $((2 * n_half)) invocations: $verify_ms ms per invocation (target <= 20 ms; reference \`pedigree --version\` spawn $spawn_ms ms, ratio ${ratio}x; load $(cut -d' ' -f1 /proc/loadavg))"
