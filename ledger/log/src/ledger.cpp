#include "pedigree/log/ledger.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cassert>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "pedigree/log/envelope.h"
#include "pedigree/log/merkle.h"
#include "pedigree/log/postgres_storage.h"
#include "pedigree/log/proof.h"
#include "pedigree/log/sqlite_storage.h"

namespace pedigree::log {
namespace fs = std::filesystem;

namespace {

constexpr const char* kMetaOrigin = "origin";
constexpr const char* kMetaModel = "model";
constexpr const char* kLockFile = "lock";

// Takes the directory's lock for the life of the process's ledger object.
Result<UniqueFd> LockDirectory(const std::string& dir) {
  std::string path = (fs::path(dir) / kLockFile).string();
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (fd.get() < 0) return Fail("ledger.io", "cannot open " + path);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    return Fail(Error("ledger.locked", "another process has the ledger in " + dir +
                                           " open (a running `pedigree serve`?)")
                    .at_field("dir"));
  }
  return fd;
}

std::string Join(const std::string& dir, const char* file) {
  return (fs::path(dir) / file).string();
}

// The file in a ledger directory naming its PostgreSQL storage (a connection string and
// a newline; mode 0600: it may hold a password). Absent: the log is ledger.db (SQLite).
constexpr const char* kStorageFile = "storage";

// The storage the directory records, or "" for SQLite.
Result<std::string> RecordedStorage(const std::string& dir) {
  const std::string path = Join(dir, kStorageFile);
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::string();
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line) || line.empty()) {
    return Fail("ledger.io", "cannot read the storage setting " + path);
  }
  return line;
}

// A connection string for messages: the server and database only (never a password).
std::string StorageShown(const std::string& conninfo) {
  char* err = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &err);
  PQfreemem(err);
  if (!options) return "PostgreSQL (an unreadable connection string)";
  std::string host, port, db;
  for (PQconninfoOption* o = options; o->keyword; ++o) {
    if (!o->val) continue;
    const std::string_view k = o->keyword;
    if (k == "host") host = o->val;
    if (k == "port") port = o->val;
    if (k == "dbname") db = o->val;
  }
  PQconninfoFree(options);
  return "PostgreSQL database '" + db + "' at " + (host.empty() ? "the default host" : host) +
         (port.empty() ? "" : ":" + port);
}

// The storage a command opens: the recorded one; `given` (LedgerOptions::storage) must
// match it when set, and a directory with an SQLite ledger.db refuses a PostgreSQL one.
Result<std::string> ResolveStorage(const std::string& dir, const std::string& given) {
  PEDIGREE_ASSIGN(recorded, RecordedStorage(dir));
  if (given.empty() || given == *recorded) return *recorded;
  std::error_code ec;
  const std::string kept = recorded->empty() ? "SQLite (ledger.db)" : StorageShown(*recorded);
  if (!recorded->empty() || fs::exists(Join(dir, kLedgerDbFile), ec)) {
    return Fail(Error("ledger.storage_mismatch", "the ledger in " + dir + " keeps its data in " +
                                                     kept + ", not in " + StorageShown(given))
                    .at_field("storage"));
  }
  return given;
}

Status WriteTextFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Fail("ledger.io", "cannot write " + path);
  return Ok();
}

// Rejects origins that C2SP checkpoints cannot carry: the first line of the note.
Status CheckOrigin(const std::string& origin) {
  if (origin.empty())
    return Fail(Error("ledger.bad_origin", "origin must not be empty").at_field("origin"));
  for (char c : origin) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '+') {
      return Fail(Error("ledger.bad_origin",
                        "origin '" + origin + "' contains a space, control character or '+'")
                      .at_field("origin"));
    }
  }
  return Ok();
}

}  // namespace

Ledger::Ledger(std::string dir, std::string origin, std::unique_ptr<LogStorage> storage,
               PrivateKey log_key)
    : dir_(std::move(dir)),
      origin_(std::move(origin)),
      storage_(std::move(storage)),
      log_public_key_(log_key.public_key()) {
  // The same key signs checkpoints (through the note signer) and node events.
  node_key_ = std::make_unique<PrivateKey>(PrivateKey::FromPem(log_key.ToPem()).value());
  signer_ = std::make_unique<NoteSigner>(origin_, std::move(log_key));
  verifier_key_ = signer_->VerifierKey();
}

Ledger::Ledger(std::string dir, std::unique_ptr<LogStorage> storage, const NoteVerifier& log_key)
    : dir_(std::move(dir)),
      origin_(log_key.name()),
      storage_(std::move(storage)),
      log_public_key_(log_key.public_key()),
      verifier_key_(log_key.ToString()) {}

Ledger::~Ledger() {
  // Finish queued appends before the storage they write to goes away.
  if (sequencer_) sequencer_->Stop();
  sequencer_.reset();
  storage_.reset();
}

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

namespace {

Result<std::unique_ptr<LogStorage>> OpenSqliteLog(const std::string& dir, bool create,
                                                  bool read_only) {
  PEDIGREE_ASSIGN(storage,
                  SqliteStorage::Open(Join(dir, kLedgerDbFile),
                                      SqliteOptions{.create = create, .read_only = read_only}));
  return std::unique_ptr<LogStorage>(std::move(*storage));
}

// The log in the PostgreSQL database `conninfo`; `create`: it must hold no ledger yet.
// A writer takes the database's sequencer lease (ledger.locked while another node holds
// it), the PostgreSQL counterpart of the directory lock: the sequencer's in-memory tree
// stays true only while no other session appends.
Result<std::unique_ptr<LogStorage>> OpenPostgresLog(const std::string& conninfo, bool create,
                                                    bool writer) {
  PEDIGREE_ASSIGN(storage, PostgresStorage::Open(conninfo, {.sequencer_lease = writer}));
  auto origin = (*storage)->GetMeta(kMetaOrigin);
  if (create && origin && !origin->empty()) {
    return Fail(Error("ledger.exists", "the PostgreSQL database at " +
                                           (*storage)->connection().Where() +
                                           " already holds the ledger " + *origin)
                    .at_field("storage"));
  }
  return std::unique_ptr<LogStorage>(std::move(*storage));
}

}  // namespace

Result<std::unique_ptr<Ledger>> Ledger::Create(const std::string& dir, const std::string& origin,
                                               LedgerOptions options) {
  if (auto ok = CheckOrigin(origin); !ok) return std::unexpected(ok.error());
  const bool postgres = !options.storage.empty();
  std::error_code ec;
  // On PostgreSQL the directory holds no database: its log key marks a ledger.
  if (fs::exists(Join(dir, postgres ? kLogKeyFile : kLedgerDbFile), ec)) {
    return Fail(Error("ledger.exists", "a ledger already exists in " + dir).at_field("dir"));
  }
  fs::create_directories(dir, ec);
  if (ec) return Fail("ledger.io", "cannot create directory " + dir + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
  auto lock = LockDirectory(dir);
  if (!lock) return std::unexpected(lock.error());

  // The database first: an unreachable server leaves no key behind to block a retry.
  Result<std::unique_ptr<LogStorage>> storage =
      postgres ? OpenPostgresLog(options.storage, true, true) : OpenSqliteLog(dir, true, false);
  if (!storage) return std::unexpected(storage.error());
  if (postgres) {
    const std::string path = Join(dir, kStorageFile);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return Fail("ledger.io", "cannot create " + path);
    const std::string text = options.storage + "\n";
    const bool written =
        ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
        ::fsync(fd) == 0;
    ::close(fd);
    if (!written) return Fail("ledger.io", "cannot write " + path);
  }
  PrivateKey key = PrivateKey::Generate();
  if (auto saved = key.SavePem(Join(dir, kLogKeyFile)); !saved)
    return std::unexpected(saved.error());
  if (auto set = (*storage)->SetMeta(kMetaOrigin, origin); !set)
    return std::unexpected(set.error());
  if (!options.model.empty()) {
    if (auto set = (*storage)->SetMeta(kMetaModel, options.model); !set)
      return std::unexpected(set.error());
  }
  for (const auto& [key, value] : options.initial_meta) {
    if (auto set = (*storage)->SetMeta(key, value); !set) return std::unexpected(set.error());
  }

  std::unique_ptr<Ledger> ledger(new Ledger(dir, origin, std::move(*storage), std::move(key)));
  ledger->lock_ = std::move(*lock);
  ledger->storage_url_ = options.storage;
  if (auto w = WriteTextFile(Join(dir, kLogVerifierKeyFile), ledger->VerifierKey() + "\n"); !w) {
    return std::unexpected(w.error());
  }
  if (auto started = ledger->StartSequencer(options); !started) {
    return std::unexpected(started.error());
  }
  // Checkpoint the empty tree so that even a ledger with no entries has signed state.
  if (auto cp = ledger->SignCheckpoint(); !cp) return std::unexpected(cp.error());
  return ledger;
}

Result<std::unique_ptr<Ledger>> Ledger::Open(const std::string& dir, LedgerOptions options) {
  std::error_code ec;
  std::string storage_url;
  if (!options.replica) {
    PEDIGREE_ASSIGN(resolved, ResolveStorage(dir, options.storage));
    storage_url = std::move(*resolved);
  }
  const bool postgres = !storage_url.empty();
  if (!fs::exists(Join(dir, postgres ? kLogKeyFile : kLedgerDbFile), ec)) {
    return Fail(Error("ledger.not_found", "no ledger in " + dir + " (run `pedigree init`)")
                    .at_field("dir"));
  }
  // A reader beside a running writer takes no lock (SQLite WAL readers).
  UniqueFd lock;
  if (!options.read_only) {
    auto locked = LockDirectory(dir);
    if (!locked) return std::unexpected(locked.error());
    lock = std::move(*locked);
  }
  if (options.replica) return OpenReplica(dir, options);
  auto key = PrivateKey::LoadPem(Join(dir, kLogKeyFile));
  if (!key) return std::unexpected(key.error());
  Result<std::unique_ptr<LogStorage>> storage =
      postgres ? OpenPostgresLog(storage_url, false, !options.read_only)
               : OpenSqliteLog(dir, false, options.read_only);
  if (!storage) return std::unexpected(storage.error());
  auto origin = (*storage)->GetMeta(kMetaOrigin);
  if (!origin) return std::unexpected(origin.error());

  std::unique_ptr<Ledger> ledger(new Ledger(dir, *origin, std::move(*storage), std::move(*key)));
  ledger->lock_ = std::move(lock);
  ledger->storage_url_ = storage_url;
  if (auto ok = CheckLatestCheckpoint(*ledger->storage_); !ok) return std::unexpected(ok.error());
  auto latest = ledger->storage_->LatestCheckpoint();
  if (!latest) return std::unexpected(latest.error());
  if (*latest) {
    if (auto ok = ledger->CheckSignedCheckpoint(**latest); !ok) return std::unexpected(ok.error());
  }
  if (auto model = ledger->storage_->GetMeta(kMetaModel); model && !options.attach) {
    ledger->unattached_model_ = *model;
  }
  if (options.read_only) {
    ledger->read_only_ = true;
    PEDIGREE_TRY(ledger->Refresh());
    return ledger;
  }
  if (auto started = ledger->StartSequencer(options); !started) {
    return std::unexpected(started.error());
  }
  return ledger;
}

Result<std::unique_ptr<Ledger>> Ledger::OpenReplica(const std::string& dir,
                                                    const LedgerOptions& options) {
  std::string vkey_path = Join(dir, kLogVerifierKeyFile);
  std::ifstream in(vkey_path);
  std::string vkey_line;
  if (!in || !std::getline(in, vkey_line)) {
    return Fail(Error("ledger.not_found", "no log verifier key " + vkey_path + " in the mirror " +
                                              dir + " (run `pedigree mirror init`)")
                    .at_field("dir"));
  }
  PEDIGREE_ASSIGN(log_key, NoteVerifier::Parse(vkey_line));
  PEDIGREE_ASSIGN(storage, SqliteStorage::Open(Join(dir, kLedgerDbFile),
                                               SqliteOptions{.create = false, .read_only = true}));
  PEDIGREE_ASSIGN(origin, (*storage)->GetMeta(kMetaOrigin));
  if (*origin != log_key->name()) {
    return Fail("mirror.config", "the mirror's database holds " + *origin + " but " + vkey_path +
                                     " names " + log_key->name());
  }
  std::unique_ptr<Ledger> ledger(new Ledger(dir, std::move(*storage), *log_key));
  PEDIGREE_TRY(CheckLatestCheckpoint(*ledger->storage_));
  PEDIGREE_ASSIGN(latest, ledger->storage_->LatestCheckpoint());
  if (*latest) PEDIGREE_TRY(ledger->CheckSignedCheckpoint(**latest));
  // Like any read-only open: no rules attached, appends are ledger.read_only.
  (void)options;
  ledger->read_only_ = true;
  ledger->replica_ = true;
  PEDIGREE_TRY(ledger->Refresh());
  return ledger;
}

Status Ledger::Refresh() {
  if (!read_only_) return Ok();
  // The storage keeps the tree's size and partial tiles in memory from its open.
  if (auto* sqlite = dynamic_cast<SqliteStorage*>(storage_.get())) PEDIGREE_TRY(sqlite->Reload());
  uint64_t size = 0;
  Hash root{};
  if (replica_) {
    // Only what a signed (and, by the mirror, cosigned) checkpoint covers: entries a sync
    // stored beyond it are not yet verified against the log's root.
    PEDIGREE_ASSIGN(latest, storage_->LatestCheckpoint());
    if (*latest) {
      size = (*latest)->size;
      root = (*latest)->root;
    } else {
      PEDIGREE_ASSIGN(empty, TreeRoot(0, *storage_));
      root = *empty;
    }
  } else {
    PEDIGREE_ASSIGN(stored, storage_->Size());
    PEDIGREE_ASSIGN(at, TreeRoot(*stored, *storage_));
    size = *stored;
    root = *at;
  }
  std::lock_guard lock(read_only_mutex_);
  read_only_size_ = size;
  read_only_root_ = root;
  return Ok();
}

uint64_t Ledger::CommittedSize() const {
  if (!read_only_) return sequencer_->size();
  std::lock_guard lock(read_only_mutex_);
  return read_only_size_;
}

Result<std::unique_ptr<LogStorage>> OpenLedgerStorage(const std::string& dir,
                                                      size_t tile_cache_tiles) {
  PEDIGREE_ASSIGN(recorded, RecordedStorage(dir));
  if (!recorded->empty()) {
    PEDIGREE_ASSIGN(pg, PostgresStorage::Open(*recorded));
    return std::unique_ptr<LogStorage>(std::move(*pg));
  }
  PEDIGREE_ASSIGN(storage,
                  SqliteStorage::Open(Join(dir, kLedgerDbFile),
                                      {.create = false, .tile_cache_tiles = tile_cache_tiles}));
  return std::unique_ptr<LogStorage>(std::move(*storage));
}

Status Ledger::StartSequencer(const LedgerOptions& options) {
  SequencerOptions seq;
  seq.verify_threads = options.verify_threads;
  seq.max_batch = options.max_batch;
  seq.verifier = [origin = origin_](std::string_view entry) {
    return VerifySubmission(entry, origin);
  };
  seq.clock = options.clock;
  if (!seq.clock) {
    seq.clock = [] {
      return std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
  // Times never decrease along the log, across restarts too.
  PEDIGREE_ASSIGN(size, storage_->Size());
  if (*size > 0) {
    PEDIGREE_ASSIGN(last, storage_->ReadEntry(*size - 1));
    seq.last_time = LeafSequencingTime(*last).value_or(0);
  }
  if (options.attach) {
    auto validator = options.attach(*storage_, log_public_key_);
    if (!validator) return std::unexpected(validator.error());
    seq.validator = std::move(*validator);
  }
  auto sequencer = Sequencer::Start(*storage_, std::move(seq));
  if (!sequencer) return std::unexpected(sequencer.error());
  sequencer_ = std::move(*sequencer);
  return Ok();
}

std::string Ledger::VerifierKey() const { return verifier_key_; }
const PublicKey& Ledger::log_public_key() const { return log_public_key_; }

Result<uint64_t> Ledger::Append(std::string envelope, std::string idempotency_key,
                                bool already_verified, const JsonValue* payload) {
  return Submit(std::move(envelope), std::move(idempotency_key), already_verified, payload).get();
}

std::future<Result<uint64_t>> Ledger::Submit(std::string envelope, std::string idempotency_key,
                                             bool already_verified, const JsonValue* payload) {
  if (read_only_) {
    std::promise<Result<uint64_t>> refused;
    refused.set_value(Fail(
        Error("ledger.read_only", "the ledger in " + dir_ + " was opened read-only for a read")));
    return refused.get_future();
  }
  if (!unattached_model_.empty()) {
    std::promise<Result<uint64_t>> refused;
    refused.set_value(Fail("ledger.model_required",
                           "this ledger runs the " + unattached_model_ +
                               " model; append through it (e.g. the supply-chain commands), "
                               "not as a plain log"));
    return refused.get_future();
  }
  return sequencer_->Submit(std::move(envelope), std::move(idempotency_key), already_verified,
                            payload);
}

std::vector<Result<uint64_t>> Ledger::AppendGroup(std::vector<std::string> envelopes,
                                                  std::vector<std::string> keys,
                                                  bool already_verified) {
  std::vector<Result<uint64_t>> results;
  if (read_only_ || !unattached_model_.empty()) {
    // The same refusals as Submit's, once per envelope.
    for (std::string& envelope : envelopes) {
      results.push_back(Submit(std::move(envelope), {}, already_verified).get());
    }
    return results;
  }
  auto futures = sequencer_->SubmitGroup(std::move(envelopes), std::move(keys), already_verified);
  results.reserve(futures.size());
  for (auto& f : futures) results.push_back(f.get());
  return results;
}

uint64_t Ledger::size() const { return CommittedSize(); }
Hash Ledger::root() const {
  if (!read_only_) return sequencer_->root();
  std::lock_guard lock(read_only_mutex_);
  return read_only_root_;
}

Result<StoredCheckpoint> Ledger::SignCheckpoint() {
  std::lock_guard lock(checkpoint_mutex_);
  // Size and root are read together from storage so they always describe one tree.
  uint64_t size = CommittedSize();
  if (auto existing = storage_->CheckpointAt(size); !existing) {
    return std::unexpected(existing.error());
  } else if (*existing) {
    return **existing;
  }
  if (replica_) {
    // A mirror signs nothing as the log: its tree is that of a stored checkpoint, so only
    // an empty mirror (never synced) gets here.
    return Fail("mirror.no_checkpoint", "the mirror in " + dir_ + " holds no checkpoint yet");
  }
  auto root = TreeRoot(size, *storage_);
  if (!root) return std::unexpected(root.error());
  Checkpoint body{.origin = origin_, .size = size, .root = *root};
  StoredCheckpoint stored{
      .size = size, .root = *root, .note = SignNote(FormatCheckpoint(body), *signer_)};
  if (read_only_) return stored;  // the writer stores the same note when it signs this size
  if (auto ok = storage_->StoreCheckpoint(stored); !ok) return std::unexpected(ok.error());
  return stored;
}

Result<std::optional<StoredCheckpoint>> Ledger::LatestCheckpoint() {
  // A reader's tree is the one committed at open: its latest checkpoint is the one of that
  // size (stored, or signed now as the writer would), never a newer size it cannot prove.
  if (read_only_) {
    PEDIGREE_ASSIGN(signed_now, SignCheckpoint());
    return std::optional<StoredCheckpoint>(*signed_now);
  }
  return storage_->LatestCheckpoint();
}

Status Ledger::CheckSignedCheckpoint(const StoredCheckpoint& checkpoint) const {
  auto verifier = NoteVerifier::Parse(VerifierKey());
  if (!verifier) return std::unexpected(verifier.error());
  return CheckCheckpointNote(checkpoint, *verifier);
}

Result<InclusionEvidence> Ledger::ProveInclusion(uint64_t index, std::optional<uint64_t> size) {
  uint64_t tree_size = size.value_or(CommittedSize());
  if (tree_size > CommittedSize()) {
    return Fail(Error("ledger.size_beyond_tree", "size " + std::to_string(tree_size) +
                                                     " is beyond the committed tree size " +
                                                     std::to_string(CommittedSize()))
                    .at_field("size"));
  }
  if (index >= tree_size) {
    return Fail(Error("merkle.index_out_of_range", "index " + std::to_string(index) +
                                                       " out of bounds for tree size " +
                                                       std::to_string(tree_size))
                    .at_field("index"));
  }
  auto entry = ReadCheckedEntry(*storage_, index);
  if (!entry) return std::unexpected(entry.error());
  auto path = InclusionProof(index, tree_size, *storage_);
  if (!path) return std::unexpected(path.error());
  auto root = TreeRoot(tree_size, *storage_);
  if (!root) return std::unexpected(root.error());
  InclusionEvidence proof{.index = index,
                          .size = tree_size,
                          .leaf_hash = LeafHash(AsBytes(*entry)),
                          .path = std::move(*path),
                          .root = *root};
  return proof;
}

Result<std::vector<Hash>> Ledger::ProveConsistency(uint64_t size1, uint64_t size2) {
  if (size2 > CommittedSize()) {
    return Fail(Error("ledger.size_beyond_tree", "size " + std::to_string(size2) +
                                                     " is beyond the committed tree size " +
                                                     std::to_string(CommittedSize()))
                    .at_field("to"));
  }
  return ConsistencyProof(size1, size2, *storage_);
}

Result<Hash> Ledger::RootAt(uint64_t size) {
  if (size > CommittedSize()) {
    return Fail(Error("ledger.size_beyond_tree", "size " + std::to_string(size) +
                                                     " is beyond the committed tree size " +
                                                     std::to_string(CommittedSize()))
                    .at_field("size"));
  }
  return TreeRoot(size, *storage_);
}

Result<std::string> Ledger::Entry(uint64_t index) { return ReadCheckedEntry(*storage_, index); }

Result<std::string> Ledger::SignAsNode(const JsonValue& payload) const {
  if (!node_key_) {
    return Fail(Error("ledger.read_only",
                      "the mirror in " + dir_ + " holds no log key: it signs nothing as the log"));
  }
  return SignEntry(payload, *node_key_, origin_);
}

Bytes Ledger::SignStatement(std::string_view message) const {
  assert(message.starts_with("pedigree/") && !message.starts_with(kEntrySignaturePrefix));
  assert(node_key_ != nullptr);
  return node_key_->Sign(message);
}

std::string Ledger::db_path() const {
  return storage_url_.empty() ? Join(dir_, kLedgerDbFile) : storage_url_;
}

Result<AuditReport> Ledger::Audit() {
  // The audit checks checkpoint roots against the tree; the signatures on them are
  // the log's, which only the ledger knows.
  return AuditLog(
      *storage_, [this](std::string_view entry) { return VerifyLeaf(entry, origin_); }, 0,
      [this](const StoredCheckpoint& checkpoint) { return CheckSignedCheckpoint(checkpoint); });
}

}  // namespace pedigree::log
