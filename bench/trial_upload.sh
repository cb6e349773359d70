#!/bin/bash
# Peak RSS (VmHWM) of `pedigree serve` taking trial dataset uploads (issue 18, "expensive
# work is bounded"): for each size, one fresh server per case, so that each figure is that
# case's own peak: verify of a CSV, verify of the same records as Dataset-JSON, a submission
# of a CSV to a domain with nothing on the ledger, and four verifies of the CSV at once.
# The node and files come from bench_trial_upload (in its own process); the server is the
# `pedigree` binary given (PEDIGREE=…, default BUILD_DIR/app/pedigree); BEFORE=another
# build's binary measures each case with it too, on the same files ("before" figures).
#
# usage: bench/trial_upload.sh [BUILD_DIR] [MIB ...]        (default: build 64 256)
set -euo pipefail
build=${1:-build}
shift || true
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(64 256)
pedigree=${PEDIGREE:-$build/app/pedigree}
work=$(mktemp -d "${TMPDIR:-/tmp}/pedigree-bench-upload-XXXXXX")
trap 'rm -rf "$work"' EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Starts the server on a copy of the node (a submission changes it), runs "$@" against
# it, prints the server's VmHWM in MiB.
measure() {
  local bin
  for bin in "$pedigree" ${BEFORE:+"$BEFORE"}; do
    measure_with "$bin" "$@"
  done
}

measure_with() {
  local bin=$1 node=$2 label=$3
  shift 3
  [ "$bin" != "$pedigree" ] && label="$label (before)"
  rm -rf "$work/run" && cp -a "$node" "$work/run"
  local p
  p=$(port)
  "$bin" serve --dir "$work/run" --port "$p" --sponsor-store "$work/run/store.sqlite" \
    --max-dataset-bytes 1073741824 >"$work/serve.log" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$p/healthz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  local base
  base=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
  URL="http://127.0.0.1:$p" "$@"
  local peak
  peak=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
  kill "$pid"
  wait "$pid" || true
  printf '%-28s peak %6d MiB (at start %d MiB)\n' "$label" $((peak / 1024)) $((base / 1024))
}

upload() {  # FILE TYPE ROUTE TOKEN
  local out
  out=$(curl -s -o "$work/answer" -w '%{http_code}' -H "Authorization: Bearer $(cat "$4")" \
    -H "Content-Type: $2" --data-binary @"$1" "$URL$3")
  if [ "${out:0:1}" != 2 ]; then
    echo "upload of $1 to $3 answered $out: $(head -c 300 "$work/answer")" >&2
    return 1
  fi
}

for mib in "${sizes[@]}"; do
  node="$work/node-$mib"
  "${SETUP:-$build/bench/bench_trial_upload}" "$node" "$mib"
  ls -l "$node/dm.csv" "$node/dm.json" | awk '{printf "%s %d MiB\n", $NF, $5 / 1048576}'
  verify="/v1/trials/T1/verify?domain=DM"
  submit="/v1/trials/T1/submissions?domain=AE&signatureName=Dr%20S&signatureMeaning=authorship"
  measure "$node" "$mib MiB verify csv" upload "$node/dm.csv" text/csv "$verify" "$node/sp.token"
  measure "$node" "$mib MiB verify json" \
    upload "$node/dm.json" application/json "$verify" "$node/sp.token"
  measure "$node" "$mib MiB submission csv" upload "$node/ae.csv" text/csv "$submit" "$node/s1.token"
  four() {
    local pids=()
    for _ in 1 2 3 4; do
      upload "$node/dm.csv" text/csv "$verify" "$node/sp.token" &
      pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p"; done
  }
  measure "$node" "$mib MiB 4 verifies csv" four
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
