// Integrity checks of a stored log: the quick one at open, and the full audit that
// recomputes everything from the entries. See ../../../../docs/merkle-log.md ("Audit").
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "pedigree/base/error.h"
#include "pedigree/log/note.h"
#include "pedigree/log/sequencer.h"
#include "pedigree/log/storage.h"

namespace pedigree::log {

// The latest stored checkpoint's root must equal TreeRoot(checkpoint.size) computed from
// the stored hashes (storage.checkpoint_mismatch, with expected and calculated roots),
// and its size must not exceed the stored size. Ok when there is no checkpoint.
[[nodiscard]] Status CheckLatestCheckpoint(LogStorage& storage);

// `entry`, read back from storage at `index`, must hash to the stored leaf hash of that
// index: storage.corrupt naming the index and both hashes otherwise (an entry edited in
// the database). Every entry that is served or used passes this check.
[[nodiscard]] Status CheckStoredEntry(LogStorage& storage, uint64_t index, std::string_view entry);

// Reads entry `index` and checks it with CheckStoredEntry.
[[nodiscard]] Result<std::string> ReadCheckedEntry(LogStorage& storage, uint64_t index);

// The start-up check of a node (milliseconds at any size): the latest checkpoint's root
// recomputed from the stored hashes (CheckLatestCheckpoint) and the last `tail` entries
// checked against their leaf hashes (storage.corrupt naming the first bad index).
[[nodiscard]] Status CheckTailEntries(LogStorage& storage, uint64_t tail = 64);

// The stored checkpoint's note carries a valid signature by `log_key` and its body names
// the log key's name as origin and the row's size and root; storage.checkpoint_mismatch
// (both sides named) or the note's error otherwise.
[[nodiscard]] Status CheckCheckpointNote(const StoredCheckpoint& checkpoint,
                                         const NoteVerifier& log_key);

// Outcome of AuditLog. `problem` is the first thing found wrong, in index order:
// audit.leaf_mismatch (stored leaf hash differs from the entry's), audit.hash_mismatch
// (a stored interior hash differs), audit.bad_entry (the verifier refused the entry; the
// message carries its error), audit.checkpoint_mismatch (a checkpoint root differs from
// the recomputed tree), audit.inconsistent (two checkpoints fail a consistency proof),
// audit.missing_entry (a row below the stored size is gone), audit.checkpoint_signature
// (the checkpoint verifier refused a stored checkpoint).
struct AuditReport {
  uint64_t size = 0;  // entries audited
  Hash root{};        // recomputed root of all entries
  uint64_t checkpoints_checked = 0;
  uint64_t entries_verified = 0;  // entries the verifier accepted (0 without a verifier)
  std::optional<Error> problem;
  std::optional<uint64_t> bad_index;  // entry index (or checkpoint size) of the problem
  // For hash and root mismatches: the stored value and the value recalculated from the
  // entries, in hex; empty otherwise.
  std::string expected;
  std::string calculated;
  bool ok() const { return !problem.has_value(); }
};

// Checks one stored checkpoint's signed note (signature, and that its body names the
// stored size and root); the audit calls it for every stored checkpoint.
using CheckpointVerifier = std::function<Status(const StoredCheckpoint& checkpoint)>;

// Told how many of `total` entries are audited so far, once per chunk of entries (not per
// entry), on the calling thread; for a progress line.
using AuditProgress = std::function<void(uint64_t done, uint64_t total)>;

// Recomputes every leaf hash from the entries and every stored hash from those,
// verifies every entry with `verifier` (if set) on `threads` threads (0 = all cores),
// and checks every stored checkpoint's root, its note with `checkpoint_verifier` (if
// set), the consistency of consecutive checkpoints and of each with the newest. Storage
// failures are returned as errors; findings go in the report. `progress` (if set) is told
// after each chunk of entries.
[[nodiscard]] Result<AuditReport> AuditLog(LogStorage& storage, const EntryVerifier& verifier,
                                           size_t threads = 0,
                                           const CheckpointVerifier& checkpoint_verifier = {},
                                           const AuditProgress& progress = {});

}  // namespace pedigree::log
