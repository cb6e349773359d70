// The sequencer: verifies submitted entries in parallel, assigns indices in submission
// order, and acknowledges each entry only after its batch is durably committed (group
// commit). See ../../../../docs/merkle-log.md ("Sequencer").
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "pedigree/base/canonical_json.h"
#include "pedigree/log/compact_range.h"
#include "pedigree/log/storage.h"

namespace pedigree::log {

// Checks one entry on its own (e.g. its signature). Runs on worker threads, concurrently:
// must be thread-safe.
using EntryVerifier = std::function<Status(std::string_view entry)>;
// Checks an entry against the log's state. Runs on the writer thread, in index order,
// inside the storage transaction (so it may write derived rows). If it rejects an entry,
// the transaction is rolled back and retried without that entry, so it may be called
// again for the same (index, entry): keep its side effects inside the transaction.
// `payload` is the envelope's payload as its submitter already parsed it (see Submit), so
// that the rules need not parse the entry again; null when the submitter handed none over.
using EntryValidator =
    std::function<Status(uint64_t index, std::string_view entry, const JsonValue* payload)>;

struct SequencerOptions {
  size_t verify_threads = 0;  // 0 = std::thread::hardware_concurrency()
  size_t queue_capacity = 65536;
  size_t max_batch = 4096;
  // How long the writer waits for entries still being verified before it commits a
  // smaller batch. It never waits when nothing else is queued.
  std::chrono::milliseconds max_batch_delay{2};
  EntryVerifier verifier;    // empty = accept all
  EntryValidator validator;  // empty = accept all
  // When set, the writer thread records the log's own time in every entry it sequences
  // (StampEntry, see envelope.h) before the leaf is hashed and the validator runs: the time
  // is max(clock(), the previous entry's), so times never decrease along the log;
  // `last_time` is the previous entry's time when resuming. An entry that cannot carry one
  // (not an unsequenced version 2 envelope) is refused with entry.version_unsupported.
  std::function<int64_t()> clock;  // unix seconds
  int64_t last_time = 0;
};

class Sequencer {
 public:
  // Resumes the compact range from storage (one hash read per set bit of its size).
  [[nodiscard]] static Result<std::unique_ptr<Sequencer>> Start(LogStorage& storage,
                                                                SequencerOptions options);
  ~Sequencer();
  Sequencer(const Sequencer&) = delete;
  Sequencer& operator=(const Sequencer&) = delete;

  // Blocks while the queue is full (back-pressure). The future resolves only after the
  // entry's batch is durably committed, with its index, or with the verifier's /
  // validator's / storage's error. A non-empty idempotency key that was seen before
  // resolves to the original index and appends nothing (also within one batch: the later
  // submission shares the outcome of the first). After Stop(): sequencer.stopped.
  // `already_verified`: the caller has checked the entry as the verifier would (e.g. it
  // signed the entry itself a moment ago), so the verifier is skipped; the validator
  // still runs.
  // `payload`: the submitter's parse of the entry's "payload" member (the same JSON, e.g. the
  // tree it signed or parsed the envelope into), handed to the validator instead of a second
  // parse on the writer thread. It must stay alive until the future resolves; null = none.
  std::future<Result<uint64_t>> Submit(std::string entry, std::string idempotency_key = {},
                                       bool already_verified = false,
                                       const JsonValue* payload = nullptr);
  // Submit and wait.
  Result<uint64_t> Append(std::string entry, std::string idempotency_key = {},
                          bool already_verified = false, const JsonValue* payload = nullptr);
  // Submits `entries` (keys[i] the idempotency key of entries[i]; `keys` empty or as long) as
  // one group: they are committed in one storage transaction, in order, or none is. Any
  // refusal of one of them (verifier, validator, sequencing) resolves that entry with its
  // error and every other entry of the group with sequencer.group_aborted, and nothing of the
  // group is written; the batch's other entries are committed as usual. An entry whose key was
  // seen before resolves to its original index, as in Submit, and does not abort the group.
  // A group is never split across batches (it may exceed max_batch). One future per entry.
  std::vector<std::future<Result<uint64_t>>> SubmitGroup(std::vector<std::string> entries,
                                                         std::vector<std::string> keys = {},
                                                         bool already_verified = false);

  // Of the committed tree; thread-safe.
  uint64_t size() const;
  Hash root() const;
  // Entries submitted but not yet resolved.
  size_t queued() const;

  // Finishes everything queued, then joins the threads. Idempotent; the destructor
  // calls it.
  void Stop();

 private:
  struct Item;
  Sequencer(LogStorage& storage, SequencerOptions options, CompactRange range);
  void VerifyLoop();
  void WriteLoop();
  void WriteBatch(std::vector<std::unique_ptr<Item>>& batch);

  LogStorage& storage_;
  SequencerOptions options_;

  mutable std::mutex mu_;
  std::condition_variable not_full_;         // submitters wait here
  std::condition_variable work_;             // verifiers wait here
  std::condition_variable ready_;            // the writer waits here
  std::deque<std::unique_ptr<Item>> queue_;  // submission order
  size_t next_to_verify_ = 0;                // position in queue_ of the first unclaimed item
  size_t verifying_ = 0;                     // claimed but not finished
  bool stopping_ = false;

  mutable std::mutex state_mu_;
  CompactRange range_;     // committed tree; written only by the writer thread
  int64_t last_time_ = 0;  // the latest sequencing time given; writer thread only
  Hash root_;

  std::vector<std::thread> verifiers_;
  std::thread writer_;
  std::once_flag stop_once_;
};

}  // namespace pedigree::log
