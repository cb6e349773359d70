// A replica ledger: a directory holding a verified copy of another party's log, kept by a
// mirror. It has the log's verifier key but never its private key, and a cosigner key of its
// own. It appends the log's already sequenced leaves verbatim (the bytes and sequencing time
// the node stored), and only in batches that it has checked end to end:
//   - every leaf's signature (VerifyLeaf, as Ledger::Audit checks it);
//   - the tree: the right edge plus the batch's leaf hashes must give the root of a checkpoint
//     signed by the log key (directly when the batch ends at the checkpoint's size, through a
//     consistency proof when it ends before it);
//   - the model's rules: each leaf passes the same validator the node runs (ReplicaOptions::
//     attach, e.g. provenance::ProvenanceLedgerOptions().attach) inside the commit's
//     transaction, so the derived state is a replay of the rules by construction.
// Any failure stores nothing of the batch. Once a batch reaching a checkpoint's size is
// durably committed, the checkpoint note is stored as the log signed it and the mirror adds its
// cosignature/v1 line (stored beside it, see MergeCosignatures).
// See ../../../../docs/mirror.md.
//
// Directory layout:
//   ledger.db        SQLite database, same schema as a node's (so the audit and the read-only
//                    API code work on it)
//   log.vkey         the mirrored log's note verifier key (given to `mirror init`)
//   mirror-key.pem   the mirror's Ed25519 cosigner key, PKCS#8 PEM, mode 0600
//   mirror.vkey      the mirror's cosigner verifier key name+keyid+base64(0x04||pk)
//   lock             flock(LOCK_EX) while a process appends to the replica
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pedigree/base/error.h"
#include "pedigree/log/compact_range.h"
#include "pedigree/log/integrity.h"
#include "pedigree/log/ledger.h"
#include "pedigree/log/note.h"
#include "pedigree/log/storage.h"

namespace pedigree::log {

inline constexpr const char* kMirrorKeyFile = "mirror-key.pem";
inline constexpr const char* kMirrorVerifierKeyFile = "mirror.vkey";

struct ReplicaOptions {
  // The model's rules, as LedgerOptions::attach (called once the storage is open; by Create
  // too, so a model can set up its tables). Required when the replica records a model:
  // appends are ledger.model_required otherwise.
  std::function<Result<EntryValidator>(LogStorage& storage, const PublicKey& log_key)> attach;
  // Recorded by Create (e.g. "provenance/v1"), with `initial_meta` (e.g. the consortium
  // authority key the rules need).
  std::string model;
  std::vector<std::pair<std::string, std::string>> initial_meta;
  // Unix seconds for cosignature timestamps; the system clock when empty.
  std::function<uint64_t()> clock;
  size_t verify_threads = 0;  // leaf signature checks; 0 = all cores
};

// One batch of a pipelined catch-up (Replica::AppendBatches).
struct ReplicaBatch {
  std::vector<std::string> leaves;  // the log's entries from the index asked for, in order
  // The consistency proof from the batch's end to the checkpoint's size, empty when the batch
  // ends at it; untrusted, as AppendBatch's `proof`.
  std::vector<Hash> proof;
};
// Fetches the batch that begins at index `at` (e.g. 16 entry bundles from the node).
using ReplicaBatchSource = std::function<Result<ReplicaBatch>(uint64_t at)>;

// What one AppendBatch (or AppendBatches) did.
struct ReplicaAppend {
  uint64_t first = 0;  // index of the first entry of the batch
  uint64_t size = 0;   // replica size after the batch
  // Set when the batch reached the checkpoint's size: the stored checkpoint note with the
  // stored cosignatures, the mirror's among them.
  std::optional<std::string> cosigned_note;
};

class Replica {
 public:
  // Creates `dir` (mode 0700) for a copy of the log whose verifier key is `log_vkey` (an
  // Ed25519 note key; its name is the log's origin), with a fresh cosigner key named `name`.
  // Errors: mirror.exists, mirror.config (bad name or key), mirror.io, key.*, storage.*.
  [[nodiscard]] static Result<std::unique_ptr<Replica>> Create(const std::string& dir,
                                                               const std::string& name,
                                                               std::string_view log_vkey,
                                                               ReplicaOptions options = {});
  // Opens an existing replica (taking its lock: ledger.locked when another process has it),
  // checks the latest stored checkpoint against the tree and the log key.
  // Errors: mirror.not_found, ledger.locked, storage.*, key.*.
  [[nodiscard]] static Result<std::unique_ptr<Replica>> Open(const std::string& dir,
                                                             ReplicaOptions options = {});
  ~Replica();
  Replica(const Replica&) = delete;
  Replica& operator=(const Replica&) = delete;

  const std::string& dir() const { return dir_; }
  const std::string& origin() const { return log_key_->name(); }
  const NoteVerifier& log_verifier() const { return *log_key_; }
  const NoteSigner& cosigner() const { return *cosigner_; }
  std::string VerifierKey() const { return cosigner_->VerifierKey(); }
  uint64_t size() const;
  Hash root() const;
  LogStorage& storage() { return *storage_; }

  // Opens `note` with the log key and parses its checkpoint, which must name this log's
  // origin. Errors: mirror.untrusted_checkpoint (no valid log signature, another origin),
  // note.malformed, checkpoint.*.
  [[nodiscard]] Result<Checkpoint> VerifyCheckpoint(std::string_view note) const;

  // Appends `leaves` at index size() after checking them against the signed checkpoint
  // `note` (see the file comment). `proof` is the consistency proof from size()+n to the
  // checkpoint's size (empty when the batch ends at it); it need not be trusted, it is
  // verified. Errors, each storing nothing: mirror.untrusted_checkpoint, mirror.conflict (the
  // checkpoint is smaller than the replica), mirror.batch_beyond_checkpoint, mirror.bad_entry
  // (index and the leaf's error), mirror.root_mismatch (both roots), mirror.rules_refused
  // (index and the rule's code), ledger.model_required, storage.*.
  [[nodiscard]] Result<ReplicaAppend> AppendBatch(std::span<const std::string> leaves,
                                                  std::string_view note,
                                                  std::span<const Hash> proof = {});

  // Catches up to the signed checkpoint `note`: fetches batches with `fetch` from size() on
  // until the checkpoint's size, each checked exactly as AppendBatch checks one and committed
  // in a transaction of its own. Pipelined: while batch k commits (inserts, rules, fsync) on
  // a background thread, batch k+1 is checked (signatures on verify_threads worker threads,
  // the tree on the calling thread) and batch k+2 fetched, so checks and durable commits
  // overlap instead of alternating. A batch is committed only once its own checks and every
  // earlier batch's commit have succeeded: on an error the batches before the failing one stay
  // committed (size() says how far), nothing of it or after it is stored, and the error is
  // the earliest batch's (AppendBatch's codes, naming the index or size concerned, or
  // fetch's own). `fetch` is called on the calling thread, one call at a time, in index order,
  // possibly for a batch after one that then fails. An empty batch before the checkpoint's
  // size ends the catch-up there without a cosignature. Returns first = the size before, size
  // = the size after, cosigned_note as AppendBatch when the checkpoint's size is reached.
  [[nodiscard]] Result<ReplicaAppend> AppendBatches(std::string_view note,
                                                    const ReplicaBatchSource& fetch);

  // As AppendBatch, for a C2SP tlog-mirror add-entries package (mirror_protocol.h): when the
  // leaves end before the checkpoint's size they are authenticated by `subtree_proof`, the
  // subtree consistency proof of [subtree_start, size()+n) in the checkpoint's tree, whose
  // hash is computed from the entries the replica holds from subtree_start on and `leaves`.
  // Same errors as AppendBatch, plus mirror.bad_subtree (subtree_start above size(), or not
  // a subtree's start).
  [[nodiscard]] Result<ReplicaAppend> AppendPackage(std::span<const std::string> leaves,
                                                    std::string_view note, uint64_t subtree_start,
                                                    std::span<const Hash> subtree_proof);
  // The latest stored checkpoint with its cosignatures (the mirror's included); nullopt
  // before the first synchronisation.
  [[nodiscard]] Result<std::optional<StoredCheckpoint>> LatestCheckpoint();

  // Ledger::Audit on the copy: leaves, hashes, signatures and checkpoints recomputed.
  [[nodiscard]] Result<AuditReport> Audit(const AuditProgress& progress = {});

 private:
  Replica() = default;
  [[nodiscard]] Status Attach(const ReplicaOptions& options);
  // Checks that the batch's root at `end` (< the checkpoint's size) belongs to the checkpoint.
  using TreeCheck =
      std::function<Status(uint64_t end, const Hash& new_root, const Checkpoint& checkpoint)>;
  // A batch whose signatures and tree passed, ready to commit.
  struct CheckedBatch {
    uint64_t first = 0;
    std::vector<std::string> owned;  // the leaves when AppendBatches holds them
    std::span<const std::string> leaves;
    std::vector<StoredHash> hashes;  // completed by the leaves, for the storage
    CompactRange range;              // the tree once the batch is appended
  };
  [[nodiscard]] Result<ReplicaAppend> Append(std::span<const std::string> leaves,
                                             std::string_view note, const TreeCheck& check_tree);
  // The checks before a batch's commit: the checkpoint's bounds, every leaf's signature (on
  // worker threads, while this thread hashes the leaves and then runs `meanwhile`) and the
  // tree. `range` is the tree before the batch.
  [[nodiscard]] Result<CheckedBatch> Check(std::span<const std::string> leaves,
                                           const CompactRange& range, const Checkpoint& checkpoint,
                                           const TreeCheck& check_tree,
                                           const std::function<void()>& meanwhile);
  // Stores a checked batch in one transaction, the rules run inside it.
  [[nodiscard]] Status Commit(const CheckedBatch& batch);
  // Once the entries up to the checkpoint's size are durable: stores the note and cosigns it.
  [[nodiscard]] Result<ReplicaAppend> Finish(uint64_t first, const CompactRange& range,
                                             const Checkpoint& checkpoint, std::string_view note);

  std::string dir_;
  std::optional<NoteVerifier> log_key_;
  std::unique_ptr<NoteSigner> cosigner_;
  std::unique_ptr<LogStorage> storage_;
  EntryValidator validator_;
  std::string unattached_model_;
  std::function<uint64_t()> clock_;
  size_t verify_threads_ = 0;
  mutable std::mutex mu_;  // guards range_; one AppendBatch at a time
  std::mutex append_mu_;
  CompactRange range_;
  UniqueFd lock_;
};

}  // namespace pedigree::log
