// Integrity checks of a stored log: the quick one at open, and the full audit that
// recomputes everything from the entries. See ../../../../docs/merkle-log.md ("Audit").
#pragma once

#include <cstdint>
#include <optional>

#include "pedigree/ledger/error.h"
#include "pedigree/ledger/sequencer.h"
#include "pedigree/ledger/storage.h"

namespace pedigree::ledger {

// The latest stored checkpoint's root must equal TreeRoot(checkpoint.size) computed from
// the stored hashes (storage.checkpoint_mismatch, with expected and calculated roots),
// and its size must not exceed the stored size. Ok when there is no checkpoint.
[[nodiscard]] Status CheckLatestCheckpoint(LogStorage& storage);

// Outcome of AuditLog. `problem` is the first thing found wrong, in index order:
// audit.leaf_mismatch (stored leaf hash differs from the entry's), audit.hash_mismatch
// (a stored interior hash differs), audit.bad_entry (the verifier refused the entry; the
// message carries its error), audit.checkpoint_mismatch (a checkpoint root differs from
// the recomputed tree), audit.inconsistent (two checkpoints fail a consistency proof).
struct AuditReport {
  uint64_t size = 0;  // entries audited
  Hash root{};        // recomputed root of all entries
  uint64_t checkpoints_checked = 0;
  std::optional<Error> problem;
  std::optional<uint64_t> bad_index;  // entry index (or checkpoint size) of the problem
  bool ok() const { return !problem.has_value(); }
};

// Recomputes every leaf hash from the entries and every stored hash from those,
// verifies every entry with `verifier` (if set) on `threads` threads (0 = all cores),
// and checks every stored checkpoint's root and their pairwise consistency. Storage
// failures are returned as errors; findings go in the report.
[[nodiscard]] Result<AuditReport> AuditLog(LogStorage& storage, const EntryVerifier& verifier,
                                           size_t threads = 0);

}  // namespace pedigree::ledger
