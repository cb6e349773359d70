// The signed entry ("envelope"): the exact bytes the log stores, hashes and serves.
// See ../../../../docs/ledger-format.md, "Signed entry (envelope)".
//
// A version 2 envelope, the one a ledger accepts, is the RFC 8785 canonical JSON object
//   {"alg":"Ed25519","key":"<base64 32-byte public key>","log":"<origin>","payload":<object>,
//    "sig":"<base64 64-byte signature>"}
// where sig is the Ed25519 signature of
//   "pedigree/entry/v2\n" || origin || "\n" || JCS(payload)
// so that an entry signed for one log cannot be replayed into another. Once sequenced, the
// stored leaf also carries the log's own time, spliced in before "sig" (outside the
// signature, inside the leaf hash):
//   {...,"payload":<object>,"seq":{"time":"YYYY-MM-DDThh:mm:ssZ"},"sig":"..."}
// Version 1 envelopes ({"alg","key","payload","sig"}, signature over
// "pedigree/entry/v1\n" || JCS(payload)) are no longer accepted for appending but still
// open and verify, so that old ledgers and bundles stay auditable.
// Payloads obey JsonParseOptions::integers_only (no floats, |n| <= 2^53-1).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pedigree/base/bytes.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/base/error.h"
#include "pedigree/log/keys.h"

namespace pedigree::log {

// Domain separation: an entry signature can never be replayed as another kind of signature.
inline constexpr std::string_view kEntrySignaturePrefix = "pedigree/entry/v1\n";
inline constexpr std::string_view kEntrySignaturePrefixV2 = "pedigree/entry/v2\n";
inline constexpr std::string_view kEntryAlgorithm = "Ed25519";

// The version 2 envelope bytes for `payload` signed by `key` for the log named `origin`.
// entry.malformed (field "payload") when the payload is not an object or holds a double or
// an integer beyond ±(2^53-1); (field "log") when the origin is empty or holds a newline.
[[nodiscard]] Result<std::string> SignEntry(const JsonValue& payload, const PrivateKey& key,
                                            std::string_view origin);
// A version 1 envelope, which names no log: only for tests and tools that must produce
// what old ledgers hold. No ledger accepts one for appending.
[[nodiscard]] Result<std::string> SignEntryV1(const JsonValue& payload, const PrivateKey& key);

struct OpenedEntry {
  JsonValue payload;
  // JCS(payload): the signed bytes after the signature prefix, a substring of the envelope.
  std::string payload_bytes;
  PublicKey key;
  Bytes signature;
  int version = 1;  // 1 or 2
  // The origin of the log the entry was signed for; empty for version 1.
  std::string log;
  // The log's sequencing time (unix seconds) and its text, when the leaf carries one
  // (sequenced version 2 entries); absent for version 1 and for unsequenced envelopes.
  std::optional<int64_t> sequenced_at;
  std::string sequenced_text;
};

// The exact bytes `entry`'s signature covers (prefix, origin line for v2, payload).
std::string SignedMessage(const OpenedEntry& entry);

// Parses (integers_only), checks and verifies an envelope of either version, sequenced or
// not. Errors:
//   entry.malformed       not JSON, wrong members or types (field names the member), or a
//                         seq time that is not "YYYY-MM-DDThh:mm:ssZ";
//   entry.not_canonical   valid JSON but not byte-identical to its JCS form (offset given);
//   entry.unsupported_alg alg is not "Ed25519";
//   entry.bad_signature   the signature does not verify.
[[nodiscard]] Result<OpenedEntry> OpenEntry(std::string_view envelope);

// OpenEntry without returning the parse: the audit's and the sequencer's hot path.
// Thread-safe.
[[nodiscard]] Status VerifyEntry(std::string_view envelope);

// What a ledger named `origin` accepts for appending: VerifyEntry, and also
//   entry.version_unsupported  a version 1 envelope (it names no log);
//   entry.wrong_log            the envelope names another log (field "log");
//   entry.sequenced            the envelope already carries a "seq" member (only the log
//                              writes it). Thread-safe.
[[nodiscard]] Status VerifySubmission(std::string_view envelope, std::string_view origin);

// What a ledger named `origin` may hold at a leaf: VerifyEntry, and a version 2 leaf must
// name `origin` (entry.wrong_log) and carry its sequencing time (entry.malformed, "seq").
[[nodiscard]] Status VerifyLeaf(std::string_view envelope, std::string_view origin);

// Splices `"seq":{"time":"<time>"}` into an unsequenced envelope that VerifySubmission
// accepted, before "sig": a string operation, the result still canonical JCS. Returns
// false, leaving `envelope` as it was, when it is not laid out as such an envelope.
bool StampEntry(std::string& envelope, int64_t unix_seconds);

// The parts of an envelope laid out as every canonical one is (so every envelope that
// VerifyEntry accepted), as views into `envelope`, found without parsing it: the base64 key
// text, the payload's bytes (JCS), and the sequencing time's text when the leaf carries one.
// Checks nothing beyond the layout (not the payload, key, time or signature): for entries
// already verified, e.g. stored leaves. nullopt when `envelope` is laid out otherwise.
struct EnvelopeParts {
  std::string_view key;
  std::string_view payload;
  std::optional<std::string_view> seq_time;
};
std::optional<EnvelopeParts> SplitEnvelope(std::string_view envelope);

// The sequencing time of a stored leaf, without checking its signature (it was checked
// when it was appended); nullopt for version 1 leaves and anything else without one.
std::optional<int64_t> LeafSequencingTime(std::string_view envelope);

}  // namespace pedigree::log
