#!/usr/bin/env bash
# The web app in a real browser (docs/web.md, "Tests"): prepares a ledger with the CLI (a
# manufacturer, a batch, commissioned packs shipped to a pharmacy, a pharmacy with a
# dispenser token, a regulator with its token), serves it with `pedigree serve`, and has
# web_app.js drive headless Chromium through puppeteer-core (pinned in package.json,
# installed into the build tree from npm): the pharmacy and regulator flows, CSRF and
# sign-out. The downloaded bundle is then checked with `pedigree verify-bundle`.
# Skips (exit 77) only when Chromium is absent; fails without node/npm.
# With PEDIGREE_UPDATE_DOCS=1 the screenshots are written to docs/img/web-*.png.
# Usage: run.sh PEDIGREE_BINARY THIS_DIR WORK_DIR
set -euo pipefail
pedigree=$1
here=$2
work=$3
# shellcheck source=tests/common/browser.sh
source "$here/../common/browser.sh"
browser_setup "$here" "$work" "browser test"

d="$work/ledger"
rm -rf "$d" "$work/downloads" "$work/shots" "$work"/*.pem "$work"/A2.*
mkdir -p "$work/downloads" "$work/shots"
p() { "$pedigree" "$@" --dir "$d" --quiet >/dev/null; }
"$pedigree" init --dir "$d" --origin example.org/web-app --supply-chain --quiet >/dev/null
"$pedigree" keygen --out "$work/mfg.pem" >/dev/null
"$pedigree" keygen --out "$work/pharmacy.pem" >/dev/null
"$pedigree" keygen --out "$work/regulator.pem" >/dev/null
p org register --authority-key "$d/authority-key.pem" --id mfg --name "Example Pharma" \
  --roles manufacturer --prefixes 9506000 --glns 9506000000008 --key "$work/mfg.pem" --hold
p org register --authority-key "$d/authority-key.pem" --id apotheke-1 --name "Apotheke am Markt" \
  --roles dispenser --glns 9506000000039 --key "$work/pharmacy.pem" --hold
p org register --authority-key "$d/authority-key.pem" --id inspectorate --name "Inspectorate" \
  --roles regulator --key "$work/regulator.pem" --hold
p product register --as mfg --gtin 09506000134352 --name Examplamab
p batch register --as mfg --gtin 09506000134352 --lot L1 --expiry 2028-03-31 --quantity 10
p commission --as mfg --gtin 09506000134352 --lot L1 --serials A1,A2 --location 9506000000008
p ship --as mfg --code '(01)09506000134352(21)A1,(01)09506000134352(21)A2' --to apotheke-1 \
  --to-location 9506000000039 --despatch-advice DA-1
p receive --as apotheke-1 --from mfg --despatch-advice DA-1 --location 9506000000039
# The label of pack A2, for the photo upload.
"$pedigree" label --gtin 09506000134352 --serial A2 --lot L1 --expiry 2028-03-31 \
  -o "$work/A2.png" >/dev/null
# The same label as Chromium's fake camera (an MJPEG stream of one JPEG frame), larger:
# 4-pixel modules do not survive the camera's YUV 4:2:0, and an odd width gives no video.
"$pedigree" label --gtin 09506000134352 --serial A2 --lot L1 --expiry 2028-03-31 \
  --module-px 8 -o "$work/A2.jpg" >/dev/null
cp "$work/A2.jpg" "$work/A2.mjpeg"
pharmacy_token=$("$pedigree" token issue --dir "$d" --org apotheke-1 --roles dispenser --json |
  sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
regulator_token=$("$pedigree" token issue --dir "$d" --org inspectorate --roles regulator --json |
  sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
if [ -z "$pharmacy_token" ] || [ -z "$regulator_token" ]; then
  echo "FAIL: token issue printed no token" >&2
  exit 1
fi

"$pedigree" serve --dir "$d" --port 0 >"$work/serve.out" 2>"$work/serve.err" &
serve_pid=$!
trap 'kill "$serve_pid" 2>/dev/null; wait "$serve_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  grep -q 'pedigree serving' "$work/serve.out" && break
  kill -0 "$serve_pid" 2>/dev/null || { cat "$work/serve.err" >&2; exit 1; }
  sleep 0.1
done
base=$(grep -o 'http://[0-9.]*:[0-9]*' "$work/serve.out" | head -1)
[ -n "$base" ] || { echo "FAIL: pedigree serve did not start" >&2; cat "$work/serve.err" >&2; exit 1; }

shots="$work/shots"
[ "${PEDIGREE_UPDATE_DOCS:-}" = 1 ] && shots="$here/../../docs/img"
BASE_URL=$base CHROMIUM=$chromium PHARMACY_TOKEN=$pharmacy_token REGULATOR_TOKEN=$regulator_token \
  PHARMACY_GLN=9506000000039 PHOTO="$work/A2.png" CAMERA="$work/A2.mjpeg" DOWNLOADS="$work/downloads" SHOTS=$shots \
  NODE_PATH="$node_dir/node_modules" node "$here/web_app.js"

bundle=$(ls "$work"/downloads/*.json)
"$pedigree" verify-bundle "$bundle" --trust "$d/log.vkey"
echo "PASS: web app flows in $chromium; bundle $(basename "$bundle") verified"
