#!/usr/bin/env bash
# Interop: pedigree writes a log, Go's golang.org/x/mod/sumdb verifies it.
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
