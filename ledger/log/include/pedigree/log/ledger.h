// A ledger: one verifiable log in a directory, with its own origin and signing key.
// It ties together storage (SQLite), the sequencer (parallel signature checks, group
// commit), and checkpoints (C2SP signed notes). See ../../../../docs/ledger-format.md.
//
// Directory layout:
//   ledger.db        SQLite database (entries, tiles, checkpoints, metadata)
//   log-key.pem      the log's Ed25519 private key, PKCS#8 PEM, mode 0600
//   log.vkey         the log's note verifier key, for anyone who checks checkpoints
//   lock             held with flock(LOCK_EX) while a process has the ledger open: the
//                    sequencer keeps the tree's right edge in memory, so a second writer
//                    would fork it
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pedigree/base/bytes.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/base/error.h"
#include "pedigree/log/integrity.h"
#include "pedigree/log/keys.h"
#include "pedigree/log/note.h"
#include "pedigree/log/sequencer.h"
#include "pedigree/log/storage.h"

namespace pedigree::log {

struct LedgerOptions {
  // Called once the storage is open and before the sequencer starts; returns the rules
  // checked on the writer thread, in index order, inside the commit's transaction (the
  // provenance model plugs in here). May be empty.
  std::function<Result<EntryValidator>(LogStorage& storage, const PublicKey& log_key)> attach;
  // The model the ledger runs ("provenance/v1"), recorded by Create. A ledger recorded
  // with a model refuses appends (ledger.model_required) when opened without `attach`,
  // so no path bypasses the model's rules; reads, proofs and checkpoints still work.
  std::string model;
  // Metadata written by Create before `attach` runs (e.g. the consortium authority key).
  std::vector<std::pair<std::string, std::string>> initial_meta;
  // The log's clock (unix seconds): the sequencing time recorded in every entry (see
  // SequencerOptions::clock). Empty = the system clock.
  std::function<int64_t()> clock;
  size_t verify_threads = 0;  // 0 = all cores
  size_t max_batch = 4096;
  // Open (never Create) for reading beside a running writer: no directory lock, no
  // sequencer, a read-only SQLite connection that neither migrates nor writes; the tree is
  // the one committed at open. Appends are ledger.read_only; SignCheckpoint returns the
  // stored checkpoint of that size or signs one without storing it (Ed25519 is
  // deterministic: the same note the writer would store).
  bool read_only = false;
  // Open a mirror's copy (replica.h) as a read-only ledger (implies read_only). A mirror never
  // holds the log's private key: the public key comes from log.vkey, log-key.pem is never
  // read. The tree is the one of the newest stored checkpoint (the log's note, cosigned by
  // the mirror once every entry of it was verified), not the storage's size: a sync stores
  // entries before the checkpoint that covers them. SignCheckpoint and LatestCheckpoint
  // return that note; SignAsNode is ledger.read_only; holds_log_key() is false and
  // SignStatement must not be called (reports leave their evidence index unsigned).
  bool replica = false;
  // Where the log's data live: empty for SQLite (ledger.db in the directory); a PostgreSQL
  // connection string (`postgresql://…` or `key=value …`) for that database, the directory
  // then keeping only the keys and configuration (docs/storage.md). A read_only open of
  // PostgreSQL takes no directory lock and reads the database as it is; a replica is
  // always SQLite (this is ignored).
  std::string storage;
};

struct InclusionEvidence {
  uint64_t index = 0;
  uint64_t size = 0;
  Hash leaf_hash{};
  std::vector<Hash> path;
  Hash root{};
};

// Move-only owner of a file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();
  int get() const { return fd_; }

 private:
  int fd_ = -1;
};

class Ledger {
 public:
  // Creates `dir` (mode 0700) holding a new empty log named `origin` and a fresh log
  // key. Fails with ledger.exists if a ledger is already there.
  [[nodiscard]] static Result<std::unique_ptr<Ledger>> Create(const std::string& dir,
                                                              const std::string& origin,
                                                              LedgerOptions options = {});
  // Both fail with ledger.locked while another process has the ledger open.
  // Opens an existing ledger and checks that its latest signed checkpoint matches the
  // stored tree (storage.checkpoint_mismatch otherwise) and carries a valid signature.
  [[nodiscard]] static Result<std::unique_ptr<Ledger>> Open(const std::string& dir,
                                                            LedgerOptions options = {});

  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  const std::string& origin() const { return origin_; }
  const std::string& dir() const { return dir_; }
  // The C2SP note verifier key of this log: origin+keyid+base64(0x01||pubkey).
  std::string VerifierKey() const;
  const PublicKey& log_public_key() const;
  // False for a replica open (LedgerOptions::replica): nothing can be signed as the log.
  bool holds_log_key() const { return node_key_ != nullptr; }
  // Read-only opens: adopts the tree committed since (a replica: the newest stored
  // checkpoint's), so answers follow a writer or a mirror's pulls. Thread-safe; a no-op for a
  // writer. Errors: storage.*.
  [[nodiscard]] Status Refresh();

  // Appends a signed version 2 envelope naming this log (see envelope.h and
  // VerifySubmission); returns its index once durable. The stored leaf carries the log's
  // sequencing time. A non-empty idempotency key seen before returns the original index.
  // `already_verified`: the caller signed (or verified) the envelope itself, so the
  // signature check is skipped; `payload`: the caller's parse of the envelope's payload,
  // alive until the result is in, so the model's rules do not parse it again; see
  // Sequencer::Submit.
  [[nodiscard]] Result<uint64_t> Append(std::string envelope, std::string idempotency_key = {},
                                        bool already_verified = false,
                                        const JsonValue* payload = nullptr);
  std::future<Result<uint64_t>> Submit(std::string envelope, std::string idempotency_key = {},
                                       bool already_verified = false,
                                       const JsonValue* payload = nullptr);
  // Appends `envelopes` all or nothing, in one storage transaction (Sequencer::SubmitGroup):
  // one result per envelope, every one an index, or the refused envelope's error and
  // sequencer.group_aborted for the others, nothing of them written. Waits for the commit.
  [[nodiscard]] std::vector<Result<uint64_t>> AppendGroup(std::vector<std::string> envelopes,
                                                          std::vector<std::string> keys = {},
                                                          bool already_verified = false);

  // Size and root of the committed tree. Thread-safe.
  uint64_t size() const;
  Hash root() const;

  // Signs a checkpoint for the current committed size, stores it and returns it. If a
  // checkpoint of this size already exists it is returned unchanged: the log never
  // signs two checkpoints of one size.
  [[nodiscard]] Result<StoredCheckpoint> SignCheckpoint();
  [[nodiscard]] Result<std::optional<StoredCheckpoint>> LatestCheckpoint();

  // Inclusion proof of entry `index` in the tree of `size` (default: committed size).
  [[nodiscard]] Result<InclusionEvidence> ProveInclusion(uint64_t index,
                                                         std::optional<uint64_t> size = {});
  [[nodiscard]] Result<std::vector<Hash>> ProveConsistency(uint64_t size1, uint64_t size2);
  [[nodiscard]] Result<Hash> RootAt(uint64_t size);
  // The stored entry, checked against its leaf hash (storage.corrupt when it was edited).
  [[nodiscard]] Result<std::string> Entry(uint64_t index);

  // Full audit: every leaf and stored hash recomputed, every entry's signature checked
  // (VerifyLeaf: a version 2 leaf must name this log and carry its sequencing time; version 1
  // leaves verify as they were signed), every stored checkpoint checked against the tree and
  // the log key.
  [[nodiscard]] Result<AuditReport> Audit();

  // Signs `payload` as the node itself (with the log key) for this log, for facts the node
  // records such as alerts.
  [[nodiscard]] Result<std::string> SignAsNode(const JsonValue& payload) const;
  // Signs `message` with the log key (the key that signs checkpoints) for statements the log
  // makes about itself, e.g. a report's evidence index. `message` must start with a domain
  // prefix of its own ("pedigree/<statement>/vN\n"; asserted to start with "pedigree/" and not
  // with the entry prefix) so the signature can never pass for a checkpoint or an entry's.
  // Requires holds_log_key() (asserted).
  Bytes SignStatement(std::string_view message) const;

  LogStorage& storage() { return *storage_; }
  // Where readers open the derived state (log::OpenReadOnly): the SQLite file, or on
  // PostgreSQL the storage's connection string.
  std::string db_path() const;

 private:
  Ledger(std::string dir, std::string origin, std::unique_ptr<LogStorage> storage,
         PrivateKey log_key);
  // A replica: the log's public key only.
  Ledger(std::string dir, std::unique_ptr<LogStorage> storage, const NoteVerifier& log_key);
  [[nodiscard]] static Result<std::unique_ptr<Ledger>> OpenReplica(const std::string& dir,
                                                                   const LedgerOptions& options);
  [[nodiscard]] Status StartSequencer(const LedgerOptions& options);
  [[nodiscard]] Status CheckSignedCheckpoint(const StoredCheckpoint& checkpoint) const;

  std::string dir_;
  std::string origin_;
  std::string storage_url_;  // LedgerOptions::storage; empty for SQLite
  std::unique_ptr<LogStorage> storage_;
  std::unique_ptr<NoteSigner> signer_;
  std::unique_ptr<PrivateKey> node_key_;
  PublicKey log_public_key_;
  std::unique_ptr<Sequencer> sequencer_;
  std::string verifier_key_;
  // Read-only opens: the tree committed at open or at the last Refresh (no sequencer),
  // guarded by read_only_mutex_ so that size and root always describe one tree.
  bool read_only_ = false;
  bool replica_ = false;
  mutable std::mutex read_only_mutex_;
  uint64_t read_only_size_ = 0;
  Hash read_only_root_{};
  uint64_t CommittedSize() const;
  std::string unattached_model_;  // non-empty: appends are refused
  std::mutex checkpoint_mutex_;
  UniqueFd lock_;
};

// File names inside a ledger directory.
inline constexpr const char* kLedgerDbFile = "ledger.db";
inline constexpr const char* kLogKeyFile = "log-key.pem";
inline constexpr const char* kLogVerifierKeyFile = "log.vkey";

// The storage of the ledger in `dir`, opened without the ledger's lock so that audits and
// reports can read next to a live node; `tile_cache_tiles` as in SqliteOptions.
// storage.not_found when there is no ledger database; storage.corrupt when its tiles do not
// cover exactly its entries.
[[nodiscard]] Result<std::unique_ptr<LogStorage>> OpenLedgerStorage(const std::string& dir,
                                                                    size_t tile_cache_tiles = 4096);

}  // namespace pedigree::log
