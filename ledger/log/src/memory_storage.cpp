#include <algorithm>
#include <string>

#include "pedigree/log/storage.h"

namespace pedigree::log {

LogStorage::~LogStorage() = default;

Result<std::vector<std::optional<uint64_t>>> LogStorage::FindIdempotencyKeys(
    std::span<const std::string_view> keys) {
  std::vector<std::optional<uint64_t>> out;
  out.reserve(keys.size());
  for (std::string_view key : keys) {
    PEDIGREE_ASSIGN(found, FindIdempotencyKey(key));
    out.push_back(*found);
  }
  return out;
}

namespace {
std::unexpected<Error> NotFound(const std::string& what) { return Fail("storage.not_found", what); }
}  // namespace

Result<Hash> MemoryStorage::ReadHash(uint32_t level, uint64_t index) {
  std::lock_guard lock(mu_);
  if (level >= levels_.size() || index >= levels_[level].size()) {
    return NotFound("no hash at level " + std::to_string(level) + " index " +
                    std::to_string(index));
  }
  return levels_[level][index];
}

Result<uint64_t> MemoryStorage::Size() {
  std::lock_guard lock(mu_);
  return entries_.size();
}

Status MemoryStorage::Append(uint64_t first_index, std::span<const std::string> entries,
                             std::span<const std::string> idempotency_keys,
                             std::span<const StoredHash> hashes,
                             const std::function<Status()>& within) {
  std::lock_guard lock(mu_);
  if (fail_next_append_) {
    fail_next_append_ = false;
    return Fail("storage.io", "injected failure of Append");
  }
  if (first_index < entries_.size()) {
    return Fail("storage.append_conflict", "append at index " + std::to_string(first_index) +
                                               ", but the log already holds " +
                                               std::to_string(entries_.size()) + " entries");
  }
  if (first_index != entries_.size()) {
    return Fail("storage.append_gap", "append at index " + std::to_string(first_index) +
                                          ", stored size is " + std::to_string(entries_.size()));
  }
  if (!idempotency_keys.empty() && idempotency_keys.size() != entries.size()) {
    return Fail("storage.invalid_argument", "idempotency keys do not match entries");
  }
  // Validate the order of the hashes before changing anything.
  std::vector<uint64_t> next(levels_.size());
  for (size_t l = 0; l < levels_.size(); ++l) next[l] = levels_[l].size();
  for (const StoredHash& h : hashes) {
    if (next.size() <= h.level) next.resize(h.level + 1, 0);
    if (h.index != next[h.level]) {
      return Fail("storage.hash_order", "hash at level " + std::to_string(h.level) + " index " +
                                            std::to_string(h.index) + ", expected index " +
                                            std::to_string(next[h.level]));
    }
    ++next[h.level];
  }
  std::vector<size_t> old_sizes;
  for (const auto& level : levels_) old_sizes.push_back(level.size());
  for (const StoredHash& h : hashes) {
    if (levels_.size() <= h.level) levels_.resize(h.level + 1);
    levels_[h.level].push_back(h.hash);
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    entries_.push_back(entries[i]);
    if (!idempotency_keys.empty() && !idempotency_keys[i].empty()) {
      idempotency_.emplace(idempotency_keys[i], first_index + i);
    }
  }
  if (within) {
    if (auto st = within(); !st) {
      // Roll back: `within` ran after the rows were visible, as in a transaction.
      entries_.resize(first_index);
      levels_.resize(old_sizes.size());
      for (size_t l = 0; l < levels_.size(); ++l) levels_[l].resize(old_sizes[l]);
      for (const auto& key : idempotency_keys) {
        auto it = idempotency_.find(key);
        if (it != idempotency_.end() && it->second >= first_index) idempotency_.erase(it);
      }
      return st;
    }
  }
  return Ok();
}

Result<std::string> MemoryStorage::ReadEntry(uint64_t index) {
  std::lock_guard lock(mu_);
  if (index >= entries_.size()) return NotFound("no entry " + std::to_string(index));
  return entries_[index];
}

Result<std::vector<std::string>> MemoryStorage::ReadEntries(uint64_t begin, uint64_t end) {
  std::lock_guard lock(mu_);
  if (begin > end || end > entries_.size()) {
    return NotFound("no entries [" + std::to_string(begin) + ", " + std::to_string(end) + ")");
  }
  return std::vector<std::string>(entries_.begin() + static_cast<ptrdiff_t>(begin),
                                  entries_.begin() + static_cast<ptrdiff_t>(end));
}

Result<std::optional<uint64_t>> MemoryStorage::FindIdempotencyKey(std::string_view key) {
  std::lock_guard lock(mu_);
  auto it = idempotency_.find(std::string(key));
  if (it == idempotency_.end()) return std::optional<uint64_t>();
  return std::optional<uint64_t>(it->second);
}

Status MemoryStorage::StoreCheckpoint(const StoredCheckpoint& checkpoint) {
  std::lock_guard lock(mu_);
  auto it = checkpoints_.find(checkpoint.size);
  if (it != checkpoints_.end()) {
    if (it->second.root != checkpoint.root) {
      return Fail("storage.checkpoint_conflict",
                  "checkpoint of size " + std::to_string(checkpoint.size) + " has root " +
                      ToHex(it->second.root) + ", refused " + ToHex(checkpoint.root));
    }
    return Ok();
  }
  checkpoints_.emplace(checkpoint.size, checkpoint);
  return Ok();
}

Result<std::optional<StoredCheckpoint>> MemoryStorage::LatestCheckpoint() {
  std::optional<StoredCheckpoint> checkpoint;
  {
    std::lock_guard lock(mu_);
    if (!checkpoints_.empty()) checkpoint = checkpoints_.rbegin()->second;
  }
  return WithStoredCosignatures(*this, std::move(checkpoint));
}

Result<std::optional<StoredCheckpoint>> MemoryStorage::CheckpointAt(uint64_t size) {
  std::optional<StoredCheckpoint> checkpoint;
  {
    std::lock_guard lock(mu_);
    if (auto it = checkpoints_.find(size); it != checkpoints_.end()) checkpoint = it->second;
  }
  return WithStoredCosignatures(*this, std::move(checkpoint));
}

Result<std::vector<uint64_t>> MemoryStorage::CheckpointSizes() {
  std::lock_guard lock(mu_);
  std::vector<uint64_t> sizes;
  for (const auto& [size, cp] : checkpoints_) sizes.push_back(size);
  return sizes;
}

Result<std::string> MemoryStorage::GetMeta(std::string_view key) {
  std::lock_guard lock(mu_);
  auto it = meta_.find(key);
  if (it == meta_.end()) return NotFound("no meta key " + std::string(key));
  return it->second;
}

Status MemoryStorage::SetMeta(std::string_view key, std::string_view value) {
  std::lock_guard lock(mu_);
  meta_.insert_or_assign(std::string(key), std::string(value));
  return Ok();
}

void MemoryStorage::FailNextAppend() {
  std::lock_guard lock(mu_);
  fail_next_append_ = true;
}

void MemoryStorage::TamperEntry(uint64_t index, std::string data) {
  std::lock_guard lock(mu_);
  entries_.at(index) = std::move(data);
}

}  // namespace pedigree::log
