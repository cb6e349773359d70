#include "pedigree/log/sequencer.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <unordered_map>

#include "pedigree/log/envelope.h"
#include "pedigree/log/merkle.h"

namespace pedigree::log {

struct Sequencer::Item {
  std::string entry;
  std::string key;
  const JsonValue* payload = nullptr;  // the submitter's parse, alive until resolved
  std::promise<Result<uint64_t>> promise;
  bool verified = false;          // guarded by mu_
  bool already_verified = false;  // the submitter vouches for it: skip the verifier
  Status verdict;                 // written by the verifying thread before `verified`
  Hash leaf_hash{};
  uint64_t group = 0;  // SubmitGroup's id, 0 for none; a group's items are adjacent in queue_
};

namespace {

// SubmitGroup's ids (0: no group); unique across sequencers, which is all they need.
std::atomic<uint64_t> next_group{1};

Error GroupAborted() {
  return Error("sequencer.group_aborted",
               "another entry of the same all-or-nothing group was refused; nothing of the group "
               "was written");
}

}  // namespace

Result<std::unique_ptr<Sequencer>> Sequencer::Start(LogStorage& storage, SequencerOptions options) {
  auto size = storage.Size();
  if (!size) return std::unexpected(size.error());
  auto range = CompactRange::FromStorage(*size, storage);
  if (!range) return std::unexpected(range.error().with_context("resuming the compact range"));
  if (options.max_batch == 0) options.max_batch = 1;
  if (options.queue_capacity == 0) options.queue_capacity = 1;
  return std::unique_ptr<Sequencer>(new Sequencer(storage, std::move(options), *range));
}

Sequencer::Sequencer(LogStorage& storage, SequencerOptions options, CompactRange range)
    : storage_(storage), options_(std::move(options)), range_(std::move(range)) {
  root_ = range_.Root();
  last_time_ = options_.last_time;
  if (options_.verifier) {
    size_t threads = options_.verify_threads;
    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    options_.verify_threads = threads;
    for (size_t i = 0; i < threads; ++i) verifiers_.emplace_back([this] { VerifyLoop(); });
  }
  writer_ = std::thread([this] { WriteLoop(); });
}

Sequencer::~Sequencer() { Stop(); }

void Sequencer::Stop() {
  std::call_once(stop_once_, [this] {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    not_full_.notify_all();
    work_.notify_all();
    ready_.notify_all();
    for (auto& t : verifiers_) t.join();
    writer_.join();
  });
}

std::future<Result<uint64_t>> Sequencer::Submit(std::string entry, std::string idempotency_key,
                                                bool already_verified, const JsonValue* payload) {
  auto item = std::make_unique<Item>();
  item->entry = std::move(entry);
  item->key = std::move(idempotency_key);
  item->payload = payload;
  item->already_verified = already_verified;
  auto future = item->promise.get_future();
  // Hash on the submitting thread: submitters run in parallel, the writer does not.
  const bool skip_verifier = !options_.verifier || already_verified;
  if (skip_verifier && !options_.clock) item->leaf_hash = LeafHash(AsBytes(item->entry));
  std::unique_lock lock(mu_);
  not_full_.wait(lock, [&] { return stopping_ || queue_.size() < options_.queue_capacity; });
  if (stopping_) {
    item->promise.set_value(Fail("sequencer.stopped", "the sequencer is stopping"));
    return future;
  }
  Item* pushed = item.get();
  queue_.push_back(std::move(item));
  if (skip_verifier && next_to_verify_ + 1 == queue_.size()) {
    // Nothing unclaimed before it: ready for the writer without a verifying thread's
    // hop (a wake-up and a context switch per node-signed command).
    pushed->verified = true;
    ++next_to_verify_;
    ready_.notify_one();
  } else {
    work_.notify_one();
  }
  return future;
}

std::vector<std::future<Result<uint64_t>>> Sequencer::SubmitGroup(std::vector<std::string> entries,
                                                                  std::vector<std::string> keys,
                                                                  bool already_verified) {
  std::vector<std::future<Result<uint64_t>>> futures;
  std::vector<std::unique_ptr<Item>> items;
  const bool skip_verifier = !options_.verifier || already_verified;
  for (size_t i = 0; i < entries.size(); ++i) {
    auto item = std::make_unique<Item>();
    item->entry = std::move(entries[i]);
    if (i < keys.size()) item->key = std::move(keys[i]);
    item->already_verified = already_verified;
    if (skip_verifier && !options_.clock) item->leaf_hash = LeafHash(AsBytes(item->entry));
    futures.push_back(item->promise.get_future());
    items.push_back(std::move(item));
  }
  if (items.empty()) return futures;
  std::unique_lock lock(mu_);
  // The whole group at once, so that its items are adjacent; a group larger than the queue
  // waits for an empty queue.
  not_full_.wait(lock, [&] {
    return stopping_ || queue_.empty() || queue_.size() + items.size() <= options_.queue_capacity;
  });
  if (stopping_) {
    for (auto& item : items) {
      item->promise.set_value(Fail("sequencer.stopped", "the sequencer is stopping"));
    }
    return futures;
  }
  const uint64_t group = next_group.fetch_add(1);
  const bool nothing_unclaimed = next_to_verify_ == queue_.size();
  for (auto& item : items) {
    item->group = group;
    queue_.push_back(std::move(item));
  }
  if (skip_verifier && nothing_unclaimed) {
    for (size_t i = queue_.size() - futures.size(); i < queue_.size(); ++i) {
      queue_[i]->verified = true;
    }
    next_to_verify_ = queue_.size();
    ready_.notify_one();
  } else {
    work_.notify_all();
  }
  return futures;
}

Result<uint64_t> Sequencer::Append(std::string entry, std::string idempotency_key,
                                   bool already_verified, const JsonValue* payload) {
  return Submit(std::move(entry), std::move(idempotency_key), already_verified, payload).get();
}

uint64_t Sequencer::size() const {
  std::lock_guard lock(state_mu_);
  return range_.size();
}

Hash Sequencer::root() const {
  std::lock_guard lock(state_mu_);
  return root_;
}

size_t Sequencer::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void Sequencer::VerifyLoop() {
  std::unique_lock lock(mu_);
  for (;;) {
    work_.wait(lock, [&] { return stopping_ || next_to_verify_ < queue_.size(); });
    const size_t unclaimed = queue_.size() - next_to_verify_;
    if (unclaimed == 0) {
      if (stopping_) return;
      continue;
    }
    // Claim a share of the backlog at once: one lock round-trip per chunk, not per entry.
    const size_t chunk = std::clamp<size_t>(unclaimed / options_.verify_threads, 1, 256);
    std::vector<Item*> claimed;
    claimed.reserve(chunk);
    for (size_t i = 0; i < chunk; ++i) claimed.push_back(queue_[next_to_verify_ + i].get());
    next_to_verify_ += chunk;
    verifying_ += chunk;
    if (next_to_verify_ < queue_.size()) work_.notify_one();
    lock.unlock();
    for (Item* item : claimed) {
      // Entries vouched for pass through here only when they queued behind unclaimed
      // ones; Submit has hashed them.
      if (item->already_verified) continue;
      item->verdict = options_.verifier(item->entry);
      if (item->verdict && !options_.clock) item->leaf_hash = LeafHash(AsBytes(item->entry));
    }
    lock.lock();
    for (Item* item : claimed) item->verified = true;
    verifying_ -= chunk;
    ready_.notify_one();
  }
}

void Sequencer::WriteLoop() {
  std::unique_lock lock(mu_);
  auto ready_prefix = [&] {
    size_t n = 0;
    const size_t limit = std::min(queue_.size(), options_.max_batch);
    while (n < limit && queue_[n]->verified) ++n;
    return n;
  };
  for (;;) {
    ready_.wait(lock, [&] {
      return (!queue_.empty() && queue_.front()->verified) || (stopping_ && queue_.empty());
    });
    if (queue_.empty()) return;  // stopping, and everything is done
    size_t n = ready_prefix();
    const size_t want = std::min(queue_.size(), options_.max_batch);
    if (n < want) {
      // More entries are in verification: give them a moment to join this commit.
      ready_.wait_for(lock, options_.max_batch_delay, [&] { return ready_prefix() == want; });
      n = ready_prefix();
    }
    // A group commits in one transaction: never cut one. Take it whole when it is verified
    // (beyond max_batch if need be), else stop before it, else wait for its verification.
    if (n > 0 && n < queue_.size() && queue_[n - 1]->group != 0 &&
        queue_[n]->group == queue_[n - 1]->group) {
      const uint64_t group = queue_[n - 1]->group;
      size_t end = n, start = n - 1;
      while (end < queue_.size() && queue_[end]->group == group) ++end;
      while (start > 0 && queue_[start - 1]->group == group) --start;
      bool verified = true;
      for (size_t i = n; i < end && verified; ++i) verified = queue_[i]->verified;
      if (verified) {
        n = end;
      } else if (start > 0) {
        n = start;
      } else {
        ready_.wait_for(lock, options_.max_batch_delay);
        continue;
      }
    }
    std::vector<std::unique_ptr<Item>> batch;
    batch.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    next_to_verify_ -= n;
    not_full_.notify_all();
    lock.unlock();
    WriteBatch(batch);
    lock.lock();
  }
}

void Sequencer::WriteBatch(std::vector<std::unique_ptr<Item>>& batch) {
  const size_t count = batch.size();
  std::vector<std::optional<Result<uint64_t>>> results(count);
  std::vector<size_t> duplicate_of(count, SIZE_MAX);
  std::unordered_map<std::string_view, size_t> batch_keys;
  // The first submission of each key in the batch is looked up in storage, all in one
  // call (one round trip on a networked backend); later ones share its outcome.
  std::vector<size_t> looked_up;
  std::vector<std::string_view> lookup_keys;
  for (size_t i = 0; i < count; ++i) {
    Item& item = *batch[i];
    if (!item.verdict) {
      results[i] = std::unexpected(item.verdict.error());
      continue;
    }
    if (item.key.empty()) continue;
    if (auto it = batch_keys.find(item.key); it != batch_keys.end()) {
      duplicate_of[i] = it->second;
      continue;
    }
    batch_keys.emplace(item.key, i);
    looked_up.push_back(i);
    lookup_keys.push_back(item.key);
  }
  if (!lookup_keys.empty()) {
    auto found = storage_.FindIdempotencyKeys(lookup_keys);
    for (size_t j = 0; j < looked_up.size(); ++j) {
      if (!found) {
        results[looked_up[j]] = std::unexpected(found.error());
      } else if ((*found)[j]) {
        results[looked_up[j]] = *(*found)[j];
      }
    }
  }
  std::vector<size_t> accepted;
  accepted.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    if (!results[i] && duplicate_of[i] == SIZE_MAX) accepted.push_back(i);
  }
  // Groups with a refused entry: the rest of the group is aborted, unwritten. An entry whose
  // key was already committed (a value) does not count as refused.
  std::unordered_map<uint64_t, bool> failed_groups;
  auto abort_failed_groups = [&](std::vector<size_t>& positions) {
    std::erase_if(positions, [&](size_t i) {
      const uint64_t g = batch[i]->group;
      if (g == 0 || !failed_groups.contains(g)) return false;
      if (!results[i]) results[i] = std::unexpected(GroupAborted());
      return true;
    });
  };
  for (size_t i = 0; i < count; ++i) {
    if (batch[i]->group != 0 && results[i] && !results[i]->has_value()) {
      failed_groups[batch[i]->group] = true;
    }
  }
  if (!failed_groups.empty()) abort_failed_groups(accepted);
  if (options_.clock && !accepted.empty()) {
    // One reading per batch: the entries of a commit share its time. The leaf is hashed
    // here, after the splice, so the hash commits the time.
    last_time_ = std::max(last_time_, options_.clock());
    std::erase_if(accepted, [&](size_t i) {
      Item& item = *batch[i];
      if (!StampEntry(item.entry, last_time_)) {
        results[i] = Fail(Error("entry.version_unsupported",
                                "only an unsequenced version 2 envelope can be sequenced")
                              .at_field("log"));
        return true;
      }
      item.leaf_hash = LeafHash(AsBytes(item.entry));
      return false;
    });
    for (size_t i = 0; i < count; ++i) {
      if (batch[i]->group != 0 && results[i] && !results[i]->has_value()) {
        failed_groups[batch[i]->group] = true;
      }
    }
    if (!failed_groups.empty()) abort_failed_groups(accepted);
  }

  // Commit in segments: a validator rejection rolls the transaction back, then the
  // entries before the rejected one are committed and the rest follow in a new segment.
  std::deque<std::vector<size_t>> segments;
  segments.push_back(std::move(accepted));
  std::vector<std::string> entries;
  std::vector<std::string> keys;
  std::vector<StoredHash> hashes;
  while (!segments.empty()) {
    std::vector<size_t> segment = std::move(segments.front());
    segments.pop_front();
    if (segment.empty()) continue;
    CompactRange next = range_;  // only this thread writes range_
    const uint64_t base = next.size();
    entries.clear();
    keys.clear();
    hashes.clear();
    bool any_key = false;
    // The entries and keys are moved into the storage's spans, not copied (a copy of every
    // entry was a measurable share of the writer's CPU), and moved back below when the
    // segment is tried again.
    entries.reserve(segment.size());
    hashes.reserve(segment.size() * 2);
    for (size_t pos : segment) {
      entries.push_back(std::move(batch[pos]->entry));
      any_key = any_key || !batch[pos]->key.empty();
      next.Append(batch[pos]->leaf_hash, &hashes);
    }
    if (any_key) {
      keys.reserve(segment.size());
      for (size_t pos : segment) keys.push_back(std::move(batch[pos]->key));
    }
    std::optional<size_t> rejected;
    std::function<Status()> within;
    if (options_.validator) {
      within = [&]() -> Status {
        for (size_t k = 0; k < segment.size(); ++k) {
          auto st = options_.validator(base + k, entries[k], batch[segment[k]]->payload);
          if (!st) {
            rejected = k;
            return st;
          }
        }
        return Ok();
      };
    }
    auto st = storage_.Append(
        base, entries,
        any_key ? std::span<const std::string>(keys) : std::span<const std::string>(), hashes,
        within);
    if (!st) {
      // Not committed: the items get their entries and keys back for the next attempt.
      for (size_t k = 0; k < segment.size(); ++k) {
        batch[segment[k]]->entry = std::move(entries[k]);
        if (any_key) batch[segment[k]]->key = std::move(keys[k]);
      }
    }
    if (st) {
      const Hash root = next.Root();
      {
        std::lock_guard lock(state_mu_);
        range_ = std::move(next);
        root_ = root;
      }
      for (size_t k = 0; k < segment.size(); ++k) results[segment[k]] = base + k;
      continue;
    }
    if (rejected && batch[segment[*rejected]]->group != 0) {
      // All or nothing: the group leaves the segment, the rest of it is tried again whole.
      results[segment[*rejected]] = std::unexpected(st.error());
      failed_groups[batch[segment[*rejected]]->group] = true;
      abort_failed_groups(segment);
      for (auto& rest : segments) abort_failed_groups(rest);
      segments.emplace_front(std::move(segment));
      continue;
    }
    if (rejected) {
      results[segment[*rejected]] = std::unexpected(st.error());
      segments.emplace_front(segment.begin() + static_cast<ptrdiff_t>(*rejected) + 1,
                             segment.end());
      segments.emplace_front(segment.begin(), segment.begin() + static_cast<ptrdiff_t>(*rejected));
      continue;
    }
    // Storage failure: this and every later entry of the batch fail; state unchanged.
    for (size_t pos : segment) results[pos] = std::unexpected(st.error());
    for (const auto& rest : segments) {
      for (size_t pos : rest) results[pos] = std::unexpected(st.error());
    }
    break;
  }
  for (size_t i = 0; i < count; ++i) {
    if (duplicate_of[i] != SIZE_MAX) results[i] = results[duplicate_of[i]];
  }
  for (size_t i = 0; i < count; ++i) {
    batch[i]->promise.set_value(
        results[i].has_value()
            ? std::move(*results[i])
            : Result<uint64_t>(Fail("sequencer.internal", "entry left unresolved")));
  }
}

}  // namespace pedigree::log
