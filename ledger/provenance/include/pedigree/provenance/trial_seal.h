// Trial dataset seals: salted record commitments, the RFC 6962 seal tree in key order,
// record-level comparison of a candidate file with a sealed snapshot, and single-record
// disclosure files checked against the ledger. Pure functions: no storage, no clock.
// Formats, key order and every error code: ../../../../docs/trials.md ("Seal and disclosure
// formats").
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pedigree/base/bytes.h"
#include "pedigree/base/error.h"
#include "pedigree/log/note.h"
#include "pedigree/log/proof.h"
#include "pedigree/provenance/trial_dataset.h"

namespace pedigree::provenance {

inline constexpr std::string_view kTrialSealAlgorithm = "pedigree-trial-seal/v1";
inline constexpr std::string_view kDisclosureFormat = "pedigree-disclosure/v1";

// A record salt: 16 bytes (128 bits) from the CSPRNG.
using Salt = std::array<uint8_t, 16>;
Salt FreshSalt();

// The record commitment ("leaf") SHA-256(salt || canonical). Thread-safe.
Hash RecordCommitment(std::span<const uint8_t> salt, std::string_view canonical);

// Orders two RecordKey strings: component by component (split on unescaped '|', compared
// unescaped); canonical non-negative decimal integers compare numerically and sort before
// any other text; other texts compare bytewise; a key that runs out of components first
// sorts first. A total order. <0, 0 or >0.
int CompareRecordKeys(std::string_view a, std::string_view b);
inline bool RecordKeyLess(std::string_view a, std::string_view b) {
  return CompareRecordKeys(a, b) < 0;
}
// Bytes whose bytewise order is CompareRecordKeys' order (equal iff the keys are equal):
// per component 0x01 + u32be length + digits for a number, 0x02 + text with 0x00 written as
// 0x00 0x01 + 0x00 0x00 otherwise.
std::string RecordSortKey(std::string_view key);

// Lower-case hex SHA-256 of the RFC 8785 JSON array of {"dataType","name"} objects, one per
// column, sorted by name (bytewise; names are unique). dataType is "" when unknown (CSV).
std::string SchemaHash(std::span<const Column> columns);

// One record of a seal. `salt` and `canonical` are absent once redacted (the leaf stays);
// a published seal may also carry salts without the records.
struct SealedRecord {
  std::string key;
  std::optional<Salt> salt;
  Hash leaf{};
  std::optional<std::string> canonical;
  uint64_t line = 0;  // the source line, when sealed from a file; 0 otherwise

  bool redacted() const { return !salt.has_value(); }
};

// What the trial.seal event commits to.
struct SealSummary {
  Hash root{};
  uint64_t record_count = 0;
  std::string schema_hash;
  std::string algorithm = std::string(kTrialSealAlgorithm);

  friend bool operator==(const SealSummary&, const SealSummary&) = default;
};

// A sealed dataset: the summary and its records in key order (leaf index = position).
struct DatasetSeal {
  SealSummary summary;
  std::vector<SealedRecord> records;
};

// Seals every record of `dataset` with a fresh salt each. Errors: trial.empty_dataset,
// trial.duplicate_key (naming the key and both lines).
[[nodiscard]] Result<DatasetSeal> SealDataset(const Dataset& dataset);
// As above with given salts: salts[i] salts dataset.records[i] (source order). Requires
// salts.size() == dataset.records.size() (trial.salt_count otherwise).
[[nodiscard]] Result<DatasetSeal> SealDataset(const Dataset& dataset, std::span<const Salt> salts);
// Seals records that already carry their leaves (e.g. read from a store, redacted ones
// included): sorts them into key order and computes the root. Records with a salt and a
// canonical form must reproduce their leaf (trial.leaf_mismatch). Errors as SealDataset.
[[nodiscard]] Result<DatasetSeal> SealRecords(std::vector<SealedRecord> records,
                                              std::string schema_hash);

// The seal tree over commitments in key order: tree leaf i = LeafHash(c_i) (RFC 6962), so
// a Go tlog verifier checks inclusion with tlog.RecordHash(c). Holds every perfect subtree
// hash (about 64 bytes per record); proofs and the root come from ledger/proof.h.
// Immutable after construction, so concurrent reads are safe.
class SealTree final : public log::HashReader {
 public:
  // Hashes on up to `threads` threads (0 = hardware concurrency).
  explicit SealTree(std::span<const Hash> commitments, unsigned threads = 0);

  uint64_t size() const { return levels_.empty() ? 0 : levels_[0].size(); }
  // MTH over all commitments; EmptyRoot() when there are none.
  Hash Root() const { return root_; }
  // PATH(index) bottom-up. merkle.index_out_of_range when index >= size().
  [[nodiscard]] Result<std::vector<Hash>> InclusionProof(uint64_t index) const;

  Result<Hash> ReadHash(uint32_t level, uint64_t index) override;

 private:
  std::vector<std::vector<Hash>> levels_;
  Hash root_{};
};

// The root over leaves already in key order (a SealTree's Root()).
Hash SealRoot(std::span<const Hash> commitments_in_key_order);

// ---- Comparison of a candidate file with a sealed snapshot ----

// One cell that differs. A value is the cell's text, or nullopt for a JSON null or when
// the column is absent on that side (`in_sealed` / `in_candidate` say which).
struct CellChange {
  std::string column;
  std::optional<std::string> sealed;
  std::optional<std::string> candidate;
  bool in_sealed = true;
  bool in_candidate = true;
};

// A key present on both sides whose candidate record does not reproduce the sealed leaf.
// `cells` is empty when the seal holds no record text for the key (values not known).
struct ChangedRecord {
  std::string key;
  uint64_t candidate_line = 0;
  bool values_known = true;
  std::vector<CellChange> cells;
};

struct KeyAtLine {
  std::string key;
  uint64_t line = 0;  // candidate line; 0 for keys only in the seal
};

// Outcome of the optional byte-exact check.
struct FileHashCheck {
  std::string recorded;   // hex
  std::string candidate;  // hex SHA-256 of the candidate bytes
  bool matches() const { return recorded == candidate; }
};

struct DatasetDiff {
  uint64_t sealed_count = 0;
  uint64_t candidate_count = 0;
  std::vector<ChangedRecord> changed;  // in key order
  std::vector<KeyAtLine> added;        // in the candidate only, key order
  std::vector<KeyAtLine> deleted;      // in the seal only, key order
  // Keys present in the candidate whose sealed record is redacted (no salt left), so they
  // cannot be checked either way.
  std::vector<KeyAtLine> unverifiable;
  std::optional<FileHashCheck> file_hash;  // set in byte-exact mode

  // Every record reproduces its sealed leaf and none is missing or extra.
  bool records_identical() const {
    return changed.empty() && added.empty() && deleted.empty() && unverifiable.empty();
  }
};

struct CompareOptions {
  // Byte-exact mode: the SHA-256 of `candidate_bytes` is compared with `recorded_file_hash`.
  std::optional<Hash> recorded_file_hash;
  std::string_view candidate_bytes;
  unsigned threads = 0;  // 0 = hardware concurrency
};

// Compares `candidate` with `seal` at record level: each candidate record is matched by key
// and its commitment SHA-256(sealed salt || CanonicalRecord) checked against the sealed
// leaf, so row order, column order, CRLF/LF and the file format do not matter. Errors:
// trial.seal_root_mismatch (the sealed leaves in key order do not give summary.root; both
// roots named), trial.count_mismatch, trial.unsorted_seal, trial.leaf_mismatch (a sealed
// record's own salt and text do not give its leaf: the seal store is damaged).
[[nodiscard]] Result<DatasetDiff> CompareDataset(const DatasetSeal& seal, const Dataset& candidate,
                                                 const CompareOptions& options = {});

// ---- Disclosure (pedigree-disclosure/v1) ----

// The ledger's evidence for the trial.seal event, as the caller fetched it from the log.
struct SealEvidence {
  std::string seal_entry;       // the signed envelope bytes of the trial.seal event
  uint64_t seal_index = 0;      // its log index
  std::vector<Hash> log_proof;  // inclusion of seal_entry in the checkpoint's tree
  std::string checkpoint;       // the signed note text of a checkpoint covering it
};

struct Disclosure {
  std::string trial_id;
  std::string domain;
  std::string key;
  std::string canonical;  // CanonicalRecord bytes (a JSON object of strings and nulls)
  Salt salt{};
  Hash leaf{};
  uint64_t leaf_index = 0;
  uint64_t record_count = 0;  // the size of the seal tree `proof` is for
  std::vector<Hash> proof;
  SealSummary seal;
  SealEvidence evidence;
};

// Assembles a disclosure of `seal.records[index]`, with its proof from `tree` (built over
// the same records). Errors: trial.redacted (no salt or text left), merkle.* for the index.
[[nodiscard]] Result<Disclosure> MakeDisclosure(std::string trial_id, std::string domain,
                                                const DatasetSeal& seal, const SealTree& tree,
                                                uint64_t index, SealEvidence evidence);
// As above from the one record at leaf `index` of a seal summarised by `summary`, for a
// caller that keeps the tree but not every record (a single-record read need not load the
// domain). Errors: trial.redacted, merkle.* for the index.
[[nodiscard]] Result<Disclosure> MakeDisclosure(std::string trial_id, std::string domain,
                                                const SealSummary& summary,
                                                const SealedRecord& record, const SealTree& tree,
                                                uint64_t index, SealEvidence evidence);

// The disclosure file: RFC 8785 canonical JSON.
std::string DisclosureToJson(const Disclosure& disclosure);
// Strict reading of a disclosure file. Errors: disclosure.malformed (field names the member).
[[nodiscard]] Result<Disclosure> ParseDisclosure(std::string_view json);

struct VerifiedDisclosure {
  log::Checkpoint checkpoint;
  std::string record_key;
  std::string signer_key;  // base64 public key that signed the seal entry
};

// Verifies with only the log's verifier keys, in this order:
//   disclosure.bad_checkpoint        the note does not open with a given key, or its text is
//                                    not a checkpoint;
//   disclosure.seal_index_out_of_range  sealIndex >= checkpoint size;
//   disclosure.seal_not_included     logProof does not put sealEntry at sealIndex in the root;
//   disclosure.seal_entry_invalid    sealEntry is not a validly signed trial.seal envelope;
//   disclosure.seal_mismatch         its trialId/domain/root/recordCount/schemaHash/algorithm
//                                    differ from the file's;
//   disclosure.unsupported_algorithm algorithm is not pedigree-trial-seal/v1;
//   disclosure.tree_size_mismatch    recordCount differs from the sealed recordCount;
//   disclosure.leaf_mismatch         SHA-256(salt || record) != leaf (wrong salt or record);
//   disclosure.key_mismatch          the key is not made of the record's values: a component
//                                    is no value of the record, or the record's STUDYID,
//                                    USUBJID or <domain>SEQ is not in it;
//   disclosure.index_out_of_range    leafIndex >= recordCount;
//   disclosure.proof_invalid         the proof does not put leaf at leafIndex in the root.
[[nodiscard]] Result<VerifiedDisclosure> VerifyDisclosure(
    const Disclosure& disclosure, std::span<const log::NoteVerifier> log_verifiers);

}  // namespace pedigree::provenance
