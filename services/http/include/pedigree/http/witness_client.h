// The node as a C2SP tlog-witness client: after each new checkpoint it fans out
// add-checkpoint requests to every witness of its policy that has a URL, in parallel and off
// the write path, merges the cosignatures it gets into the stored checkpoint note, and
// tracks the newest checkpoint that meets the policy's quorum ("witnessed").
// See ../../../../docs/witness.md, "The node as witness client".
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pedigree/base/error.h"
#include "pedigree/http/metrics.h"
#include "pedigree/log/ledger.h"
#include "pedigree/log/policy.h"

namespace pedigree::services {

struct WitnessClientOptions {
  log::Policy policy;
  // Per request (connect, send and receive each).
  std::chrono::milliseconds timeout{1000};
  // When set, the checkpoint endpoint answers the newest checkpoint even without quorum
  // and says so (Pedigree-Witnessed: false); the client behaves the same.
  bool fail_open = false;
  // Counters pedigree_witness_errors_total{witness,status}, gauges
  // pedigree_witness_witnessed_size and pedigree_checkpoint_witnessed (0/1). May be null.
  // The gauges read the client: stop serving the registry before destroying the client.
  std::shared_ptr<MetricsRegistry> metrics;
  // One line per refused or failed request. May be null. Written from the client's thread.
  std::ostream* log = nullptr;
  // Whether to start the background thread (tests drive RunRound themselves).
  bool background = true;
};

// What one witness holds, as far as this client knows.
struct WitnessStatus {
  std::string name;
  std::string url;
  uint64_t size = 0;       // the last size it cosigned for us (persisted)
  std::string last_error;  // empty after a success
};

// Thread-safe. Each witness's last cosigned size is persisted in the ledger's meta
// ("witness/<name>/size"), and the newest witnessed size in "witness/witnessed_size", so a
// restart resumes where it stopped.
class WitnessClient {
 public:
  // Reads the persisted state and starts the background thread, which wakes on Notify()
  // and otherwise every 200 ms to see whether the log grew. `ledger` must outlive the client.
  // Errors: storage.*.
  [[nodiscard]] static Result<std::unique_ptr<WitnessClient>> Start(log::Ledger& ledger,
                                                                    WitnessClientOptions options);
  ~WitnessClient();  // stops the thread; waits for a round in flight
  WitnessClient(const WitnessClient&) = delete;
  WitnessClient& operator=(const WitnessClient&) = delete;

  void Notify();

  // One round: signs a checkpoint of the committed size (if none exists), sends it to every
  // witness with a URL that is behind it and not backing off, in parallel: "old N", the
  // consistency proof from the size the witness last cosigned, then the checkpoint. 200: its
  // cosignature is verified with the witness's policy key and merged into the stored note.
  // A cosignature timestamped more than log::kMaxCosignatureFutureSeconds ahead of our
  // clock is not merged (every verifier would refuse the note): counted as
  // status="future_cosignature" and backed off like a refusal.
  // 409: the text/x.tlog.size body is read, the proof rebuilt and the request retried once.
  // Any failure is logged and counted, and the witness is left alone for a back-off of 1 s
  // that doubles up to 60 s (429, 5xx and timeouts are retried that way; 403, 404 and 422
  // are errors for the operator, not repeated every poll either). Returns whether the
  // checkpoint meets the quorum. Errors: storage.* only.
  [[nodiscard]] Result<bool> RunRound();

  // The newest stored checkpoint that met the quorum, with its cosignatures; nullopt when
  // none did yet.
  [[nodiscard]] Result<std::optional<log::StoredCheckpoint>> Witnessed();
  bool fail_open() const;
  // The policy the client was started with (its logs, witnesses and quorum): what this
  // node's own checks of its evidence trust, e.g. POST /v1/receipts/verify.
  const log::Policy& policy() const;
  std::vector<WitnessStatus> Witnesses() const;

  struct Impl;

 private:
  explicit WitnessClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pedigree::services
