#include "pedigree/ledger/integrity.h"

#include <algorithm>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "pedigree/ledger/compact_range.h"
#include "pedigree/ledger/merkle.h"
#include "pedigree/ledger/note.h"
#include "pedigree/ledger/proof.h"

namespace pedigree::ledger {

Status CheckLatestCheckpoint(LogStorage& storage) {
  auto latest = storage.LatestCheckpoint();
  if (!latest) return std::unexpected(latest.error());
  if (!*latest) return Ok();
  const StoredCheckpoint& cp = **latest;
  auto size = storage.Size();
  if (!size) return std::unexpected(size.error());
  if (cp.size > *size) {
    return Fail("storage.checkpoint_mismatch", "latest checkpoint has size " +
                                                   std::to_string(cp.size) + " but only " +
                                                   std::to_string(*size) + " entries are stored");
  }
  auto root = TreeRoot(cp.size, storage);
  if (!root) return std::unexpected(root.error());
  if (*root != cp.root) {
    return Fail("storage.checkpoint_mismatch",
                "checkpoint of size " + std::to_string(cp.size) + ": expected root " +
                    ToHex(cp.root) + ", calculated from stored hashes " + ToHex(*root));
  }
  return Ok();
}

Status CheckCheckpointNote(const StoredCheckpoint& checkpoint, const NoteVerifier& log_key) {
  std::vector<NoteVerifier> verifiers{log_key};
  auto opened = OpenNote(checkpoint.note, verifiers);
  if (!opened) {
    return Fail(opened.error().with_context("stored checkpoint of size " +
                                            std::to_string(checkpoint.size)));
  }
  auto body = ParseCheckpoint(opened->text);
  if (!body) return std::unexpected(body.error());
  if (body->origin != log_key.name() || body->size != checkpoint.size ||
      body->root != checkpoint.root) {
    return Fail("storage.checkpoint_mismatch",
                "stored checkpoint row of size " + std::to_string(checkpoint.size) + ", root " +
                    ToHex(checkpoint.root) + " does not match its signed note (origin " +
                    body->origin + ", size " + std::to_string(body->size) + ", root " +
                    ToHex(body->root) + ")");
  }
  return Ok();
}

namespace {

constexpr uint64_t kAuditChunk = 8192;

struct ChunkResult {
  std::vector<Hash> leaves;
  uint64_t verified = 0;
  // Lowest index in the chunk the verifier refused, with its error.
  std::optional<std::pair<uint64_t, Error>> refused;
};

ChunkResult HashAndVerify(const std::vector<std::string>& entries, uint64_t first_index,
                          const EntryVerifier& verifier, size_t threads) {
  ChunkResult out;
  out.leaves.resize(entries.size());
  std::vector<std::optional<std::pair<uint64_t, Error>>> refused(threads);
  std::vector<uint64_t> verified(threads, 0);
  auto work = [&](size_t t) {
    for (size_t i = t; i < entries.size(); i += threads) {
      out.leaves[i] = LeafHash(AsBytes(entries[i]));
      if (verifier && !refused[t]) {
        if (auto st = verifier(entries[i]); !st) {
          refused[t].emplace(first_index + i, st.error());
        } else {
          ++verified[t];
        }
      }
    }
  };
  if (threads <= 1) {
    work(0);
  } else {
    std::vector<std::thread> pool;
    for (size_t t = 0; t < threads; ++t) pool.emplace_back(work, t);
    for (auto& th : pool) th.join();
  }
  for (uint64_t v : verified) out.verified += v;
  for (auto& r : refused) {
    if (r && (!out.refused || r->first < out.refused->first)) out.refused = std::move(r);
  }
  return out;
}

// The first index in [begin, end) whose entry cannot be read, when a range read failed
// because rows are missing; nullopt when every entry reads.
std::optional<uint64_t> FirstUnreadable(LogStorage& storage, uint64_t begin, uint64_t end) {
  for (uint64_t i = begin; i < end; ++i) {
    if (!storage.ReadEntry(i)) return i;
  }
  return std::nullopt;
}

}  // namespace

Result<AuditReport> AuditLog(LogStorage& storage, const EntryVerifier& verifier, size_t threads,
                             const CheckpointVerifier& checkpoint_verifier) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  AuditReport report;
  auto size = storage.Size();
  if (!size) return std::unexpected(size.error());
  auto sizes = storage.CheckpointSizes();
  if (!sizes) return std::unexpected(sizes.error());
  std::map<uint64_t, Hash> checkpoints;
  std::vector<StoredCheckpoint> stored_checkpoints;
  for (uint64_t s : *sizes) {
    auto cp = storage.CheckpointAt(s);
    if (!cp) return std::unexpected(cp.error());
    if (*cp) {
      checkpoints.emplace(s, (*cp)->root);
      stored_checkpoints.push_back(std::move(**cp));
    }
  }
  auto found = [&](uint64_t index, std::string code, std::string message, std::string expected = {},
                   std::string calculated = {}) {
    report.problem = Error(std::move(code), std::move(message));
    report.bad_index = index;
    report.expected = std::move(expected);
    report.calculated = std::move(calculated);
    return report;
  };

  CompactRange range;
  std::vector<StoredHash> completed;
  for (uint64_t begin = 0; begin < *size; begin += kAuditChunk) {
    const uint64_t end = std::min(*size, begin + kAuditChunk);
    auto entries = storage.ReadEntries(begin, end);
    if (!entries) {
      // Rows deleted behind the log's back: name the first one instead of giving up.
      if (entries.error().code() == "storage.corrupt") {
        if (auto missing = FirstUnreadable(storage, begin, end)) {
          return found(*missing, "audit.missing_entry",
                       "entry " + std::to_string(*missing) + " is missing below the stored size " +
                           std::to_string(*size) + ": " + entries.error().message());
        }
      }
      return std::unexpected(entries.error());
    }
    ChunkResult chunk = HashAndVerify(*entries, begin, verifier, threads);
    report.entries_verified += chunk.verified;
    for (uint64_t i = begin; i < end; ++i) {
      completed.clear();
      range.Append(chunk.leaves[i - begin], &completed);
      for (const StoredHash& h : completed) {
        auto stored = storage.ReadHash(h.level, h.index);
        if (!stored) return std::unexpected(stored.error());
        if (*stored == h.hash) continue;
        if (h.level == 0) {
          return found(i, "audit.leaf_mismatch",
                       "entry " + std::to_string(i) + ": stored leaf hash " + ToHex(*stored) +
                           ", calculated from the entry " + ToHex(h.hash),
                       ToHex(*stored), ToHex(h.hash));
        }
        return found(i, "audit.hash_mismatch",
                     "node (level " + std::to_string(h.level) + ", index " +
                         std::to_string(h.index) + ") completed by entry " + std::to_string(i) +
                         ": stored " + ToHex(*stored) + ", calculated " + ToHex(h.hash),
                     ToHex(*stored), ToHex(h.hash));
      }
      if (chunk.refused && chunk.refused->first == i) {
        return found(i, "audit.bad_entry",
                     "entry " + std::to_string(i) +
                         " refused by the verifier: " + chunk.refused->second.ToString());
      }
      if (auto it = checkpoints.find(i + 1); it != checkpoints.end()) {
        const Hash root = range.Root();
        if (root != it->second) {
          return found(i + 1, "audit.checkpoint_mismatch",
                       "checkpoint of size " + std::to_string(i + 1) + ": stored root " +
                           ToHex(it->second) + ", calculated from the entries " + ToHex(root),
                       ToHex(it->second), ToHex(root));
        }
        ++report.checkpoints_checked;
      }
    }
    report.size = end;
  }
  report.size = *size;
  report.root = range.Root();
  for (const auto& [s, root] : checkpoints) {
    if (s > *size) {
      return found(s, "audit.checkpoint_mismatch",
                   "checkpoint of size " + std::to_string(s) + " is beyond the " +
                       std::to_string(*size) + " stored entries");
    }
    if (s == 0 && root != EmptyRoot()) {
      return found(
          0, "audit.checkpoint_mismatch",
          "checkpoint of size 0: stored root " + ToHex(root) + ", expected " + ToHex(EmptyRoot()),
          ToHex(root), ToHex(EmptyRoot()));
    }
  }
  if (checkpoint_verifier) {
    for (const StoredCheckpoint& cp : stored_checkpoints) {
      if (auto st = checkpoint_verifier(cp); !st) {
        return found(
            cp.size, "audit.checkpoint_signature",
            "checkpoint of size " + std::to_string(cp.size) + ": " + st.error().ToString());
      }
    }
  }
  // Consistency between consecutive checkpoints, through proofs from stored hashes.
  const std::pair<const uint64_t, Hash>* previous = nullptr;
  for (const auto& cp : checkpoints) {
    if (cp.first == 0) continue;
    if (previous) {
      auto proof = ConsistencyProof(previous->first, cp.first, storage);
      if (!proof) return std::unexpected(proof.error());
      if (auto st =
              VerifyConsistency(previous->first, cp.first, *proof, previous->second, cp.second);
          !st) {
        return found(cp.first, "audit.inconsistent",
                     "checkpoints " + std::to_string(previous->first) + " and " +
                         std::to_string(cp.first) + ": " + st.error().ToString());
      }
    }
    previous = &cp;
  }
  // Each checkpoint against the newest too: what a client holding an old checkpoint
  // checks when it sees the newest one.
  if (previous) {
    for (const auto& cp : checkpoints) {
      if (cp.first == 0 || cp.first == previous->first) continue;
      auto proof = ConsistencyProof(cp.first, previous->first, storage);
      if (!proof) return std::unexpected(proof.error());
      if (auto st =
              VerifyConsistency(cp.first, previous->first, *proof, cp.second, previous->second);
          !st) {
        return found(cp.first, "audit.inconsistent",
                     "checkpoint " + std::to_string(cp.first) + " and the newest " +
                         std::to_string(previous->first) + ": " + st.error().ToString());
      }
    }
  }
  return report;
}

}  // namespace pedigree::ledger
