// The storage interface of the verifiable log, and its in-memory implementation for
// tests. Backends (SQLite here, PostgreSQL later) implement LogStorage; callers never
// depend on a backend. See ../../../../docs/merkle-log.md ("Storage").
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pedigree/base/error.h"
#include "pedigree/log/compact_range.h"
#include "pedigree/log/proof.h"

namespace pedigree::log {

// A checkpoint as stored: the tree size, its root and the signed note text (opaque here).
struct StoredCheckpoint {
  uint64_t size = 0;
  Hash root{};
  std::string note;
};

// Durable, append-only storage of entries, perfect subtree hashes, idempotency keys,
// checkpoints and metadata. Every method is thread-safe. ReadHash (from HashReader)
// returns storage.not_found for a node that is not complete in the stored tree.
class LogStorage : public HashReader {
 public:
  ~LogStorage() override;

  // Number of entries durably stored.
  virtual Result<uint64_t> Size() = 0;

  // Appends entries at indices [first_index, first_index+n) together with the hashes
  // they complete (CompactRange::Append output, any order of levels) and their
  // idempotency keys (empty string = none; otherwise idempotency_keys.size() == n),
  // atomically and durably: the call returns only after the commit is on disk.
  // `within` is called inside the same transaction after the log rows are written and
  // before commit, so a caller can write derived rows; if it fails, nothing is written
  // and its error is returned. Requires first_index == Size(): storage.append_gap when
  // it is larger, storage.append_conflict when smaller (the indices are taken, e.g. by
  // another writer on a shared database; checked inside the transaction).
  virtual Status Append(uint64_t first_index, std::span<const std::string> entries,
                        std::span<const std::string> idempotency_keys,
                        std::span<const StoredHash> hashes,
                        const std::function<Status()>& within = {}) = 0;

  // storage.not_found for index >= Size().
  virtual Result<std::string> ReadEntry(uint64_t index) = 0;
  // Entries [begin, end); storage.not_found unless begin <= end <= Size().
  virtual Result<std::vector<std::string>> ReadEntries(uint64_t begin, uint64_t end) = 0;
  virtual Result<std::optional<uint64_t>> FindIdempotencyKey(std::string_view key) = 0;
  // FindIdempotencyKey for each of `keys` (non-empty), in order. The default asks one at
  // a time; a backend across a network answers in one round trip.
  virtual Result<std::vector<std::optional<uint64_t>>> FindIdempotencyKeys(
      std::span<const std::string_view> keys);

  // Stores a checkpoint; storing the same (size, root) again is a no-op. Refuses
  // (storage.checkpoint_conflict) a second checkpoint of the same size with another root.
  virtual Status StoreCheckpoint(const StoredCheckpoint& checkpoint) = 0;
  virtual Result<std::optional<StoredCheckpoint>> LatestCheckpoint() = 0;
  virtual Result<std::optional<StoredCheckpoint>> CheckpointAt(uint64_t size) = 0;
  // Sizes of all stored checkpoints, ascending (for audits).
  virtual Result<std::vector<uint64_t>> CheckpointSizes() = 0;

  // Small key/value settings (origin name, key paths, ...); storage.not_found if unset.
  virtual Result<std::string> GetMeta(std::string_view key) = 0;
  virtual Status SetMeta(std::string_view key, std::string_view value) = 0;
};

// Witness cosignatures of stored checkpoints (docs/witness.md, "The node as witness client").
// The checkpoints table is append-only, so the cosignature lines a witness returned live beside
// it, in meta "cosignatures/<size>", one line per cosigner name (the latest replaces an
// earlier one); LatestCheckpoint and CheckpointAt return the note with them appended, so
// every reader (the checkpoint endpoint, reports, bundles, disclosures) carries them.
// `lines` are complete note signature lines ("— name base64\n"...). One writer at a time
// (the witness client). Errors: note.malformed (a line that is not a signature line),
// storage.*.
[[nodiscard]] Status MergeCosignatures(LogStorage& storage, uint64_t size, std::string_view lines);
// `checkpoint`'s note with the stored cosignature lines of its size appended.
[[nodiscard]] Result<std::optional<StoredCheckpoint>> WithStoredCosignatures(
    LogStorage& storage, std::optional<StoredCheckpoint> checkpoint);

// Everything in process memory, every level of hashes kept. For tests and tools; not
// durable. Fault injection: FailNextAppend makes the next Append fail with storage.io.
class MemoryStorage final : public LogStorage {
 public:
  Result<Hash> ReadHash(uint32_t level, uint64_t index) override;
  Result<uint64_t> Size() override;
  Status Append(uint64_t first_index, std::span<const std::string> entries,
                std::span<const std::string> idempotency_keys, std::span<const StoredHash> hashes,
                const std::function<Status()>& within = {}) override;
  Result<std::string> ReadEntry(uint64_t index) override;
  Result<std::vector<std::string>> ReadEntries(uint64_t begin, uint64_t end) override;
  Result<std::optional<uint64_t>> FindIdempotencyKey(std::string_view key) override;
  Status StoreCheckpoint(const StoredCheckpoint& checkpoint) override;
  Result<std::optional<StoredCheckpoint>> LatestCheckpoint() override;
  Result<std::optional<StoredCheckpoint>> CheckpointAt(uint64_t size) override;
  Result<std::vector<uint64_t>> CheckpointSizes() override;
  Result<std::string> GetMeta(std::string_view key) override;
  Status SetMeta(std::string_view key, std::string_view value) override;

  void FailNextAppend();
  // Test hook: overwrites a stored entry without touching its hashes.
  void TamperEntry(uint64_t index, std::string data);

 private:
  // Recursive: `within` may call back into this storage.
  std::recursive_mutex mu_;
  std::vector<std::string> entries_;
  std::vector<std::vector<Hash>> levels_;
  std::unordered_map<std::string, uint64_t> idempotency_;
  std::map<uint64_t, StoredCheckpoint> checkpoints_;
  std::map<std::string, std::string, std::less<>> meta_;
  bool fail_next_append_ = false;
};

}  // namespace pedigree::log
