// `pedigree migrate`: moves a ledger directory's data between SQLite (D/ledger.db) and
// PostgreSQL (D/storage names the database), in place, and proves the copy before the
// directory switches to it. See docs/deployment.md ("Migration") and docs/cli.md.
//
// The copy goes through LogStorage's interface for the log (entries in index order, the
// hashes recomputed and checked against the source's root, idempotency keys with their
// entries) and through the one SQL layer for what the interface does not enumerate (the
// checkpoints' notes as stored, meta, API tokens). The derived state is not copied: the
// provenance rules replay every entry into the destination in the append's transaction,
// exactly as the node ran them, and the proof then compares both sides with a replay.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <unordered_map>

#include "cli_common.h"
#include "pedigree/base/bytes.h"
#include "pedigree/cli/progress.h"
#include "pedigree/log/compact_range.h"
#include "pedigree/log/envelope.h"
#include "pedigree/log/integrity.h"
#include "pedigree/log/ledger.h"
#include "pedigree/log/merkle.h"
#include "pedigree/log/note.h"
#include "pedigree/log/postgres_storage.h"
#include "pedigree/log/proof.h"
#include "pedigree/log/sql.h"
#include "pedigree/log/sqlite_storage.h"
#include "pedigree/provenance/derived_audit.h"
#include "pedigree/provenance/provenance.h"
#include "pedigree/provenance/provenance_ledger.h"
#include "pedigree/usecases/trial_store.h"

namespace pedigree::services {
namespace {

namespace fs = std::filesystem;

#define PEDIGREE_TRY_ASSIGN(var, expr) \
  auto var = (expr);                   \
  if (!var) return PrintError(io.err, var.error())

constexpr const char* kStorageFile = "storage";
constexpr const char* kTokensFile = "tokens.db";
// The sponsor's trial record store the trial commands use by default (cli_trial.cpp).
constexpr const char* kSponsorStoreFile = "sponsor-store.sqlite";
// What the switch renames the superseded copy to: kept, never deleted, so that the
// operator can go back (or compare) until they remove it.
constexpr const char* kBeforeSuffix = ".before-migrate";
constexpr uint64_t kDefaultBatch = 1000;
constexpr uint64_t kMaxBatch = 100000;

JsonValue Int(uint64_t v) { return JsonValue(static_cast<int64_t>(v)); }
std::string Hex(const Hash& h) { return ToHex(h); }

// Where a ledger directory keeps its data: "" for SQLite (D/ledger.db), else the
// PostgreSQL connection string recorded in D/storage.
Result<std::string> RecordedStorage(const std::string& dir) {
  const fs::path path = fs::path(dir) / kStorageFile;
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::string();
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line) || line.empty()) {
    return Fail("ledger.io", "cannot read the storage setting " + path.string());
  }
  return line;
}

// One side of the migration: its log storage and an SQL connection to the same database
// for the tables the interface does not enumerate.
struct Side {
  std::string storage;  // "" = SQLite in the directory
  std::string db;       // the SQLite file or the connection string (log::OpenReadOnly's form)
  std::unique_ptr<log::LogStorage> log;
  std::string tokens;  // where its API tokens live (a file or the connection string)

  bool postgres() const { return !storage.empty(); }
  std::string Shown() const {
    return postgres() ? std::string("PostgreSQL") : "SQLite (" + db + ")";
  }
  // The storage's own connection (the rules write on it inside Append's `within`).
  log::sql::Connection Own() {
    if (auto* pg = dynamic_cast<log::PostgresStorage*>(log.get())) {
      return log::sql::Connection(pg->connection().get());
    }
    return log::sql::Connection(dynamic_cast<log::SqliteStorage*>(log.get())->handle());
  }
};

// Every (key, value) of the meta table.
Result<std::map<std::string, std::string>> ReadMeta(log::sql::Connection& db) {
  std::map<std::string, std::string> meta;
  PEDIGREE_ASSIGN(q, db.Prepare("SELECT key, value FROM meta"));
  PEDIGREE_TRY(q->ForEachRow([&](const log::sql::Query& row) { meta[row.Text(0)] = row.Text(1); }));
  return meta;
}

// Index -> idempotency key, every row. One key per entry is what the sequencer writes.
Result<std::map<uint64_t, std::string>> ReadIdempotency(log::sql::Connection& db) {
  std::map<uint64_t, std::string> keys;
  PEDIGREE_ASSIGN(q, db.Prepare("SELECT idx, key FROM idempotency"));
  Status status = Ok();
  PEDIGREE_TRY(q->ForEachRow([&](const log::sql::Query& row) -> Status {
    const auto idx = static_cast<uint64_t>(row.Int(0));
    if (!keys.emplace(idx, row.Text(1)).second) {
      return Fail("migrate.unsupported",
                  "entry " + std::to_string(idx) + " has more than one idempotency key");
    }
    return Ok();
  }));
  return keys;
}

// The checkpoints as stored: the log's signed note without the cosignature lines that
// LatestCheckpoint appends from meta (those are copied with meta).
Result<std::vector<log::StoredCheckpoint>> ReadCheckpoints(log::sql::Connection& db) {
  std::vector<log::StoredCheckpoint> out;
  PEDIGREE_ASSIGN(q, db.Prepare("SELECT size, root, note FROM checkpoints ORDER BY size"));
  PEDIGREE_TRY(q->ForEachRow([&](const log::sql::Query& row) -> Status {
    log::StoredCheckpoint cp;
    cp.size = static_cast<uint64_t>(row.Int(0));
    const auto root = row.Blob(1);
    if (root.size() != cp.root.size()) {
      return Fail("storage.corrupt", "checkpoint " + std::to_string(cp.size) + " has a " +
                                         std::to_string(root.size()) + "-byte root");
    }
    std::copy(root.begin(), root.end(), cp.root.begin());
    cp.note = row.Text(2);
    out.push_back(std::move(cp));
    return Ok();
  }));
  return out;
}

// The api_tokens table as the token store creates it (services/usecases/src/auth.cpp).
constexpr const char* kTokensSchema =
    "CREATE TABLE IF NOT EXISTS api_tokens ("
    " token_id TEXT PRIMARY KEY,"
    " org_id TEXT NOT NULL,"
    " roles TEXT NOT NULL,"
    " label TEXT NOT NULL,"
    " secret_sha256 BLOB NOT NULL,"
    " created_at INTEGER NOT NULL,"
    " revoked_at INTEGER)";

struct TokenRow {
  std::string token_id, org_id, roles, label;
  std::vector<uint8_t> secret_sha256;
  int64_t created_at = 0;
  std::optional<int64_t> revoked_at;
  bool operator==(const TokenRow&) const = default;
};

Result<log::sql::Connection> OpenTokens(const std::string& where, bool create) {
  if (log::IsPostgresUrl(where)) return log::sql::Connection::OpenPostgres(where);
  std::error_code ec;
  if (!create && !fs::exists(where, ec)) return log::sql::Connection(nullptr);
  return log::sql::Connection::Open(where, {.create = create});
}

// Every token row, by id; none when there is no token database.
Result<std::vector<TokenRow>> ReadTokens(const std::string& where) {
  std::vector<TokenRow> rows;
  PEDIGREE_ASSIGN(db, OpenTokens(where, false));
  if (!db->get() && !db->pg()) return rows;
  PEDIGREE_TRY(db->ExecSchema(kTokensSchema));
  PEDIGREE_ASSIGN(q, db->Prepare("SELECT token_id, org_id, roles, label, secret_sha256, "
                                 "created_at, revoked_at FROM api_tokens ORDER BY token_id"));
  PEDIGREE_TRY(q->ForEachRow([&](const log::sql::Query& row) {
    const auto secret = row.Blob(4);
    rows.push_back(TokenRow{row.Text(0), row.Text(1), row.Text(2), row.Text(3),
                            std::vector<uint8_t>(secret.begin(), secret.end()), row.Int(5),
                            row.OptionalInt(6)});
  }));
  return rows;
}

// Copies the token rows as stored (the secrets' hashes: no token changes).
Status WriteTokens(const std::string& where, const std::vector<TokenRow>& rows) {
  if (rows.empty()) return Ok();
  PEDIGREE_ASSIGN(db, OpenTokens(where, true));
  PEDIGREE_TRY(db->ExecSchema(kTokensSchema));
  PEDIGREE_ASSIGN(tx, log::sql::Transaction::Begin(*db));
  {
    PEDIGREE_ASSIGN(q,
                    db->Prepare("INSERT INTO api_tokens (token_id, org_id, roles, label, "
                                "secret_sha256, created_at, revoked_at) VALUES "
                                "(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(token_id) DO NOTHING"));
    for (const TokenRow& r : rows) {
      q->Reset();
      q->Bind(1, r.token_id).Bind(2, r.org_id).Bind(3, r.roles).Bind(4, r.label);
      q->Bind(5, std::span<const uint8_t>(r.secret_sha256)).Bind(6, r.created_at);
      if (r.revoked_at) {
        q->Bind(7, *r.revoked_at);
      } else {
        q->BindNull(7);
      }
      PEDIGREE_TRY(q->Run());
    }
  }
  return tx->Commit();
}

// The registry seal's key (provenance_ledger.h, kRegistryMacKeyFile): the same file seals
// the registry on both sides, so the directory's key stays the one to keep.
Result<std::vector<uint8_t>> ReadMacKey(const std::string& dir) {
  const std::string path = (fs::path(dir) / provenance::kRegistryMacKeyFile).string();
  std::ifstream in(path);
  std::string hex;
  if (!in || !std::getline(in, hex)) {
    return Fail("ledger.io", "cannot read the registry seal key " + path);
  }
  PEDIGREE_ASSIGN(key, FromHex(hex));
  return std::vector<uint8_t>(key->begin(), key->end());
}

Status WritePrivateFile(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Fail("ledger.io", "cannot create " + path);
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                       ::fsync(fd) == 0;
  ::close(fd);
  if (!written) return Fail("ledger.io", "cannot write " + path);
  return Ok();
}

// Renames `path` (and SQLite's -wal/-shm beside it) to path + kBeforeSuffix + "-<unix
// time>": a name of its own, so that migrating back and forth never overwrites an earlier
// copy set aside.
Status SetAside(const fs::path& path, int64_t now) {
  std::error_code ec;
  const std::string aside = path.string() + kBeforeSuffix + "-" + std::to_string(now);
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const fs::path from = path.string() + suffix;
    if (!fs::exists(from, ec)) continue;
    fs::rename(from, aside + suffix, ec);
    if (ec) return Fail("ledger.io", "cannot rename " + from.string() + ": " + ec.message());
  }
  return Ok();
}

// The outcome of one check of the proof.
struct Check {
  std::string name;
  bool ok;
  std::string detail;
};

int Migrate(const std::vector<std::string>& argv, CliIo& io) {
  auto args = Args::Parse(argv, 1, {"dir", "to", "batch"}, {"resume", "json"});
  if (!args) return PrintError(io.err, args.error()), 2;
  const std::string dir = args->dir();
  auto to_arg = args->required("to");
  if (!to_arg) return PrintError(io.err, to_arg.error()), 2;
  std::string to = *to_arg;
  if (to == "sqlite") to.clear();
  if (!to.empty() && !log::IsPostgresUrl(to)) {
    return PrintError(io.err, Error("cli.usage",
                                    "--to takes sqlite or a postgresql:// connection "
                                    "string, not '" +
                                        to.substr(0, 40) + "'")
                                  .at_field("to")),
           2;
  }
  auto batch_arg = args->number("batch");
  if (!batch_arg) return PrintError(io.err, batch_arg.error()), 2;
  const uint64_t batch = batch_arg->value_or(kDefaultBatch);
  if (batch == 0 || batch > kMaxBatch) {
    return PrintError(io.err, Error("cli.usage", "--batch " + std::to_string(batch) +
                                                     " is outside 1.." + std::to_string(kMaxBatch))
                                  .at_field("batch")),
           2;
  }
  const bool resume = args->has("resume");

  // No node may write while the data move: the ledger's own lock (ledger.h, "lock").
  std::error_code ec;
  if (!fs::exists(fs::path(dir) / log::kLogKeyFile, ec)) {
    return PrintError(io.err,
                      Error("ledger.not_found", "no ledger in " + dir + " (run `pedigree init`)")
                          .at_field("dir"));
  }
  const std::string lock_path = (fs::path(dir) / "lock").string();
  log::UniqueFd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (lock.get() < 0) return PrintError(io.err, Error("ledger.io", "cannot open " + lock_path));
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    return PrintError(io.err, Error("ledger.locked", "another process has the ledger in " + dir +
                                                         " open (a running `pedigree serve`?)")
                                  .at_field("dir"));
  }

  PEDIGREE_TRY_ASSIGN(recorded, RecordedStorage(dir));
  if (*recorded == to) {
    return PrintError(io.err, Error("migrate.same_storage",
                                    "the ledger in " + dir + " already keeps its data in " +
                                        (to.empty() ? std::string("SQLite (ledger.db)")
                                                    : std::string("that PostgreSQL database")))
                                  .at_field("to"));
  }
  const std::string ledger_db = (fs::path(dir) / log::kLedgerDbFile).string();
  const std::string tokens_db = (fs::path(dir) / kTokensFile).string();

  Side src;
  src.storage = *recorded;
  src.db = src.postgres() ? src.storage : ledger_db;
  src.tokens = src.postgres() ? src.storage : tokens_db;
  PEDIGREE_TRY_ASSIGN(src_log, log::OpenLedgerStorage(dir));
  src.log = std::move(*src_log);
  PEDIGREE_TRY_ASSIGN(src_sql, log::OpenReadOnly(src.db));

  std::ifstream vkey_file(fs::path(dir) / log::kLogVerifierKeyFile);
  std::string vkey_text;
  if (!vkey_file || !std::getline(vkey_file, vkey_text)) {
    return PrintError(io.err, Error("ledger.not_found", "no log.vkey in " + dir).at_field("dir"));
  }
  PEDIGREE_TRY_ASSIGN(log_key, log::NoteVerifier::Parse(vkey_text));

  Side dst;
  dst.storage = to;
  dst.db = dst.postgres() ? dst.storage : ledger_db;
  dst.tokens = dst.postgres() ? dst.storage : tokens_db;
  if (!dst.postgres() && fs::exists(ledger_db, ec) && !resume) {
    return PrintError(io.err, Error("migrate.destination_not_empty",
                                    ledger_db + " already exists: migrating into it would mix two "
                                                "copies (move it away, or --resume an interrupted "
                                                "migration)")
                                  .at_field("to"));
  }
  if (dst.postgres()) {
    PEDIGREE_TRY_ASSIGN(pg, log::PostgresStorage::Open(dst.storage));
    dst.log = std::move(*pg);
  } else {
    PEDIGREE_TRY_ASSIGN(lite, log::SqliteStorage::Open(ledger_db, {.create = true}));
    dst.log = std::move(*lite);
  }

  // What the source holds, read once: the log's size and root, the checkpoints as stored.
  PEDIGREE_TRY_ASSIGN(size, src.log->Size());
  PEDIGREE_TRY_ASSIGN(src_root, log::TreeRoot(*size, *src.log));
  PEDIGREE_TRY_ASSIGN(src_meta, ReadMeta(*src_sql));
  PEDIGREE_TRY_ASSIGN(src_checkpoints, ReadCheckpoints(*src_sql));
  PEDIGREE_TRY_ASSIGN(src_keys, ReadIdempotency(*src_sql));
  PEDIGREE_TRY_ASSIGN(src_tokens, ReadTokens(src.tokens));
  if (src_checkpoints->empty() || src_checkpoints->back().size != *size) {
    // The proof ends with the newest signed checkpoint verifying against the copy: it must
    // cover every entry (a node signs one at every commit it publishes).
    return PrintError(io.err, Error("migrate.unsigned_tail",
                                    "the newest checkpoint in " + src.Shown() +
                                        " does not cover its " + std::to_string(*size) +
                                        " entries; start the node once (or `log checkpoint`) "
                                        "so that a signed checkpoint covers them"));
  }

  // The destination must hold nothing of a ledger, or (--resume) a prefix of this one.
  PEDIGREE_TRY_ASSIGN(dst_size, dst.log->Size());
  auto origin_of = [](log::LogStorage& storage) -> Result<std::string> {
    auto origin = storage.GetMeta("origin");
    if (!origin && origin.error().code() == "storage.not_found") return std::string();
    return origin;
  };
  PEDIGREE_TRY_ASSIGN(dst_origin_meta, origin_of(*dst.log));
  PEDIGREE_TRY_ASSIGN(dst_checkpoint_sizes, dst.log->CheckpointSizes());
  PEDIGREE_TRY_ASSIGN(dst_tokens_before, ReadTokens(dst.tokens));
  const bool dst_empty = *dst_size == 0 && dst_origin_meta->empty() &&
                         dst_checkpoint_sizes->empty() && dst_tokens_before->empty();
  if (!dst_empty && !resume) {
    return PrintError(io.err,
                      Error("migrate.destination_not_empty",
                            "the destination " + dst.Shown() + " already holds " +
                                (dst_origin_meta->empty() ? std::string("ledger data")
                                                          : "the ledger " + *dst_origin_meta) +
                                " (" + std::to_string(*dst_size) +
                                " entries); migrate only into an empty database, or "
                                "--resume an interrupted migration of this ledger")
                          .at_field("to"));
  }
  if (!dst_empty) {
    const std::string origin = src_meta->count("origin") ? src_meta->at("origin") : "";
    bool prefix = *dst_origin_meta == origin && *dst_size <= *size;
    if (prefix) {
      PEDIGREE_TRY_ASSIGN(a, log::TreeRoot(*dst_size, *src.log));
      PEDIGREE_TRY_ASSIGN(b, log::TreeRoot(*dst_size, *dst.log));
      prefix = *a == *b;
    }
    if (!prefix) {
      return PrintError(
          io.err,
          Error("migrate.destination_diverges",
                "--resume: the destination " + dst.Shown() + " holds " + std::to_string(*dst_size) +
                    " entries of " + (dst_origin_meta->empty() ? "no ledger" : *dst_origin_meta) +
                    " that are not the first entries of " + origin + " in " + dir)
              .at_field("to"));
    }
  }

  // The sponsor's trial store, when the directory has one (D/sponsor-store.sqlite, or its
  // tables in the source database): copied into the destination's database or file.
  const std::string store_file = (fs::path(dir) / kSponsorStoreFile).string();
  std::unique_ptr<SponsorStore> src_store, dst_store;
  if (src.postgres() || fs::exists(store_file, ec)) {
    PEDIGREE_TRY_ASSIGN(opened, SponsorStore::Open(src.postgres() ? src.storage : store_file));
    PEDIGREE_TRY_ASSIGN(empty, (*opened)->Empty());
    if (!*empty) src_store = std::move(*opened);
  }
  if (src_store) {
    PEDIGREE_TRY_ASSIGN(opened, SponsorStore::Open(dst.postgres() ? dst.storage : store_file));
    dst_store = std::move(*opened);
    PEDIGREE_TRY_ASSIGN(empty, dst_store->Empty());
    if (!*empty && !resume) {
      return PrintError(io.err, Error("migrate.destination_not_empty",
                                      "the destination " + dst.Shown() +
                                          " already holds a sponsor trial store with submissions")
                                    .at_field("to"));
    }
  }

  // Meta first: the rules read the authority key from it. Keys the destination's storage
  // wrote itself (its own layout) stay as they are.
  std::map<std::string, std::string> dst_meta_before;
  {
    log::sql::Connection own = dst.Own();  // its statements end before the storage
    PEDIGREE_TRY_ASSIGN(meta, ReadMeta(own));
    dst_meta_before = std::move(*meta);
  }
  std::set<std::string> dst_own_meta;
  for (const auto& [key, value] : dst_meta_before) {
    if (!src_meta->count(key)) dst_own_meta.insert(key);
  }
  for (const auto& [key, value] : *src_meta) {
    if (dst_meta_before.count(key) && dst_empty) {
      dst_own_meta.insert(key);  // written by the destination's storage at open
      continue;
    }
    if (auto set = dst.log->SetMeta(key, value); !set) return PrintError(io.err, set.error());
  }

  // The rules: attached to the destination's own connection, run for every entry inside
  // the append's transaction, as the node runs them; the widest time bounds, as the replay
  // audit takes them (derived_audit.cpp: the bounds are admission policy, not recorded).
  std::unique_ptr<provenance::ProvenanceState> rules;
  const bool provenance_model =
      src_meta->count("model") && src_meta->at("model") == provenance::kModelName;
  if (provenance_model) {
    constexpr int64_t kUnbounded = INT64_MAX / 4;
    PEDIGREE_TRY_ASSIGN(raw, FromBase64(src_meta->at(provenance::kAuthorityKeyMeta)));
    PEDIGREE_TRY_ASSIGN(authority, log::PublicKey::FromRaw(*raw));
    PEDIGREE_TRY_ASSIGN(mac_key, ReadMacKey(dir));
    provenance::ProvenanceConfig config{
        *authority, log_key->public_key(), [] { return kUnbounded; },
        provenance::TimeBounds{kUnbounded, kUnbounded}, std::move(*mac_key)};
    PEDIGREE_TRY_ASSIGN(attached, provenance::ProvenanceState::Attach(dst.Own(), config));
    rules = std::move(*attached);
    if (*dst_size == 0) {
      // A new ledger's registry is sealed before its first entry (provenance_ledger.cpp).
      auto conn = dst.Own();
      PEDIGREE_TRY_ASSIGN(tx, log::sql::Transaction::Begin(conn));
      if (auto sealed = rules->SealRegistry(); !sealed) return PrintError(io.err, sealed.error());
      if (auto done = tx->Commit(); !done) return PrintError(io.err, done.error());
    } else if (auto sealed = rules->VerifyRegistry(); !sealed) {
      return PrintError(io.err, sealed.error());
    }
  }

  // The entries, in index order, in batches: the same bytes, the hashes recomputed (and
  // checked against the source's root at the end), each entry's idempotency key with it.
  const auto started = std::chrono::steady_clock::now();
  PEDIGREE_TRY_ASSIGN(range, log::CompactRange::FromStorage(*dst_size, *dst.log));
  Progress progress(io.err, io.progress, "migrate: entries copied", *size);
  std::vector<std::string> keys;
  std::vector<log::StoredHash> hashes;
  for (uint64_t begin = *dst_size; begin < *size; begin += batch) {
    const uint64_t end = std::min(*size, begin + batch);
    PEDIGREE_TRY_ASSIGN(entries, src.log->ReadEntries(begin, end));
    keys.assign(entries->size(), std::string());
    bool any_key = false;
    hashes.clear();
    log::CompactRange next = *range;
    for (uint64_t i = begin; i < end; ++i) {
      next.Append(log::LeafHash((*entries)[i - begin]), &hashes);
      if (auto it = src_keys->find(i); it != src_keys->end()) {
        keys[i - begin] = it->second;
        any_key = true;
      }
    }
    std::function<Status()> within;
    if (rules) {
      within = [&]() -> Status {
        for (uint64_t i = begin; i < end; ++i) {
          if (auto st = rules->Apply(i, (*entries)[i - begin]); !st) {
            return Fail(
                Error("audit.replay_refused", "the rules refuse entry " + std::to_string(i) +
                                                  " of the source: " + st.error().ToString()));
          }
        }
        return Ok();
      };
    }
    if (auto st = dst.log->Append(
            begin, *entries,
            any_key ? std::span<const std::string>(keys) : std::span<const std::string>(), hashes,
            within);
        !st) {
      return PrintError(io.err, st.error());
    }
    *range = std::move(next);
    progress.Update(end);
  }
  progress.Finish();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  // The checkpoints, the log's signed notes as they are (never re-signed), and the tokens.
  for (const log::StoredCheckpoint& cp : *src_checkpoints) {
    if (auto st = dst.log->StoreCheckpoint(cp); !st) return PrintError(io.err, st.error());
  }
  if (auto st = WriteTokens(dst.tokens, *src_tokens); !st) return PrintError(io.err, st.error());

  if (src_store) {
    PEDIGREE_TRY_ASSIGN(empty, dst_store->Empty());
    // A resumed run finds the store copied already (one transaction): the proof compares it.
    if (*empty) {
      if (auto st = src_store->CopyInto(*dst_store); !st) return PrintError(io.err, st.error());
    }
  }

  // The proof, read back from the destination as any later command will read it.
  std::vector<Check> checks;
  auto check = [&](std::string name, bool ok, std::string detail) {
    checks.push_back({std::move(name), ok, std::move(detail)});
  };
  PEDIGREE_TRY_ASSIGN(copied_size, dst.log->Size());
  check("size", *copied_size == *size,
        std::to_string(*size) + " entries in the source, " + std::to_string(*copied_size) +
            " in the destination");
  PEDIGREE_TRY_ASSIGN(dst_root, log::TreeRoot(*copied_size, *dst.log));
  check("root", *dst_root == *src_root,
        "source " + Hex(*src_root) + ", destination " + Hex(*dst_root));
  {
    const log::StoredCheckpoint& latest = src_checkpoints->back();
    auto signed_ok = log::CheckCheckpointNote(latest, *log_key);
    auto root_at = log::TreeRoot(latest.size, *dst.log);
    const bool ok = signed_ok && root_at && *root_at == latest.root;
    check("checkpoint", ok,
          "the log's checkpoint of size " + std::to_string(latest.size) +
              (ok           ? " verifies against the destination's tree"
               : !signed_ok ? " does not verify: " + signed_ok.error().ToString()
                            : " names a root the destination's tree does not have"));
  }
  PEDIGREE_TRY_ASSIGN(dst_sizes, dst.log->CheckpointSizes());
  check("checkpoints", dst_sizes->size() == src_checkpoints->size(),
        std::to_string(src_checkpoints->size()) + " in the source, " +
            std::to_string(dst_sizes->size()) + " in the destination");
  {
    Progress audit_progress(io.err, io.progress, "migrate: auditing the destination");
    PEDIGREE_TRY_ASSIGN(
        audit,
        log::AuditLog(
            *dst.log, [](std::string_view entry) { return log::VerifyEntry(entry); }, 0,
            [&](const log::StoredCheckpoint& cp) { return log::CheckCheckpointNote(cp, *log_key); },
            [&](uint64_t done, uint64_t total) { audit_progress.Update(done, total); }));
    audit_progress.Finish();
    check("log_audit", audit->ok(),
          audit->ok() ? std::to_string(audit->size) + " entries and " +
                            std::to_string(audit->checkpoints_checked) + " checkpoints recomputed"
                      : audit->problem->ToString());
  }
  if (provenance_model) {
    for (Side* side : {&src, &dst}) {
      PEDIGREE_TRY_ASSIGN(
          derived, provenance::AuditDerivedState(*side->log, side->db, log_key->public_key()));
      check(side == &src ? "derived_source" : "derived_destination", derived->ok(),
            derived->ok() ? std::to_string(derived->tables_compared.size()) +
                                " tables equal to a replay of " +
                                std::to_string(derived->entries_replayed) + " entries"
                          : derived->problem->ToString());
    }
  }
  {
    PEDIGREE_TRY_ASSIGN(dst_sql, log::OpenReadOnly(dst.db));
    PEDIGREE_TRY_ASSIGN(dst_keys, ReadIdempotency(*dst_sql));
    check("idempotency_keys", *dst_keys == *src_keys,
          std::to_string(src_keys->size()) + " in the source, " + std::to_string(dst_keys->size()) +
              " in the destination");
    PEDIGREE_TRY_ASSIGN(dst_meta, ReadMeta(*dst_sql));
    std::string differs;
    for (const auto& [key, value] : *src_meta) {
      if (dst_own_meta.count(key)) continue;
      auto it = dst_meta->find(key);
      if (it == dst_meta->end() || it->second != value)
        differs += (differs.empty() ? "" : ", ") + key;
    }
    check("meta", differs.empty(),
          differs.empty() ? std::to_string(src_meta->size() - dst_own_meta.size()) + " keys equal"
                          : "differs: " + differs);
    PEDIGREE_TRY_ASSIGN(dst_tokens, ReadTokens(dst.tokens));
    check("tokens", *dst_tokens == *src_tokens,
          std::to_string(src_tokens->size()) + " in the source, " +
              std::to_string(dst_tokens->size()) + " in the destination");
  }

  if (src_store) {
    PEDIGREE_TRY_ASSIGN(a, src_store->Dump());
    PEDIGREE_TRY_ASSIGN(b, dst_store->Dump());
    const auto lines = [](const std::string& text) {
      return std::to_string(std::count(text.begin(), text.end(), '\n'));
    };
    check("sponsor_store", *a == *b,
          lines(*a) + " rows in the source, " + lines(*b) + " in the destination" +
              (*a == *b ? ", equal" : ", not equal"));
  }
  bool proved = std::all_of(checks.begin(), checks.end(), [](const Check& c) { return c.ok; });
  auto out = JsonValue::Object();
  out.set("from", JsonValue(src.postgres() ? "postgresql" : "sqlite"));
  out.set("to", JsonValue(dst.postgres() ? "postgresql" : "sqlite"));
  out.set("entries", Int(*size));
  out.set("copied", Int(*size - *dst_size));
  out.set("seconds", JsonValue(static_cast<int64_t>(seconds * 1000) / 1000.0));
  out.set("root", JsonValue(ToBase64(*src_root)));
  auto list = JsonValue::Array();
  for (const Check& c : checks) {
    list.push_back(JsonValue::Object()
                       .set("check", c.name)
                       .set("ok", JsonValue(c.ok))
                       .set("detail", c.detail));
  }
  out.set("proof", std::move(list));

  // The switch, only once proved: the directory names the new storage, the old copy is set
  // aside under a name of its own (kept for the operator to remove).
  rules.reset();
  const bool had_store = src_store != nullptr;
  src_store.reset();
  dst_store.reset();
  src.log.reset();
  dst.log.reset();
  { log::sql::Connection closed = std::move(*src_sql); }
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  if (proved) {
    Status switched = Ok();
    if (dst.postgres()) {
      switched = WritePrivateFile((fs::path(dir) / kStorageFile).string(), dst.storage + "\n");
      if (switched) switched = SetAside(ledger_db, now);
      if (switched) switched = SetAside(tokens_db, now);
      if (switched && had_store) switched = SetAside(store_file, now);
    } else {
      switched = SetAside(fs::path(dir) / kStorageFile, now);
    }
    if (!switched) return PrintError(io.err, switched.error());
  }
  out.set("switched", JsonValue(proved));
  out.set("ok", JsonValue(proved));
  if (args->has("json")) {
    PrintJson(io.out, out);
  } else {
    for (const Check& c : checks) {
      io.out << (c.ok ? "ok    " : "FAIL  ") << c.name << ": " << c.detail << "\n";
    }
    io.out << (proved ? "PROVED" : "NOT PROVED") << ": " << *size << " entries ("
           << (*size - *dst_size) << " copied in " << seconds << " s) from "
           << (src.postgres() ? "PostgreSQL" : "SQLite") << " to "
           << (dst.postgres() ? "PostgreSQL" : "SQLite")
           << (proved ? "; " + dir + " now uses the destination\n"
                      : "; " + dir + " still uses the source\n");
  }
  if (!proved) {
    std::string failed;
    for (const Check& c : checks) {
      if (!c.ok) failed += (failed.empty() ? "" : ", ") + c.name;
    }
    PrintError(io.err, Error("migrate.proof_failed", "the copy differs from the source (" + failed +
                                                         "); the directory still uses the source"));
    return 1;
  }
  return 0;
}

}  // namespace

std::vector<Command> MigrateCommands() {
  return {{"migrate",
           "migrate --to postgresql://…|sqlite [--dir D] [--resume] [--batch N] [--json]   move "
           "the ledger's data to the other storage, prove the copy, then switch the directory",
           Migrate,
           "  --dir D        the ledger directory (default: $PEDIGREE_DIR, else ./pedigree-data);\n"
           "                 no node may run on it meanwhile (its lock is taken)\n"
           "  --to S         postgresql://… (an empty database) or sqlite (D/ledger.db, which\n"
           "                 must not exist) (required)\n"
           "  --resume       continue an interrupted migration: the destination must hold the\n"
           "                 first entries of this ledger (checked by their root)\n"
           "  --batch N      entries per transaction (default: 1000)\n"
           "  --json         print {entries, copied, seconds, root, proof, switched, ok}\n",
           "migrate --dir ./node --to 'postgresql://node@db.example/ledger'"}};
}

}  // namespace pedigree::services
