// A C2SP tlog-witness: cosigns a log's checkpoint only when it is consistent with the last
// checkpoint it cosigned for that log, persists its state per origin atomically with the
// old-size check, and keeps every signed checkpoint it cosigned as evidence. No HTTP here:
// the server in services/http maps the error codes (witness.*) to statuses.
// See ../../../../docs/witness.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pedigree/base/bytes.h"
#include "pedigree/base/error.h"
#include "pedigree/log/note.h"

namespace pedigree::log {

// The spec's limit on consistency-proof lines in an add-checkpoint body.
inline constexpr size_t kWitnessMaxProofLines = 63;
// The largest add-checkpoint body the witness reads (63 proof lines take < 3 KiB; a
// checkpoint with a few dozen signatures fits easily). Larger: witness.body_too_large (413).
inline constexpr size_t kWitnessMaxBodyBytes = 16 * 1024;

// An add-checkpoint body: "old <size>\n", up to 63 base64 proof hashes one per line, an
// empty line, then the signed checkpoint note.
struct AddCheckpointRequest {
  uint64_t old_size = 0;
  std::vector<Hash> proof;
  std::string note;
};

// Strict parse. Errors: witness.body_too_large (413); (400) witness.malformed (with line:
// no "old N" line, a size with leading zeros or beyond 64 bits, a proof line that is not
// base64 of 32 bytes, no empty line before the note), witness.too_many_proof_lines.
[[nodiscard]] Result<AddCheckpointRequest> ParseAddCheckpoint(std::string_view body);
// The body a witness client sends.
std::string FormatAddCheckpoint(uint64_t old_size, std::span<const Hash> proof,
                                std::string_view note);

// A log this witness cosigns for: its origin and the keys it trusts for it.
struct WitnessedLog {
  std::string origin;
  std::vector<NoteVerifier> keys;
  // add-checkpoint requests per second accepted for this log (token bucket, bursts of one
  // second's worth); 0 = unlimited.
  double rate_per_second = 0;
};

// Parses one `log <vkey> [origin] [rate]` configuration line's fields (origin defaults to
// the key's name). Errors: witness.config.
[[nodiscard]] Result<WitnessedLog> ParseWitnessedLog(std::string_view vkey,
                                                     std::string_view origin = {},
                                                     std::string_view rate = {});
// A configuration file: one `log <vkey> [origin] [rate]` per line, '#' comments and blank
// lines ignored; a repeated origin adds its keys to the first. Errors: witness.config (with
// line).
[[nodiscard]] Result<std::vector<WitnessedLog>> ParseWitnessConfig(std::string_view text);

// The latest checkpoint the witness cosigned for an origin.
struct WitnessState {
  std::string origin;
  uint64_t size = 0;
  Hash root{};
  uint64_t timestamp = 0;  // of the witness's cosignature
  // The checkpoint text, the log's verified signature lines and the witness's line: what the
  // monitoring endpoint serves.
  std::string cosigned_note;
};

// One row of the evidence table: a signed checkpoint as received, and the cosignature the
// witness returned for it.
struct WitnessEvidence {
  int64_t id = 0;
  std::string origin;
  uint64_t size = 0;
  Hash root{};
  uint64_t timestamp = 0;
  std::string note;         // exactly as the request carried it
  std::string cosignature;  // the line(s) the witness answered
};

// The outcome of AddCheckpoint: the cosignature lines, or the error; with witness.conflict,
// `latest_size` is the size the witness holds for the origin (the 409 body).
struct AddCheckpointOutcome {
  Result<std::string> cosignature;
  std::optional<uint64_t> latest_size;
};

// A witness over a directory holding witness-key.pem (0600), witness.vkey and witness.db.
// Thread-safe: requests for any origin are applied one after another inside SQLite
// transactions (BEGIN IMMEDIATE, so other processes on the same file serialise too).
// Concurrent requests share a transaction and its fsync (group commit): each is checked
// against the state the requests before it left, and none is answered before the commit
// that makes its outcome durable.
class Witness {
 public:
  struct Options {
    // Unix seconds; the system clock when empty.
    std::function<uint64_t()> clock;
  };

  // Creates `dir` (which must not exist: witness.exists), a fresh key, witness.vkey and an
  // empty database. Returns the verifier key "name+keyid+base64(0x04||pubkey)".
  // Errors: witness.exists, witness.config (a bad name), witness.io.
  [[nodiscard]] static Result<std::string> Init(const std::string& dir, const std::string& name);
  // Errors: witness.config (no log, duplicate origins), witness.io, key.*, storage.*.
  [[nodiscard]] static Result<std::unique_ptr<Witness>> Open(const std::string& dir,
                                                             std::vector<WitnessedLog> logs,
                                                             Options options = {});
  ~Witness();
  Witness(const Witness&) = delete;
  Witness& operator=(const Witness&) = delete;

  const NoteSigner& signer() const;
  std::string VerifierKey() const { return signer().VerifierKey(); }
  const std::vector<WitnessedLog>& logs() const;

  // Handles one add-checkpoint body as C2SP tlog-witness says, in this order:
  //   body syntax (413 witness.body_too_large, 400 malformed / too_many_proof_lines);
  //   note syntax and checkpoint (400 witness.bad_note, witness.bad_checkpoint);
  //   origin configured (404 witness.unknown_log);
  //   a trusted key's signature, none failing (403 witness.bad_signature);
  //   old <= size (400 witness.old_too_large); the log's rate (429 witness.rate_limited);
  //   then in a transaction (shared with concurrent requests): old == the stored size, 0 for a new
  //   log (409 witness.conflict); the proof links the stored root to the new root, or equal sizes
  //   have equal roots and an empty proof (422 witness.inconsistent); sign with a timestamp
  //   that never goes below the last one; store state and evidence; commit.
  // Nothing is stored on any refusal. storage.* errors (5xx) leave the state unchanged.
  AddCheckpointOutcome AddCheckpoint(std::string_view body);

  // The latest cosigned checkpoint for `origin`, or nullopt when none.
  [[nodiscard]] Result<std::optional<WitnessState>> Latest(std::string_view origin);
  // The configured origin whose SHA-256 in lower-case hex is `hex`, if any.
  std::optional<std::string> OriginForHash(std::string_view hex) const;
  // Every cosigned checkpoint for `origin` (all origins when empty), oldest first.
  [[nodiscard]] Result<std::vector<WitnessEvidence>> Evidence(std::string_view origin = {});

  struct Impl;

 private:
  explicit Witness(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pedigree::log
