#!/usr/bin/env bash
# EPCIS exports checked by independent tools (docs/epcis.md, "Validation"): runs the demo
# scenario, exports the history of every pack it names and of every case and pallet those
# histories mention, and has validate.js check each document with ajv + GS1's JSON Schema,
# epcis2.js's validator and epcis2.js's event hash. The npm packages are installed into the
# build tree from the registry (pinned in package.json). Fails, never skips, without node.
# Usage: run.sh PEDIGREE_BINARY THIS_DIR WORK_DIR
set -euo pipefail
pedigree=$1
here=$2
work=$3
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "FAIL: node and npm are needed for the EPCIS interop test (scripts/deps.sh installs them)" >&2
  exit 1
fi
mkdir -p "$work"
node_dir="$work/node"
if ! cmp -s "$here/package.json" "$node_dir/package.json" ||
  [ ! -f "$node_dir/node_modules/epcis2.js/package.json" ]; then
  rm -rf "$node_dir"
  mkdir -p "$node_dir"
  cp -r "$here/package.json" "$here/fs-stub" "$node_dir/"
  (cd "$node_dir" && npm install --no-audit --no-fund --loglevel=error)
fi

# Known answer: a sensor report naming its logger and assets by GIAI URNs hashes as epcis2.js
# hashes it (both turn urn:epc:id:giai:… into https://id.gs1.org/8004/…), and as the vector
# file tests/scanner/epcis_hash_test.cpp checks says.
giai="$here/../scanner/epcis_vectors/sensorWithGiaiDevice"
theirs=$(NODE_PATH="$node_dir/node_modules" node -e '
const epcis = require("epcis2.js");
const doc = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
for (const e of doc.epcisBody.eventList) console.log(epcis.eventToHashedId(e, doc["@context"]));
' "$giai.jsonld")
ours=$("$pedigree" epcis hash "$giai.jsonld" --profile epcis2.js)
if [ "$theirs" != "$ours" ] || [ "$theirs" != "$(cat "$giai.epcis2js.hashes")" ]; then
  echo "FAIL: GIAI vector: epcis2.js $theirs, pedigree $ours, vector $(cat "$giai.epcis2js.hashes")" >&2
  exit 1
fi

rm -rf "$work/demo" "$work/docs"
mkdir -p "$work/docs"
"$pedigree" demo --dir "$work/demo" >"$work/demo.txt"
ledger="$work/demo/ledger"
# The demo's warm shipment is reported by the wholesaler's data logger, whose readings carry
# its signature; validate.js verifies it again on the exported sensorElement with Node's crypto
# and its own JCS (docs/epcis.md, "Device-signed sensor data").
sed -n 's/.*data logger \([^ ]*\) (key \([^)]*\)).*/\1 \2/p' "$work/demo.txt" >"$work/device-keys.txt"
if [ ! -s "$work/device-keys.txt" ]; then
  echo "FAIL: the demo output names no data logger and its key" >&2
  exit 1
fi

mapfile -t codes < <(grep -o 'https://id\.gs1\.org/01/[0-9]*/21/[A-Z0-9]*' "$work/demo.txt" | sort -u)
if [ ${#codes[@]} -eq 0 ]; then
  echo "FAIL: the demo output names no pack" >&2
  exit 1
fi
args=()
n=0
export_one() {
  local code=$1 doc="$work/docs/$n.jsonld"
  # The demo also names trial kits, which are no commissioned packs.
  if ! "$pedigree" epcis export "$code" --dir "$ledger" -o "$doc" 2>"$work/err.txt"; then
    grep -q report.no_such_pack "$work/err.txt" && return 0
    cat "$work/err.txt" >&2
    exit 1
  fi
  "$pedigree" epcis hash "$doc" --profile epcis2.js >"$work/docs/$n.epcis2js"
  "$pedigree" epcis hash "$doc" >"$work/docs/$n.cbv"
  args+=("$doc" "$work/docs/$n.epcis2js" "$work/docs/$n.cbv")
  n=$((n + 1))
}
for code in "${codes[@]}"; do export_one "$code"; done
# Events captured from EPCIS documents (JSON-LD with an extension and a sub-second time in
# another zone; XML with CBV URNs) are exported as they were kept: the validators check them
# like the rest, and each exported eventID must be the ID it was captured under
# (docs/epcis.md, "What is kept").
gtin=$(grep -o 'GTIN [0-9]\{14\}' "$work/demo.txt" | head -1 | cut -d' ' -f2)
# The demo commissions its batches whole: a batch of its own for these packs.
lot=LEPCIS
"$pedigree" batch register --as alpha-pharma --gtin "$gtin" --lot "$lot" --expiry 2028-12-31 \
  --quantity 10 --dir "$ledger" >/dev/null
local_time=$(date -u -d '+118 minutes' +%Y-%m-%dT%H:%M:%S)
utc_time=$(date -u -d '-1 minutes' +%Y-%m-%dT%H:%M:%S)
cat >"$work/captured.jsonld" <<EOF
{"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
              {"example": "https://ns.example.com/epcis/"}],
 "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "${utc_time}Z",
 "epcisBody": {"eventList": [
  {"type": "ObjectEvent", "eventTime": "${local_time}.123456+02:00", "eventTimeZoneOffset": "+02:00",
   "epcList": ["https://id.gs1.org/01/${gtin}/21/EPCISJ1"], "action": "ADD",
   "bizStep": "commissioning", "disposition": "active",
   "bizLocation": {"id": "https://id.gs1.org/414/9506001000007"},
   "ilmd": {"cbvmda:lotNumber": "${lot}"}, "example:line": "B-3"}]}}
EOF
cat >"$work/captured.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" xmlns:cbvmda="urn:epcglobal:cbv:mda"
    schemaVersion="2.0" creationDate="${utc_time}Z">
  <EPCISBody><EventList><ObjectEvent>
    <eventTime>${utc_time}.5Z</eventTime><eventTimeZoneOffset>+00:00</eventTimeZoneOffset>
    <epcList><epc>https://id.gs1.org/01/${gtin}/21/EPCISX1</epc></epcList>
    <action>ADD</action>
    <bizStep>urn:epcglobal:cbv:bizstep:commissioning</bizStep>
    <disposition>urn:epcglobal:cbv:disp:active</disposition>
    <bizLocation><id>https://id.gs1.org/414/9506001000007</id></bizLocation>
    <ilmd><cbvmda:lotNumber>${lot}</cbvmda:lotNumber></ilmd>
  </ObjectEvent></EventList></EPCISBody>
</epcis:EPCISDocument>
EOF
for form in jsonld:EPCISJ1 xml:EPCISX1; do
  file="$work/captured.${form%%:*}"
  code="https://id.gs1.org/01/${gtin}/21/${form#*:}"
  captured=$("$pedigree" epcis capture "$file" --as alpha-pharma --dir "$ledger" |
    grep -o 'ni:///sha-256;[0-9a-f]*' | head -1)
  "$pedigree" epcis export "$code" --dir "$ledger" -o "$work/captured-export.jsonld"
  exported=$(grep -o 'ni:///sha-256;[0-9a-f]*' "$work/captured-export.jsonld" | head -1)
  if [ -z "$captured" ] || [ "$captured" != "$exported" ]; then
    echo "FAIL: $file was captured as $captured, exported as $exported" >&2
    exit 1
  fi
  export_one "$code"
done
# The cases and pallets those packs travelled in.
mapfile -t containers < <(cat "$work"/docs/*.jsonld | grep -o 'https://id\.gs1\.org/00/[0-9]\{18\}' | sort -u)
for code in "${containers[@]}"; do export_one "$code"; done

DEVICE_KEYS="$work/device-keys.txt" NODE_PATH="$node_dir/node_modules" node "$here/validate.js" "${args[@]}"
