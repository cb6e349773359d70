#!/usr/bin/env bash
# The web app in a real browser (docs/web.md, "Tests"): prepares a ledger with the CLI (a
# manufacturer, a batch, commissioned packs shipped to a pharmacy, a case holding another, a
# pharmacy with a dispenser token, a regulator with its token, a registered trial with its
# protocol, one enrolled subject and the sponsor's and site's tokens), serves it with `pedigree serve` (a sponsor
# store, session timeouts set), and has web_app.js drive headless Chromium through
# puppeteer-core (pinned in package.json, installed into the build tree from npm): the
# pharmacy, regulator, manufacturer, sponsor and site flows, a participant's receipt check
# without sign-in, CSRF and sign-out. The
# downloaded bundle is then checked with `pedigree verify-bundle`, the serials CSV and a
# label from the node as described at their checks below.
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
rm -rf "$d" "$work/downloads" "$work/shots" "$work"/*.pem "$work"/A2.* "$work/sponsor.db" "$work"/*.csv \
  "$work/label.png"
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
for org in sponsor:sponsor site-701:site; do
  "$pedigree" keygen --out "$work/${org%%:*}.pem" >/dev/null
  p org register --authority-key "$d/authority-key.pem" --id "${org%%:*}" --name "${org%%:*} of the trial" \
    --roles "${org##*:}" --key "$work/${org%%:*}.pem" --hold --valid-from 2026-01-01T00:00:00Z
done
p product register --as mfg --gtin 09506000134352 --name Examplamab
p batch register --as mfg --gtin 09506000134352 --lot L1 --expiry 2028-03-31 --quantity 10
p commission --as mfg --gtin 09506000134352 --lot L1 --serials A1,A2 --location 9506000000008
p ship --as mfg --code '(01)09506000134352(21)A1,(01)09506000134352(21)A2' --to apotheke-1 \
  --to-location 9506000000039 --despatch-advice DA-1
p receive --as apotheke-1 --from mfg --despatch-advice DA-1 --location 9506000000039
# A case at the manufacturer holding pack A3, for the regulator's case/pallet search.
p commission --as mfg --gtin 09506000134352 --lot L1 --serials A3 --location 9506000000008
p aggregate --as mfg --parent 095060000000000015 --children '(01)09506000134352(21)A3'
# The label of pack A2, for the photo upload.
"$pedigree" label --gtin 09506000134352 --serial A2 --lot L1 --expiry 2028-03-31 \
  -o "$work/A2.png" >/dev/null
# The same label as Chromium's fake camera (an MJPEG stream of one JPEG frame), larger:
# 4-pixel modules do not survive the camera's YUV 4:2:0, and an odd width gives no video.
"$pedigree" label --gtin 09506000134352 --serial A2 --lot L1 --expiry 2028-03-31 \
  --module-px 8 -o "$work/A2.jpg" >/dev/null
cp "$work/A2.jpg" "$work/A2.mjpeg"
# A trial registered with its protocol sealed; the sponsor's page uploads, locks, seals and
# verifies its DM dataset (the sample study's).
study="$here/../../sample_data/trials/study"
for step in "register --registry 2026-500123-41-00 --title Pedigrenol --sites site-701 --arms PBO:Placebo,HIGH:Pedigrenol" \
  "protocol --file $study/protocol.md --outcomes $study/outcomes.json --version 1.0"; do
  # shellcheck disable=SC2086  # the step is the words of a command
  "$pedigree" trial $step --dir "$d" --trial PDG-CT-2026-01 --as sponsor --name "Dr Sam Sponsor" \
    --meaning approval --quiet >/dev/null
done
# A subject enrolled at the site under the reference secret the site hands the participant:
# the site's page gets the participant's receipt with it, the participant's page checks it.
receipt_secret=4f1c2a9e0b7d63f85a1e92c4d07b3e6a
echo '{"subjectRef":"'"$(printf '%s' "$receipt_secret" | sha256sum | cut -d' ' -f1)"'"}' >"$work/enrol.json"
"$pedigree" trial event --kind trial.enrol --body "$work/enrol.json" --dir "$d" --trial PDG-CT-2026-01 \
  --as site-701 --name "Dr Ada Site" --meaning authorship --quiet >/dev/null
cp "$study/dm.csv" "$work/dm.csv"
# The same DM with one age changed: a candidate that differs from the seal.
sed '2s/,63,/,64,/' "$study/dm.csv" >"$work/dm-changed.csv"
pharmacy_token=$("$pedigree" token issue --dir "$d" --org apotheke-1 --roles dispenser --json |
  sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
regulator_token=$("$pedigree" token issue --dir "$d" --org inspectorate --roles regulator --json |
  sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
manufacturer_token=$("$pedigree" token issue --dir "$d" --org mfg --roles manufacturer --json |
  sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
sponsor_token=$("$pedigree" token issue --dir "$d" --org sponsor --roles sponsor --json |
  sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
site_token=$("$pedigree" token issue --dir "$d" --org site-701 --roles site --json |
  sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
if [ -z "$pharmacy_token" ] || [ -z "$regulator_token" ] || [ -z "$manufacturer_token" ] ||
  [ -z "$sponsor_token" ] || [ -z "$site_token" ]; then
  echo "FAIL: token issue printed no token" >&2
  exit 1
fi

# Session timeouts other than the defaults, which the sign-in answer and the cookie must show.
"$pedigree" serve --dir "$d" --port 0 --sponsor-store "$work/sponsor.db" \
  --session-idle-timeout 900 --session-lifetime 3600 >"$work/serve.out" 2>"$work/serve.err" &
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
  MANUFACTURER_TOKEN=$manufacturer_token SPONSOR_TOKEN=$sponsor_token SITE_TOKEN=$site_token \
  DATASET="$work/dm.csv" RECEIPT_SECRET=$receipt_secret \
  CANDIDATE="$work/dm-changed.csv" IDLE_TIMEOUT=900 LIFETIME=3600 \
  PHARMACY_GLN=9506000000039 PHOTO="$work/A2.png" CAMERA="$work/A2.mjpeg" DOWNLOADS="$work/downloads" SHOTS=$shots \
  NODE_PATH="$node_dir/node_modules" node "$here/web_app.js"

bundle=$(ls "$work"/downloads/*.json)
# The serials the manufacturer's page offered as CSV: a header and the 3 packs, each with its
# element string (GTIN, expiry, lot, serial of batch L7).
csv=$(ls "$work"/downloads/serials-*.csv)
[ "$(wc -l <"$csv")" -eq 4 ] || { echo "FAIL: $csv is not a header and 3 serials" >&2; cat "$csv" >&2; exit 1; }
serial=$(sed -n '2p' "$csv" | cut -d, -f4 | tr -d '\r')
element=$(sed -n '2p' "$csv" | cut -d, -f5 | tr -d '\r')
case $element in "(01)09506000134352(17)280331(10)L7(21)$serial") ;;
  *) echo "FAIL: element string '$element' of serial $serial" >&2; exit 1 ;; esac
# The label the labels page showed for that pack, as PNG from the node, reads back as its code.
curl -fsS -H "Authorization: Bearer $manufacturer_token" -o "$work/label.png" \
  "$base/v1/labels/pack/09506000134352/$serial"
"$pedigree" scan "$work/label.png" | grep -q "\"packId\":\"https://id.gs1.org/01/09506000134352/21/$serial\"" ||
  { echo "FAIL: the label of $serial does not scan as its pack" >&2; "$pedigree" scan "$work/label.png" >&2; exit 1; }
"$pedigree" verify-bundle "$bundle" --trust "$d/log.vkey"
echo "PASS: web app flows in $chromium; bundle $(basename "$bundle") verified"
