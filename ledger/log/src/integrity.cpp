#include "pedigree/log/integrity.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "pedigree/log/compact_range.h"
#include "pedigree/log/merkle.h"
#include "pedigree/log/note.h"
#include "pedigree/log/proof.h"

namespace pedigree::log {

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

Status CheckStoredEntry(LogStorage& storage, uint64_t index, std::string_view entry) {
  auto stored = storage.ReadHash(0, index);
  if (!stored) return std::unexpected(stored.error());
  const Hash calculated = LeafHash(AsBytes(entry));
  if (*stored != calculated) {
    return Fail("storage.corrupt", "entry " + std::to_string(index) +
                                       " does not match its leaf hash: stored " + ToHex(*stored) +
                                       ", calculated from the stored entry " + ToHex(calculated) +
                                       " (the entry was edited in the database)");
  }
  return Ok();
}

Result<std::string> ReadCheckedEntry(LogStorage& storage, uint64_t index) {
  auto entry = storage.ReadEntry(index);
  if (!entry) return std::unexpected(entry.error());
  if (auto st = CheckStoredEntry(storage, index, *entry); !st) return std::unexpected(st.error());
  return entry;
}

Status CheckTailEntries(LogStorage& storage, uint64_t tail) {
  auto size = storage.Size();
  if (!size) return std::unexpected(size.error());
  const uint64_t begin = *size > tail ? *size - tail : 0;
  if (begin == *size) return Ok();
  auto entries = storage.ReadEntries(begin, *size);
  if (!entries) return std::unexpected(entries.error());
  for (uint64_t i = begin; i < *size; ++i) {
    if (auto st = CheckStoredEntry(storage, i, (*entries)[i - begin]); !st) return st;
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
// Entries a verifying thread claims at once: small, so that no thread is left with a
// long tail at the end of a chunk while the others wait.
constexpr size_t kVerifyBlock = 16;

// Verification of one chunk of entries on background threads, which take blocks from a
// shared counter while the auditing thread hashes the same chunk and reads the next one.
// Join() waits for them; the destructor joins too, so an early return cannot leave a
// thread reading entries that are gone.
class ChunkVerification {
 public:
  ChunkVerification(const std::vector<std::string>& entries, uint64_t first_index,
                    const EntryVerifier& verifier, size_t threads)
      : entries_(entries), first_index_(first_index), verifier_(verifier) {
    if (!verifier_) return;
    pool_.reserve(threads);
    for (size_t t = 0; t < threads; ++t) pool_.emplace_back([this] { Work(); });
  }
  ~ChunkVerification() { Join(); }
  ChunkVerification(const ChunkVerification&) = delete;
  ChunkVerification& operator=(const ChunkVerification&) = delete;

  void Join() {
    for (auto& t : pool_) {
      if (t.joinable()) t.join();
    }
  }
  // After Join(): entries accepted, and the lowest index refused with its error.
  uint64_t verified() const { return verified_.load(); }
  std::optional<std::pair<uint64_t, Error>>& refused() { return refused_; }

 private:
  void Work() {
    uint64_t accepted = 0;
    for (size_t begin = next_.fetch_add(kVerifyBlock); begin < entries_.size();
         begin = next_.fetch_add(kVerifyBlock)) {
      const size_t end = std::min(entries_.size(), begin + kVerifyBlock);
      for (size_t i = begin; i < end; ++i) {
        const uint64_t index = first_index_ + i;
        // Past a refusal nothing is reported: stop verifying there.
        if (index > lowest_refused_.load(std::memory_order_relaxed)) break;
        if (auto st = verifier_(entries_[i]); !st) {
          std::lock_guard lock(mu_);
          if (!refused_ || index < refused_->first) {
            refused_.emplace(index, st.error());
            lowest_refused_.store(index, std::memory_order_relaxed);
          }
        } else {
          ++accepted;
        }
      }
    }
    verified_.fetch_add(accepted);
  }

  const std::vector<std::string>& entries_;
  const uint64_t first_index_;
  const EntryVerifier& verifier_;
  std::atomic<size_t> next_{0};
  std::atomic<uint64_t> verified_{0};
  std::atomic<uint64_t> lowest_refused_{UINT64_MAX};
  std::mutex mu_;
  std::optional<std::pair<uint64_t, Error>> refused_;  // guarded by mu_ until Join()
  std::vector<std::thread> pool_;
};

// A finding of the auditing thread while the chunk's signatures are still being checked:
// kept until they are, since a refused signature at a lower index (or at the same index,
// for a checkpoint found after it) comes first.
struct TreeFinding {
  uint64_t entry = 0;            // the entry whose processing found it
  bool after_signature = false;  // a checkpoint check, which follows entry's signature check
  uint64_t bad_index = 0;
  std::string code, message, expected, calculated;
};

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
                             const CheckpointVerifier& checkpoint_verifier,
                             const AuditProgress& progress) {
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
  Result<std::vector<std::string>> next_entries =
      storage.ReadEntries(0, std::min<uint64_t>(*size, kAuditChunk));
  for (uint64_t begin = 0; begin < *size; begin += kAuditChunk) {
    const uint64_t end = std::min(*size, begin + kAuditChunk);
    Result<std::vector<std::string>> entries = std::move(next_entries);
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
    // Signatures are checked on `threads` threads while this one hashes the chunk, checks
    // the tree and reads the next chunk: the verifying threads never wait for it.
    ChunkVerification verification(*entries, begin, verifier, threads);
    std::optional<TreeFinding> finding;
    std::vector<uint64_t> checked_here;  // checkpoint sizes counted in this chunk
    for (uint64_t i = begin; i < end && !finding; ++i) {
      completed.clear();
      range.Append(LeafHash(AsBytes((*entries)[i - begin])), &completed);
      for (const StoredHash& h : completed) {
        auto stored = storage.ReadHash(h.level, h.index);
        if (!stored) return std::unexpected(stored.error());
        if (*stored == h.hash) continue;
        if (h.level == 0) {
          finding = TreeFinding{i,
                                false,
                                i,
                                "audit.leaf_mismatch",
                                "entry " + std::to_string(i) + ": stored leaf hash " +
                                    ToHex(*stored) + ", calculated from the entry " + ToHex(h.hash),
                                ToHex(*stored),
                                ToHex(h.hash)};
        } else {
          finding = TreeFinding{i,
                                false,
                                i,
                                "audit.hash_mismatch",
                                "node (level " + std::to_string(h.level) + ", index " +
                                    std::to_string(h.index) + ") completed by entry " +
                                    std::to_string(i) + ": stored " + ToHex(*stored) +
                                    ", calculated " + ToHex(h.hash),
                                ToHex(*stored),
                                ToHex(h.hash)};
        }
        break;
      }
      if (finding) break;
      if (auto it = checkpoints.find(i + 1); it != checkpoints.end()) {
        const Hash root = range.Root();
        if (root != it->second) {
          finding =
              TreeFinding{i,
                          true,
                          i + 1,
                          "audit.checkpoint_mismatch",
                          "checkpoint of size " + std::to_string(i + 1) + ": stored root " +
                              ToHex(it->second) + ", calculated from the entries " + ToHex(root),
                          ToHex(it->second),
                          ToHex(root)};
          break;
        }
        ++report.checkpoints_checked;
        checked_here.push_back(i + 1);
      }
    }
    if (!finding && end < *size) {
      next_entries = storage.ReadEntries(end, std::min(*size, end + kAuditChunk));
    }
    verification.Join();
    report.entries_verified += verification.verified();
    auto& refused = verification.refused();
    if (refused && (!finding || refused->first < finding->entry ||
                    (refused->first == finding->entry && finding->after_signature))) {
      // Checkpoints counted past the refused entry were not reached in index order.
      for (uint64_t s : checked_here) {
        if (s > refused->first) --report.checkpoints_checked;
      }
      const uint64_t i = refused->first;
      return found(
          i, "audit.bad_entry",
          "entry " + std::to_string(i) + " refused by the verifier: " + refused->second.ToString());
    }
    if (finding) {
      return found(finding->bad_index, std::move(finding->code), std::move(finding->message),
                   std::move(finding->expected), std::move(finding->calculated));
    }
    report.size = end;
    if (progress) progress(end, *size);
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

}  // namespace pedigree::log
