// RFC 8785 JSON Canonicalization for the JSON the EPCIS tests handle: members sorted by UTF-16
// code units (JavaScript's default string order), numbers and strings as JSON.stringify writes
// them (ECMAScript Number::toString; RFC 8785's string escaping for these texts).
'use strict';
module.exports = function jcs(v) {
  if (Array.isArray(v)) return `[${v.map(jcs).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${jcs(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
};
