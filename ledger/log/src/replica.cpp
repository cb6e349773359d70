#include "pedigree/log/replica.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "pedigree/log/envelope.h"
#include "pedigree/log/merkle.h"
#include "pedigree/log/mirror_protocol.h"
#include "pedigree/log/sqlite_storage.h"

namespace pedigree::log {
namespace fs = std::filesystem;

namespace {

constexpr const char* kMetaOrigin = "origin";
constexpr const char* kMetaModel = "model";
// Marks the database as a replica's, so nothing mistakes it for a node's.
constexpr const char* kMetaReplica = "replica";
constexpr const char* kLockFile = "lock";

std::string Join(const std::string& dir, const char* file) {
  return (fs::path(dir) / file).string();
}

Result<std::string> ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return Fail("mirror.io", "cannot read " + path);
  return line;
}

Status WriteNewFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Fail("mirror.io", "cannot write " + path);
  return Ok();
}

Result<UniqueFd> LockReplica(const std::string& dir) {
  std::string path = Join(dir, kLockFile);
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (fd.get() < 0) return Fail("mirror.io", "cannot open " + path);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    return Fail(Error("ledger.locked", "another process has the mirror in " + dir +
                                           " open (a running `pedigree mirror serve --pull`?)")
                    .at_field("dir"));
  }
  return fd;
}

// Entries a verifying thread claims at once, as the audit's: small, so that no thread is left
// with a long tail at the end of a batch while the others wait.
constexpr size_t kVerifyBlock = 16;

// VerifyLeaf over a batch on `threads` background threads (the audit's count: all cores by
// default), which claim blocks from a shared counter while the calling thread hashes the
// same leaves. Join() waits for them; the destructor joins too, so an early return cannot
// leave a thread reading leaves that are gone.
class LeafVerification {
 public:
  LeafVerification(std::span<const std::string> leaves, const std::string& origin,
                   uint64_t first_index, size_t threads)
      : leaves_(leaves), origin_(origin), first_index_(first_index) {
    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    threads = std::min(threads, (leaves.size() + kVerifyBlock - 1) / kVerifyBlock);
    pool_.reserve(threads);
    for (size_t t = 0; t < threads; ++t) pool_.emplace_back([this] { Work(); });
  }
  ~LeafVerification() { Join(); }
  LeafVerification(const LeafVerification&) = delete;
  LeafVerification& operator=(const LeafVerification&) = delete;

  // Waits for the threads; then the lowest refused leaf as mirror.bad_entry, if any.
  Status Join() {
    for (auto& t : pool_) {
      if (t.joinable()) t.join();
    }
    if (!refused_) return Ok();
    const auto& [index, e] = *refused_;
    return Fail(Error("mirror.bad_entry", "entry " + std::to_string(index) +
                                              " is not a valid leaf of " + origin_ + ": " +
                                              e.code() + ": " + e.message())
                    .at_field("index")
                    .with_detail("index", static_cast<int64_t>(index))
                    .with_detail("cause", e.code()));
  }

 private:
  void Work() {
    for (size_t begin = next_.fetch_add(kVerifyBlock); begin < leaves_.size();
         begin = next_.fetch_add(kVerifyBlock)) {
      const size_t end = std::min(leaves_.size(), begin + kVerifyBlock);
      for (size_t i = begin; i < end; ++i) {
        const uint64_t index = first_index_ + i;
        // Only the lowest refusal is reported: nothing past one needs checking.
        if (index > lowest_refused_.load(std::memory_order_relaxed)) return;
        if (auto st = VerifyLeaf(leaves_[i], origin_); !st) {
          std::lock_guard lock(mu_);
          if (!refused_ || index < refused_->first) {
            refused_.emplace(index, st.error());
            lowest_refused_.store(index, std::memory_order_relaxed);
          }
        }
      }
    }
  }

  const std::span<const std::string> leaves_;
  const std::string& origin_;
  const uint64_t first_index_;
  std::atomic<size_t> next_{0};
  std::atomic<uint64_t> lowest_refused_{UINT64_MAX};
  std::mutex mu_;
  std::optional<std::pair<uint64_t, Error>> refused_;  // guarded by mu_ until Join()
  std::vector<std::thread> pool_;
};

}  // namespace

Replica::~Replica() { storage_.reset(); }

Result<std::unique_ptr<Replica>> Replica::Create(const std::string& dir, const std::string& name,
                                                 std::string_view log_vkey,
                                                 ReplicaOptions options) {
  if (!IsValidNoteKeyName(name)) {
    return Fail(Error("mirror.config", "mirror name '" + name +
                                           "' must be non-empty without spaces, '+' or control "
                                           "characters")
                    .at_field("name"));
  }
  auto log_key = NoteVerifier::Parse(log_vkey);
  if (!log_key || log_key->type() != NoteKeyType::kEd25519) {
    return Fail(Error("mirror.config", "--log '" + std::string(log_vkey.substr(0, 120)) +
                                           "' is not an Ed25519 note verifier key" +
                                           (log_key ? "" : ": " + log_key.error().message()))
                    .at_field("log"));
  }
  std::error_code ec;
  if (fs::exists(Join(dir, kLedgerDbFile), ec) || fs::exists(Join(dir, kMirrorKeyFile), ec)) {
    return Fail(Error("mirror.exists", "a mirror already exists in " + dir).at_field("dir"));
  }
  fs::create_directories(dir, ec);
  if (ec) return Fail("mirror.io", "cannot create directory " + dir + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
  PEDIGREE_ASSIGN(lock, LockReplica(dir));

  PrivateKey key = PrivateKey::Generate();
  PEDIGREE_TRY(key.SavePem(Join(dir, kMirrorKeyFile)));
  NoteSigner cosigner(name, std::move(key), NoteKeyType::kCosignatureV1);
  PEDIGREE_TRY(WriteNewFile(Join(dir, kLogVerifierKeyFile), log_key->ToString() + "\n"));
  PEDIGREE_TRY(WriteNewFile(Join(dir, kMirrorVerifierKeyFile), cosigner.VerifierKey() + "\n"));

  PEDIGREE_ASSIGN(storage,
                  SqliteStorage::Open(Join(dir, kLedgerDbFile), SqliteOptions{.create = true}));
  PEDIGREE_TRY((*storage)->SetMeta(kMetaOrigin, log_key->name()));
  PEDIGREE_TRY((*storage)->SetMeta(kMetaReplica, "1"));
  if (!options.model.empty()) PEDIGREE_TRY((*storage)->SetMeta(kMetaModel, options.model));
  for (const auto& [k, v] : options.initial_meta) PEDIGREE_TRY((*storage)->SetMeta(k, v));

  std::unique_ptr<Replica> replica(new Replica());
  replica->dir_ = dir;
  replica->log_key_ = *log_key;
  replica->cosigner_ = std::make_unique<NoteSigner>(std::move(cosigner));
  replica->storage_ = std::move(*storage);
  replica->lock_ = std::move(*lock);
  PEDIGREE_TRY(replica->Attach(options));
  return replica;
}

Result<std::unique_ptr<Replica>> Replica::Open(const std::string& dir, ReplicaOptions options) {
  std::error_code ec;
  if (!fs::exists(Join(dir, kLedgerDbFile), ec) || !fs::exists(Join(dir, kMirrorKeyFile), ec)) {
    return Fail(Error("mirror.not_found", "no mirror in " + dir + " (run `pedigree mirror init`)")
                    .at_field("dir"));
  }
  PEDIGREE_ASSIGN(lock, LockReplica(dir));
  PEDIGREE_ASSIGN(vkey_line, ReadFirstLine(Join(dir, kLogVerifierKeyFile)));
  PEDIGREE_ASSIGN(log_key, NoteVerifier::Parse(*vkey_line));
  PEDIGREE_ASSIGN(cosigner_line, ReadFirstLine(Join(dir, kMirrorVerifierKeyFile)));
  PEDIGREE_ASSIGN(cosigner_vkey, NoteVerifier::Parse(*cosigner_line));
  PEDIGREE_ASSIGN(key, PrivateKey::LoadPem(Join(dir, kMirrorKeyFile)));
  if (!(key->public_key() == cosigner_vkey->public_key())) {
    return Fail("mirror.config", Join(dir, kMirrorVerifierKeyFile) + " is not the key in " +
                                     Join(dir, kMirrorKeyFile));
  }
  PEDIGREE_ASSIGN(storage, SqliteStorage::Open(Join(dir, kLedgerDbFile), SqliteOptions{}));
  PEDIGREE_ASSIGN(origin, (*storage)->GetMeta(kMetaOrigin));
  if (*origin != log_key->name()) {
    return Fail("mirror.config", "the mirror's database holds " + *origin + " but log.vkey names " +
                                     log_key->name());
  }

  std::unique_ptr<Replica> replica(new Replica());
  replica->dir_ = dir;
  replica->log_key_ = *log_key;
  replica->cosigner_ = std::make_unique<NoteSigner>(cosigner_vkey->name(), std::move(*key),
                                                    NoteKeyType::kCosignatureV1);
  replica->storage_ = std::move(*storage);
  replica->lock_ = std::move(*lock);
  PEDIGREE_TRY(CheckLatestCheckpoint(*replica->storage_));
  PEDIGREE_ASSIGN(latest, replica->storage_->LatestCheckpoint());
  if (*latest) PEDIGREE_TRY(CheckCheckpointNote(**latest, *replica->log_key_));
  PEDIGREE_TRY(replica->Attach(options));
  return replica;
}

Status Replica::Attach(const ReplicaOptions& options) {
  clock_ = options.clock;
  if (!clock_) {
    clock_ = [] {
      return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count());
    };
  }
  verify_threads_ = options.verify_threads;
  PEDIGREE_ASSIGN(size, storage_->Size());
  PEDIGREE_ASSIGN(range, CompactRange::FromStorage(*size, *storage_));
  {
    std::lock_guard lock(mu_);
    range_ = std::move(*range);
  }
  if (options.attach) {
    PEDIGREE_ASSIGN(validator, options.attach(*storage_, log_key_->public_key()));
    validator_ = std::move(*validator);
  } else if (auto model = storage_->GetMeta(kMetaModel)) {
    unattached_model_ = *model;
  }
  return Ok();
}

uint64_t Replica::size() const {
  std::lock_guard lock(mu_);
  return range_.size();
}

Hash Replica::root() const {
  std::lock_guard lock(mu_);
  return range_.Root();
}

Result<Checkpoint> Replica::VerifyCheckpoint(std::string_view note) const {
  std::span<const NoteVerifier> keys(&*log_key_, 1);
  auto opened = OpenNote(note, keys);
  if (!opened) {
    const std::string& code = opened.error().code();
    if (code == "note.malformed") return std::unexpected(opened.error());
    return Fail(Error("mirror.untrusted_checkpoint",
                      "the checkpoint carries no valid signature by the log key " +
                          log_key_->ToString() + ": " + code + ": " + opened.error().message())
                    .with_detail("cause", code));
  }
  PEDIGREE_ASSIGN(checkpoint, ParseCheckpoint(opened->text));
  if (checkpoint->origin != origin()) {
    return Fail(Error("mirror.untrusted_checkpoint", "the checkpoint is for origin '" +
                                                         checkpoint->origin +
                                                         "', this mirror copies '" + origin() + "'")
                    .at_field("origin"));
  }
  return *checkpoint;
}

Result<ReplicaAppend> Replica::AppendBatch(std::span<const std::string> leaves,
                                           std::string_view note, std::span<const Hash> proof) {
  return Append(leaves, note, [proof](uint64_t end, const Hash& new_root, const Checkpoint& cp) {
    return VerifyConsistency(end, cp.size, proof, new_root, cp.root);
  });
}

Result<ReplicaAppend> Replica::AppendPackage(std::span<const std::string> leaves,
                                             std::string_view note, uint64_t subtree_start,
                                             std::span<const Hash> subtree_proof) {
  return Append(leaves, note, [&](uint64_t end, const Hash&, const Checkpoint& cp) -> Status {
    // The subtree [subtree_start, end): the entries the mirror already holds from
    // subtree_start on (fewer than 256: the package's own earlier part), then the new ones.
    const uint64_t first = end - leaves.size();
    if (subtree_start > first || !IsValidSubtree(subtree_start, end)) {
      return Fail("mirror.bad_subtree", "[" + std::to_string(subtree_start) + ", " +
                                            std::to_string(end) +
                                            ") is not a subtree ending at the package's end");
    }
    PEDIGREE_ASSIGN(held, storage_->ReadEntries(subtree_start, first));
    CompactRange subtree;
    for (const std::string& leaf : *held) subtree.Append(LeafHash(AsBytes(leaf)), nullptr);
    for (const std::string& leaf : leaves) subtree.Append(LeafHash(AsBytes(leaf)), nullptr);
    return VerifySubtreeConsistency(subtree_start, end, cp.size, subtree_proof, subtree.Root(),
                                    cp.root);
  });
}

Result<ReplicaAppend> Replica::Append(std::span<const std::string> leaves, std::string_view note,
                                      const TreeCheck& check_tree) {
  std::lock_guard append_lock(append_mu_);
  if (!unattached_model_.empty() && !leaves.empty()) {
    return Fail("ledger.model_required", "this mirror replays the " + unattached_model_ +
                                             " model; open it with the model's rules attached");
  }
  PEDIGREE_ASSIGN(checkpoint, VerifyCheckpoint(note));
  CompactRange range;
  {
    std::lock_guard lock(mu_);
    range = range_;
  }
  PEDIGREE_ASSIGN(checked, Check(leaves, range, *checkpoint, check_tree, {}));
  PEDIGREE_TRY(Commit(*checked));
  return Finish(range.size(), checked->range, *checkpoint, note);
}

Result<ReplicaAppend> Replica::AppendBatches(std::string_view note,
                                             const ReplicaBatchSource& fetch) {
  std::lock_guard append_lock(append_mu_);
  PEDIGREE_ASSIGN(checkpoint, VerifyCheckpoint(note));
  CompactRange range;
  {
    std::lock_guard lock(mu_);
    range = range_;
  }
  const uint64_t first = range.size();
  if (first >= checkpoint->size) {
    // Nothing to fetch: the same size must have the same root (or the log went back).
    PEDIGREE_ASSIGN(same, Check({}, range, *checkpoint, {}, {}));
    return Finish(first, same->range, *checkpoint, note);
  }
  if (!unattached_model_.empty()) {
    return Fail("ledger.model_required", "this mirror replays the " + unattached_model_ +
                                             " model; open it with the model's rules attached");
  }
  // At most one commit runs beside the checks; its result is taken before the next commit
  // starts and before any error of a later batch is returned (an earlier batch's error comes
  // first, and no commit may still be running when this returns).
  std::future<Status> committing;
  auto committed = [&]() -> Status {
    if (!committing.valid()) return Ok();
    return committing.get();
  };
  auto fail = [&](const Error& e) -> Result<ReplicaAppend> {
    PEDIGREE_TRY(committed());
    return Fail(e);
  };
  Result<ReplicaBatch> next = fetch(first);
  for (uint64_t at = first; at < checkpoint->size;) {
    if (!next) return fail(next.error());
    ReplicaBatch batch = std::move(*next);
    if (batch.leaves.empty()) break;
    const uint64_t end = at + batch.leaves.size();
    auto check_tree = [&batch](uint64_t batch_end, const Hash& new_root, const Checkpoint& cp) {
      return VerifyConsistency(batch_end, cp.size, batch.proof, new_root, cp.root);
    };
    // The next batch is fetched while this one's signatures are being checked.
    auto prefetch = [&] {
      if (end < checkpoint->size) next = fetch(end);
    };
    auto checked = Check(batch.leaves, range, *checkpoint, check_tree, prefetch);
    if (!checked) return fail(checked.error());
    checked->owned = std::move(batch.leaves);
    range = checked->range;
    PEDIGREE_TRY(committed());
    committing = std::async(std::launch::async, [this, c = std::move(*checked)]() mutable {
      c.leaves = c.owned;
      return Commit(c);
    });
    at = end;
  }
  PEDIGREE_TRY(committed());
  if (range.size() < checkpoint->size) {
    return ReplicaAppend{.first = first, .size = range.size(), .cosigned_note = std::nullopt};
  }
  return Finish(first, range, *checkpoint, note);
}

Result<Replica::CheckedBatch> Replica::Check(std::span<const std::string> leaves,
                                             const CompactRange& range,
                                             const Checkpoint& checkpoint,
                                             const TreeCheck& check_tree,
                                             const std::function<void()>& meanwhile) {
  const uint64_t first = range.size();
  const uint64_t end = first + leaves.size();
  if (checkpoint.size < first) {
    return Fail(Error("mirror.conflict", "the checkpoint's size " +
                                             std::to_string(checkpoint.size) +
                                             " is below the mirror's size " + std::to_string(first))
                    .with_detail("size", static_cast<int64_t>(first)));
  }
  if (end > checkpoint.size) {
    return Fail(Error("mirror.batch_beyond_checkpoint",
                      "entries [" + std::to_string(first) + ", " + std::to_string(end) +
                          ") reach past the checkpoint's size " + std::to_string(checkpoint.size)));
  }

  CheckedBatch out{.first = first, .owned = {}, .leaves = leaves, .hashes = {}, .range = range};
  {
    // Signatures on the worker threads while this thread hashes the leaves and runs
    // `meanwhile`: the workers never wait for it.
    LeafVerification verification(leaves, origin(), first, verify_threads_);
    out.hashes.reserve(leaves.size() * 2 + 1);
    for (const std::string& leaf : leaves) out.range.Append(LeafHash(AsBytes(leaf)), &out.hashes);
    if (meanwhile) meanwhile();
    // A bad signature comes first: it names the entry, the tree only the batch.
    PEDIGREE_TRY(verification.Join());
  }
  const Hash new_root = out.range.Root();
  if (end == checkpoint.size) {
    if (new_root != checkpoint.root) {
      return Fail(Error("mirror.root_mismatch",
                        "the entries up to size " + std::to_string(end) + " hash to root " +
                            ToHex(new_root) + " but the log's checkpoint of that size has root " +
                            ToHex(checkpoint.root))
                      .with_detail("calculated", ToHex(new_root))
                      .with_detail("expected", ToHex(checkpoint.root)));
    }
  } else if (end > 0) {
    if (auto consistent = check_tree(end, new_root, checkpoint); !consistent) {
      // A proof that fails is the entries' fault; a bad request or storage error is not.
      if (!consistent.error().code().starts_with("merkle.")) return Fail(consistent.error());
      return Fail(Error("mirror.root_mismatch",
                        "the entries up to size " + std::to_string(end) + " hash to root " +
                            ToHex(new_root) + ", which the log's checkpoint of size " +
                            std::to_string(checkpoint.size) + " (root " + ToHex(checkpoint.root) +
                            ") does not extend: " + consistent.error().code() + ": " +
                            consistent.error().message())
                      .with_detail("calculated", ToHex(new_root))
                      .with_detail("expected", ToHex(checkpoint.root)));
    }
  }
  return out;
}

Status Replica::Commit(const CheckedBatch& batch) {
  if (batch.leaves.empty()) return Ok();
  const uint64_t first = batch.first;
  std::function<Status()> within;
  if (validator_) {
    within = [&]() -> Status {
      for (size_t i = 0; i < batch.leaves.size(); ++i) {
        if (auto ok = validator_(first + i, batch.leaves[i], nullptr); !ok) {
          const Error& e = ok.error();
          return Fail(Error("mirror.rules_refused", "entry " + std::to_string(first + i) +
                                                        " breaks the rules: " + e.code() + ": " +
                                                        e.message())
                          .at_field("index")
                          .with_detail("index", static_cast<int64_t>(first + i))
                          .with_detail("rule", e.code()));
        }
      }
      return Ok();
    };
  }
  PEDIGREE_TRY(storage_->Append(first, batch.leaves, {}, batch.hashes, within));
  std::lock_guard lock(mu_);
  range_ = batch.range;
  return Ok();
}

Result<ReplicaAppend> Replica::Finish(uint64_t first, const CompactRange& range,
                                      const Checkpoint& checkpoint, std::string_view note) {
  const uint64_t end = range.size();
  ReplicaAppend out{.first = first, .size = end, .cosigned_note = std::nullopt};
  if (end == checkpoint.size) {
    // Only now that the entries are durable does the mirror vouch for the checkpoint.
    StoredCheckpoint stored{.size = end, .root = range.Root(), .note = std::string(note)};
    PEDIGREE_TRY(storage_->StoreCheckpoint(stored));
    PEDIGREE_ASSIGN(opened, OpenNote(note, std::span<const NoteVerifier>(&*log_key_, 1)));
    // One cosignature per size: an idle pull (no new entries) keeps the one the mirror gave
    // when it stored the tree, rather than adding a fresh timestamp every interval.
    PEDIGREE_ASSIGN(held, storage_->CheckpointAt(end));
    const std::string own_line = "\n\xE2\x80\x94 " + cosigner_->name() + " ";
    if (!*held || (*held)->note.find(own_line) == std::string::npos) {
      PEDIGREE_TRY(
          MergeCosignatures(*storage_, end, CosignatureLine(opened->text, *cosigner_, clock_())));
    }
    PEDIGREE_ASSIGN(latest, storage_->CheckpointAt(end));
    if (*latest) out.cosigned_note = (*latest)->note;
  }
  return out;
}

Result<std::optional<StoredCheckpoint>> Replica::LatestCheckpoint() {
  return storage_->LatestCheckpoint();
}

Result<AuditReport> Replica::Audit(const AuditProgress& progress) {
  const std::string origin_name = origin();
  const NoteVerifier log_key = *log_key_;
  return AuditLog(
      *storage_, [origin_name](std::string_view entry) { return VerifyLeaf(entry, origin_name); },
      verify_threads_,
      [log_key](const StoredCheckpoint& checkpoint) {
        return CheckCheckpointNote(checkpoint, log_key);
      },
      progress);
}

}  // namespace pedigree::log
