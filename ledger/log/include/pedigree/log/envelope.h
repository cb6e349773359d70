// The signed entry ("envelope"): the exact bytes the log stores, hashes and serves.
// See ../../../../docs/ledger-format.md, "Signed entry (envelope)".
//
// An envelope is the RFC 8785 canonical JSON object
//   {"alg":"Ed25519","key":"<base64 32-byte public key>","payload":<object>,
//    "sig":"<base64 64-byte signature>"}
// with exactly those four members, where sig is the Ed25519 signature of
//   "pedigree/entry/v1\n" || JCS(payload)
// and the payload obeys JsonParseOptions::integers_only (no floats, |n| <= 2^53-1).
#pragma once

#include <string>
#include <string_view>

#include "pedigree/base/bytes.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/base/error.h"
#include "pedigree/log/keys.h"

namespace pedigree::log {

// Domain separation: an entry signature can never be replayed as another kind of signature.
inline constexpr std::string_view kEntrySignaturePrefix = "pedigree/entry/v1\n";
inline constexpr std::string_view kEntryAlgorithm = "Ed25519";

// The envelope bytes for `payload` signed by `key`. entry.malformed (field "payload") when
// the payload is not an object or holds a double or an integer beyond ±(2^53-1).
[[nodiscard]] Result<std::string> SignEntry(const JsonValue& payload, const PrivateKey& key);

struct OpenedEntry {
  JsonValue payload;
  // JCS(payload): the bytes after the signature prefix, a substring of the envelope.
  std::string payload_bytes;
  PublicKey key;
  Bytes signature;
};

// Parses (integers_only), checks and verifies an envelope. Errors:
//   entry.malformed       not JSON, wrong members or types (field names the member);
//   entry.not_canonical   valid JSON but not byte-identical to its JCS form (offset given);
//   entry.unsupported_alg alg is not "Ed25519";
//   entry.bad_signature   the signature does not verify.
[[nodiscard]] Result<OpenedEntry> OpenEntry(std::string_view envelope);

// OpenEntry without returning the parse: the sequencer's hot path. Thread-safe.
[[nodiscard]] Status VerifyEntry(std::string_view envelope);

}  // namespace pedigree::log
