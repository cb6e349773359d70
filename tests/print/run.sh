#!/usr/bin/env bash
# Reports people print (docs/reports.md, "Printing to PDF"): makes pack reports (the longest
# history, the most alerts, a FAILED one from a tampered bundle), a container, a batch, an
# audit and a trial report as HTML with the CLI, then has print_check.js print each in
# headless Chromium through puppeteer-core (pinned in package.json, installed into the build
# tree from npm) and fail when anything is wider than the A4 printable width. One PDF and
# one PNG of page 1 per report stay in WORK_DIR/out as artefacts. The supply ledger is a small demo; the trial
# ledger is sample_data/trials/study registered, submitted, locked and sealed by the CLI.
# Skips (exit 77) only when Chromium is absent; fails without node/npm.
# With PEDIGREE_UPDATE_DOCS=1 the pack and trial PNGs are copied to docs/img/print-*.png.
# Usage: run.sh PEDIGREE_BINARY THIS_DIR WORK_DIR
set -euo pipefail
pedigree=$1
here=$2
work=$3
root=$(cd "$here/../.." && pwd)
# shellcheck source=tests/common/browser.sh
source "$here/../common/browser.sh"
browser_setup "$here" "$work" "print test"
out="$work/out"
rm -rf "$work/demo" "$work/trial" "$work/keys" "$out"
mkdir -p "$work/keys"
mkdir -p "$out"
export PEDIGREE_NO_PROGRESS=1

# Supply chain: the smallest demo still has every kind of event, alert and a recall.
"$pedigree" demo --dir "$work/demo" --packs-per-batch 20 >"$work/demo.txt"
supply="$work/demo/ledger"
# The pack with the longest history (most rows in the event table), the one with the most
# alerts and violations (the alert and violation tables), and of the batches of the packs the
# demo names one with a temperature excursion and the most alerts and violations.
best="" best_n=0 worst="" worst_n=-1 batch="" batch_n=-1
declare -A batches=()
while read -r code; do
  json=$("$pedigree" report pack "$code" --dir "$supply" --format json 2>/dev/null) || true
  n=$(grep -o '"kind":' <<<"$json" | wc -l) || true
  bad=$(grep -o '"code":' <<<"$json" | wc -l) || true
  if [ "$n" -gt "$best_n" ]; then best=$code best_n=$n; fi
  if [ "$bad" -gt "$worst_n" ]; then worst=$code worst_n=$bad; fi
  gtin=${code#*/01/}
  gtin=${gtin%%/*}
  lot=$(grep -o '"lot":"[^"]*"' <<<"$json" | head -1 | cut -d'"' -f4) || true
  [ -n "$lot" ] && batches["$gtin $lot"]=1
done < <(grep -o 'https://id\.gs1\.org/01/[0-9]*/21/[A-Z0-9]*' "$work/demo.txt" | sort -u)
for b in "${!batches[@]}"; do
  # shellcheck disable=SC2086 # "GTIN LOT" splits into the two arguments
  json=$("$pedigree" report batch $b --dir "$supply" --format json 2>/dev/null) || true
  rows=$(grep -o '"index":' <<<"$json" | wc -l) || true
  excursions=$(grep -o '"despatchAdvice":' <<<"$json" | wc -l) || true
  n=$((rows + 100 * excursions))  # the excursion table is the widest
  if [ "$n" -gt "$batch_n" ]; then batch=$b batch_n=$n; fi
done
if [ -z "$best" ]; then
  echo "FAIL: the demo output names no pack" >&2
  exit 1
fi
report() {  # report NAME ARGS...: the HTML report; exit 3/4 (SUSPECT/FAILED) are reports too
  local name=$1 rc=0
  shift
  "$pedigree" report "$@" --format html -o "$out/$name.html" || rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ] && [ "$rc" -ne 4 ]; then
    echo "FAIL: pedigree report $* exited $rc" >&2
    exit 1
  fi
}
report pack pack "$best" --dir "$supply"
report pack-alerts pack "$worst" --dir "$supply"
# shellcheck disable=SC2086 # "GTIN LOT"
report batch batch $batch --dir "$supply"
report audit audit --dir "$supply"
# The last case or pallet the longest pack was packed into.
sscc=$("$pedigree" report pack "$best" --dir "$supply" --format json |
  grep -o 'into [0-9]\{18\}' | tail -1 | cut -d' ' -f2) || true
if [ -z "$sscc" ]; then
  echo "FAIL: the pack $best was never packed into a case" >&2
  exit 1
fi
report container container "$sscc" --dir "$supply"
# A FAILED pack report (failures with expected and calculated hashes): the longest pack's
# bundle with one consistency hash and one inclusion proof hash changed.
"$pedigree" bundle pack "$best" --dir "$supply" -o "$work/pack.bundle.json" >/dev/null
node -e '
  const fs = require("fs");
  const b = JSON.parse(fs.readFileSync(process.argv[1]));
  const flip = (h) => (h[0] === "A" ? "B" : "A") + h.slice(1);
  b.consistency[0] = flip(b.consistency[0]);
  const lines = b.entries[3].proof.split("\n");  // tlog-proof: header, index, hashes
  lines[2] = flip(lines[2]);
  b.entries[3].proof = lines.join("\n");
  fs.writeFileSync(process.argv[2], JSON.stringify(b));
' "$work/pack.bundle.json" "$work/tampered.bundle.json"
rc=0
"$pedigree" verify-bundle "$work/tampered.bundle.json" --trust "$supply/log.vkey" --format html \
  -o "$out/pack-failed.html" || rc=$?
if [ "$rc" -ne 4 ]; then
  echo "FAIL: the tampered bundle was not FAILED (exit $rc, expected 4)" >&2
  exit 1
fi

# A trial: registration, protocol, enrolment, DM and AE submitted, a correction with its
# reason, a lock and an unlock, seals; the report compares a candidate and the outcomes.
study="$root/sample_data/trials/study"
trial=PDG-CT-2026-01
t="$work/trial"
"$pedigree" init --dir "$t" --origin example.org/print-trial --supply-chain --quiet >/dev/null
for org in sponsor:sponsor site-701:site; do
  "$pedigree" keygen --out "$work/keys/${org%%:*}.pem" >/dev/null
  "$pedigree" org register --dir "$t" --authority-key "$t/authority-key.pem" --id "${org%%:*}" \
    --name "${org%%:*} of $trial" --roles "${org##*:}" --key "$work/keys/${org%%:*}.pem" --hold \
    --valid-from 2026-01-01T00:00:00Z --quiet >/dev/null
done
as() {  # as ORG MEANING ARGS...: a trial command signed by ORG
  local org=$1 meaning=$2
  shift 2
  "$pedigree" trial "$@" --dir "$t" --trial "$trial" --as "$org" --name "Dr $org" \
    --meaning "$meaning" --quiet >/dev/null
}
as sponsor approval register --registry 2026-500123-41-00 \
  --title "Pedigrenol versus placebo in type 2 diabetes" --sites site-701 \
  --arms "PBO:Placebo,HIGH:Pedigrenol 20 mg"
as sponsor approval protocol --file "$study/protocol.md" --outcomes "$study/outcomes.json" \
  --version 1.0
echo '{"subjectRef":"'"$(printf 'site-701|0001' | sha256sum | cut -d' ' -f1)"'"}' >"$work/enrol.json"
as site-701 authorship event --kind trial.enrol --body "$work/enrol.json"
as site-701 authorship submit --file "$study/dm.csv"
as site-701 authorship submit --file "$study/ae.csv"
sed '2s/,63,/,64,/' "$study/dm.csv" >"$work/dm.csv"
as site-701 authorship submit --file "$work/dm.csv" --reason "age transcription error"
as sponsor approval lock --domain DM --action soft_lock
as sponsor approval lock --domain DM --action unlock --reason "query on site 701" \
  --approver "Dr Data Manager"
as sponsor approval lock --domain DM --action hard_lock
as sponsor approval seal --domain DM
as sponsor approval lock --domain AE --action hard_lock
as sponsor approval seal --domain AE
report trial trial --trial "$trial" --dir "$t" --outcomes "$study/reported-outcomes.json" \
  --candidate "$study/dm.csv,$study/ae.csv"

# The widest tables must be there to be measured.
for want in "batch.html:excursion-row" "pack-alerts.html:alert-row" "pack-failed.html:failure-row" \
  "trial.html:entry-row"; do
  if ! grep -q "class=\"${want#*:}" "$out/${want%%:*}"; then
    echo "FAIL: ${want%%:*} has no ${want#*:} (the demo or the trial scenario changed?)" >&2
    exit 1
  fi
done

rc=0
NODE_PATH="$node_dir/node_modules" node "$here/print_check.js" "$chromium" "$out" \
  "$out"/pack.html "$out"/pack-alerts.html "$out"/pack-failed.html "$out"/container.html \
  "$out"/batch.html "$out"/audit.html "$out"/trial.html || rc=$?
for name in pack pack-alerts pack-failed container batch audit trial; do
  if [ ! -s "$out/$name.pdf" ]; then
    echo "FAIL: no PDF of the $name report" >&2
    rc=1
  fi
done
if [ "$rc" -eq 0 ] && [ "${PEDIGREE_UPDATE_DOCS:-}" = 1 ]; then
  cp "$out/pack-alerts.png" "$root/docs/img/print-pack.png"
  cp "$out/trial.png" "$root/docs/img/print-trial.png"
fi
exit "$rc"
