// C2SP signed-note, tlog-checkpoint and tlog-cosignature (cosignature/v1): how the log's
// checkpoints are signed by the log and cosigned by witnesses.
// See ../../../../docs/ledger-format.md, "Checkpoints and signed notes" and "Cosignatures".
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pedigree/base/bytes.h"
#include "pedigree/base/error.h"
#include "pedigree/log/keys.h"

namespace pedigree::log {

// A tlog-checkpoint body: "<origin>\n<size>\n<base64 root>\n".
struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Hash root{};

  friend bool operator==(const Checkpoint&, const Checkpoint&) = default;
};

// The three-line body with its trailing newline; no extension lines.
std::string FormatCheckpoint(const Checkpoint& checkpoint);
// Strict: origin non-empty without spaces, '+' or control characters; size in decimal
// without leading zeros; root strict base64 of 32 bytes; every line ends in '\n'.
// Extension lines after the root are allowed and ignored. Errors: checkpoint.malformed
// (with line), checkpoint.bad_root.
[[nodiscard]] Result<Checkpoint> ParseCheckpoint(std::string_view body);

// The signature types this code knows (C2SP signed-note). The key ID of every type is
// SHA-256(name || 0x0A || type || public key)[:4], read big-endian.
enum class NoteKeyType : uint8_t {
  kEd25519 = 0x01,        // a plain signed-note signature
  kCosignatureV1 = 0x04,  // tlog-cosignature: Ed25519 over "cosignature/v1\ntime T\n" + body
};

// Computes the key ID of (name, type, raw public key).
uint32_t NoteKeyId(std::string_view name, NoteKeyType type, std::span<const uint8_t> public_key);

// A named signing key for notes. Move-only (owns the private key); signing is thread-safe.
class NoteSigner {
 public:
  // Requires a valid key name: non-empty, no spaces, no '+', no control characters
  // (asserted; check with IsValidNoteKeyName first for untrusted input).
  NoteSigner(std::string name, PrivateKey key, NoteKeyType type = NoteKeyType::kEd25519);

  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }
  NoteKeyType type() const { return type_; }
  PublicKey public_key() const { return key_.public_key(); }
  // The verifier key "name+hex(keyID)+base64(type || public key)".
  std::string VerifierKey() const;

  // The raw signature field for `text` (key ID || Ed25519 signature); for a cosigner,
  // key ID || u64be timestamp || signature over the cosignature/v1 message.
  Bytes SignatureBytes(std::string_view text, uint64_t timestamp = 0) const;

 private:
  std::string name_;
  PrivateKey key_;
  NoteKeyType type_;
  uint32_t key_id_;
};

bool IsValidNoteKeyName(std::string_view name);

// A verifier key, parsed from "name+hex(keyID)+base64(type || public key)". Copyable,
// thread-safe.
class NoteVerifier {
 public:
  // Errors: note.bad_verifier_key (syntax, key ID mismatch), note.unsupported_key_type.
  [[nodiscard]] static Result<NoteVerifier> Parse(std::string_view vkey);
  NoteVerifier(std::string name, NoteKeyType type, PublicKey key);

  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }
  NoteKeyType type() const { return type_; }
  const PublicKey& public_key() const { return key_; }
  std::string ToString() const;

 private:
  std::string name_;
  NoteKeyType type_;
  PublicKey key_;
  uint32_t key_id_;
};

// "— <name> <base64(sig)>\n" for `text`, as SignNote and AddSignature append it.
std::string NoteSignatureLine(std::string_view text, const NoteSigner& signer);
// The tlog-cosignature line for a checkpoint body: "— <name> base64(keyID || u64be
// timestamp || sig)\n" where sig covers "cosignature/v1\ntime <timestamp>\n" + body. Requires
// signer.type() == kCosignatureV1 (asserted). This is what a witness returns.
std::string CosignatureLine(std::string_view checkpoint_body, const NoteSigner& cosigner,
                            uint64_t timestamp);

// A signed note: text (must end in '\n'; asserted), a blank line, one signature line.
// Requires an Ed25519 (0x01) signer.
std::string SignNote(std::string_view text, const NoteSigner& signer);

// Appends signature lines to an existing signed note, after checking its syntax
// (note.malformed). Existing signatures are not verified. `lines` must be complete
// signature lines ("— name base64\n"...), e.g. from CosignatureLine.
[[nodiscard]] Result<std::string> AddSignatureLines(std::string_view note, std::string_view lines);
// Adds `signer`'s signature (Ed25519) to an existing signed note.
[[nodiscard]] Result<std::string> AddSignature(std::string_view note, const NoteSigner& signer);
// Adds a cosignature/v1 line by `cosigner` at `timestamp` (Unix seconds).
[[nodiscard]] Result<std::string> Cosign(std::string_view note, const NoteSigner& cosigner,
                                         uint64_t timestamp);

struct VerifiedSignature {
  size_t verifier_index;  // into the span given to OpenNote
  std::string name;
  uint32_t key_id;
  NoteKeyType type;
  std::optional<uint64_t> timestamp;  // cosignatures only
};

struct OpenedNote {
  std::string text;  // the signed text, ending in '\n'
  std::vector<VerifiedSignature> verified;
  size_t unverified_count = 0;  // signatures by keys not in the verifier list
};

// Opens a signed note following C2SP signed-note: the text must be UTF-8 without control
// characters other than '\n' and end in '\n'; signatures by unknown (name, key ID) pairs
// are ignored. Errors: note.malformed (with line number), note.bad_signature (a known key's
// signature fails, or a known key signs twice), note.no_verified_signature.
[[nodiscard]] Result<OpenedNote> OpenNote(std::string_view note,
                                          std::span<const NoteVerifier> verifiers);

}  // namespace pedigree::log
