# shellcheck shell=bash
# Sourced by the verify round-trip benches (cli_remote_verify.sh, web_verify.sh):
#   fixture_serve PEDIGREE_BINARY WORK_DIR
# Makes a ledger with one manufacturer, one pharmacy (apotheke-1, dispenser) and pack
# (01)09506000134352(21)A1 commissioned, issues the pharmacy a token, and starts
# `pedigree serve` on an ephemeral loopback port. Sets $base (http://127.0.0.1:PORT),
# $token, $code (the pack's code as a keyboard-wedge scanner sends it, GS as 0x1D) and
# $serve_pid; the caller's EXIT trap should call fixture_stop.
fixture_serve() {
  local pedigree=$1 work=$2
  local d="$work/ledger"
  rm -rf "$d" "$work"/*.pem
  mkdir -p "$work"
  p() { "$pedigree" "$@" --dir "$d" --quiet >/dev/null; }
  "$pedigree" init --dir "$d" --origin example.org/bench-verify --supply-chain --quiet >/dev/null
  "$pedigree" keygen --out "$work/mfg.pem" >/dev/null
  "$pedigree" keygen --out "$work/pharmacy.pem" >/dev/null
  p org register --authority-key "$d/authority-key.pem" --id mfg --name "Example Pharma" \
    --roles manufacturer --prefixes 9506000 --glns 9506000000008 --key "$work/mfg.pem" --hold
  p org register --authority-key "$d/authority-key.pem" --id apotheke-1 \
    --name "Apotheke am Markt" --roles dispenser --glns 9506000000039 \
    --key "$work/pharmacy.pem" --hold
  p product register --as mfg --gtin 09506000134352 --name Examplamab
  p batch register --as mfg --gtin 09506000134352 --lot L1 --expiry 2028-03-31 --quantity 10
  p commission --as mfg --gtin 09506000134352 --lot L1 --serials A1 --location 9506000000008
  token=$("$pedigree" token issue --dir "$d" --org apotheke-1 --roles dispenser --json |
    sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
  [ -n "$token" ] || { echo "fixture: token issue printed no token" >&2; return 1; }
  # shellcheck disable=SC2034  # read by the scripts that source this file
  code=$(printf '0109506000134352''17280331''10L1\x1d''21A1')
  "$pedigree" serve --dir "$d" --port 0 >"$work/serve.out" 2>"$work/serve.err" &
  serve_pid=$!
  for _ in $(seq 1 100); do
    grep -q 'pedigree serving' "$work/serve.out" && break
    kill -0 "$serve_pid" 2>/dev/null || { cat "$work/serve.err" >&2; return 1; }
    sleep 0.1
  done
  base=$(grep -o 'http://[0-9.]*:[0-9]*' "$work/serve.out" | head -1)
  [ -n "$base" ] || { echo "fixture: pedigree serve did not start" >&2; return 1; }
}

fixture_stop() {
  [ -n "${serve_pid:-}" ] || return 0
  kill "$serve_pid" 2>/dev/null
  wait "$serve_pid" 2>/dev/null || true
}
