#!/usr/bin/env bash
# Interop: pedigree writes a log, Go's golang.org/x/mod/sumdb verifies it; then a small supply
# chain's offline bundle (pedigree-bundle/v2) is verified by Go as well.
# Usage: run.sh PEDIGREE_BINARY INTEROP_SOURCE_DIR
set -euo pipefail
pedigree=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ledger=$work/ledger
"$pedigree" init --dir "$ledger" --origin example.org/pedigree-interop >/dev/null
"$pedigree" keygen --out "$work/author.pem" >/dev/null
payloads() {  # $1 = first number, $2 = count
  printf '['
  for ((i = $1; i < $1 + $2; i++)); do
    [ "$i" -gt "$1" ] && printf ','
    printf '{"kind":"interop","n":%d,"text":"entry %d"}' "$i" "$i"
  done
  printf ']'
}
payloads 0 21 | "$pedigree" log append --dir "$ledger" --key "$work/author.pem" - >/dev/null
"$pedigree" log checkpoint --dir "$ledger" >"$work/cp1.note"
payloads 21 16 | "$pedigree" log append --dir "$ledger" --key "$work/author.pem" - >/dev/null
"$pedigree" log checkpoint --dir "$ledger" >"$work/cp2.note"
cp "$ledger/log.vkey" "$work/log.vkey"
for ((i = 0; i < 37; i++)); do
  "$pedigree" log entry --dir "$ledger" --index "$i" >>"$work/entries.txt"
done
for i in 0 1 5 20 21 35 36; do
  "$pedigree" log prove --dir "$ledger" --index "$i" >"$work/prove-$i.json"
done
"$pedigree" log consistency --dir "$ledger" --from 21 --to 37 >"$work/consistency.json"
cd "$src"
GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$work/gocache" go run verify.go "$work"

# A witness: pedigree's C2SP tlog-witness server cosigns the two checkpoints above; a Go client
# written from the specs drives it and checks the cosignatures with crypto/ed25519.
"$pedigree" witness init --dir "$work/witness" --name witness.example/interop >"$work/witness.vkey"
"$pedigree" witness serve --dir "$work/witness" --port 0 --log "$(cat "$work/log.vkey")" \
  >"$work/witness.out" 2>&1 &
witness_pid=$!
trap 'kill "$witness_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for ((i = 0; i < 100; i++)); do
  grep -qs serving "$work/witness.out" && break
  sleep 0.1
done
witness_url=$(sed -n 's|.* serving \(http://[^ ]*\)/add-checkpoint .*|\1|p' "$work/witness.out")
[ -n "$witness_url" ] || { cat "$work/witness.out" >&2; exit 1; }
GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$work/gocache" \
  go run witness/witness_client.go "$witness_url" "$work"
kill "$witness_pid"
wait "$witness_pid" || true

# A supply chain through the CLI, one pack's offline bundle, checked by Go and by verify-bundle.
sc=$work/supply
run() { "$pedigree" "$@" --dir "$sc" >/dev/null; }
"$pedigree" init --dir "$sc" --origin example.org/pedigree-interop-supply --supply-chain >/dev/null
"$pedigree" keygen --out "$work/mfg.pem" >/dev/null
"$pedigree" keygen --out "$work/ph.pem" >/dev/null
run org register --authority-key "$sc/authority-key.pem" --id mfg --name Maker \
  --roles manufacturer --prefixes 9506000 --glns 9506000000008 --key "$work/mfg.pem" --hold
run org register --authority-key "$sc/authority-key.pem" --id ph --name Pharmacy \
  --roles dispenser --prefixes 4000001 --glns 4000001000005 --key "$work/ph.pem" --hold
run product register --as mfg --gtin 09506000134352 --name Examplamab
run batch register --as mfg --gtin 09506000134352 --lot LOT1 --expiry 2028-03-31 --quantity 10
run commission --as mfg --gtin 09506000134352 --lot LOT1 --location 9506000000008 --serials S1,S2
run ship --as mfg --code '(01)09506000134352(21)S1' --to ph --to-location 4000001000005 \
  --despatch-advice DA-1
run receive --as ph --from mfg --despatch-advice DA-1 --location 4000001000005
run dispense --as ph --code 'https://id.gs1.org/01/09506000134352/21/S1' --location 4000001000005
"$pedigree" log checkpoint --dir "$sc" >/dev/null
# Later entries, so the bundle carries a consistency proof to a newer checkpoint.
run decommission --as mfg --code '(01)09506000134352(21)S2' --status destroyed \
  --location 9506000000008
"$pedigree" log checkpoint --dir "$sc" >/dev/null
# The pack as a handheld scanner types it: symbology identifier and a GS separator.
"$pedigree" bundle pack --dir "$sc" $']d201095060001343521728033110LOT1\x1d21S1' \
  -o "$work/bundle.json" >/dev/null
openssl pkey -in "$sc/authority-key.pem" -pubout -out "$work/authority.pub"
"$pedigree" verify-bundle "$work/bundle.json" --trust "$sc/log.vkey" \
  --authority "$work/authority.pub" >/dev/null
GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$work/gocache" \
  go run bundle/verify_bundle.go "$work/bundle.json" "$sc/log.vkey"

# The static export: `tiles export` files read by Go's x/mod/sumdb/tlog TileHashReader, which
# authenticates each tile against the checkpoint's root; over 256 entries for full tiles.
payloads 37 300 | "$pedigree" log append --dir "$ledger" --key "$work/author.pem" - >/dev/null
"$pedigree" log checkpoint --dir "$ledger" >/dev/null
"$pedigree" tiles export "$work/tiles" --dir "$ledger" >/dev/null
GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$work/gocache" \
  go run tiles/verify_tiles.go "$work/tiles" "$work/log.vkey"
# A flipped byte in a full tile is caught by Go as well.
cp -r "$work/tiles" "$work/tampered"
printf '\xff' | dd of="$work/tampered/tile/0/000" bs=1 seek=100 conv=notrunc 2>/dev/null
if GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$work/gocache" \
  go run tiles/verify_tiles.go "$work/tampered" "$work/log.vkey" 2>/dev/null; then
  echo "FAIL: Go accepted a tampered tile" >&2
  exit 1
fi
