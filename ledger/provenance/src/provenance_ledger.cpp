#include "pedigree/provenance/provenance_ledger.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "pedigree/base/bytes.h"
#include "pedigree/log/integrity.h"
#include "pedigree/log/postgres_storage.h"
#include "pedigree/log/sql.h"
#include "pedigree/log/sqlite_storage.h"
#include "pedigree/provenance/derived_audit.h"

namespace pedigree::provenance {
namespace {

constexpr size_t kMacKeySize = 32;

Result<std::vector<uint8_t>> ReadMacKey(const std::string& path) {
  std::ifstream in(path);
  std::string hex;
  if (!in || !std::getline(in, hex)) return Fail("ledger.io", "cannot read " + path);
  auto key = FromHex(hex);
  if (!key || key->size() != kMacKeySize) {
    return Fail("state.tampered", path + " does not hold a " + std::to_string(kMacKeySize) +
                                      "-byte hex registry MAC key");
  }
  return std::vector<uint8_t>(key->begin(), key->end());
}

// Creates the key file, mode 0600, refusing to overwrite one.
Result<std::vector<uint8_t>> CreateMacKey(const std::string& path) {
  std::vector<uint8_t> key(kMacKeySize);
  RandomBytes(key);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Fail("ledger.io", "cannot create " + path);
  const std::string text = ToHex(key) + "\n";
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!written || !synced) return Fail("ledger.io", "cannot write " + path);
  return key;
}

}  // namespace

log::LedgerOptions ProvenanceLedgerOptions(std::unique_ptr<ProvenanceState>& state,
                                           std::function<int64_t()> now,
                                           std::optional<log::PublicKey> authority,
                                           TimeBounds bounds, std::string storage,
                                           std::string dir) {
  log::LedgerOptions options;
  options.clock = now;
  options.model = kModelName;
  if (authority) options.initial_meta = {{kAuthorityKeyMeta, ToBase64(authority->raw())}};
  options.storage = std::move(storage);
  options.attach = [&state, now = std::move(now), bounds, dir = std::move(dir)](
                       log::LogStorage& storage,
                       const log::PublicKey& log_key) -> Result<log::EntryValidator> {
    auto model = storage.GetMeta("model");
    if (!model || *model != kModelName) {
      return Fail("node.not_supply_chain",
                  "this ledger was created as a plain log, not a supply-chain ledger");
    }
    PEDIGREE_ASSIGN(meta, storage.GetMeta(kAuthorityKeyMeta));
    PEDIGREE_ASSIGN(raw, FromBase64(*meta));
    PEDIGREE_ASSIGN(authority_key, log::PublicKey::FromRaw(*raw));
    // The derived tables live in the ledger's own database, written on the storage's own
    // connection in the append's transaction: SQLite's file, or the PostgreSQL database.
    auto* sqlite = dynamic_cast<log::SqliteStorage*>(&storage);
    auto* postgres = dynamic_cast<log::PostgresStorage*>(&storage);
    if (!sqlite && !postgres) {
      return Fail("node.storage", "the provenance model needs SQLite or PostgreSQL storage");
    }
    if (postgres && dir.empty()) {
      return Fail(
          "node.storage",
          "a provenance ledger on PostgreSQL needs its directory for the registry seal key");
    }
    auto connection = [&]() {
      return sqlite ? log::sql::Connection(sqlite->handle())
                    : log::sql::Connection(postgres->connection().get());
    };
    // The node's start-up check (the ledger has checked its latest checkpoint against the
    // tree): the newest entries against their leaf hashes, then the registry seal below.
    PEDIGREE_TRY(log::CheckTailEntries(storage));
    std::string db_path;
    if (sqlite) {
      const char* file = sqlite3_db_filename(sqlite->handle(), "main");
      db_path = file ? file : "";
    }
    const std::string key_path =
        ((sqlite ? std::filesystem::path(db_path).parent_path() : std::filesystem::path(dir)) /
         kRegistryMacKeyFile)
            .string();
    ProvenanceConfig config{*authority_key, log_key, now, bounds, {}};
    // Being created: an empty log without even the empty tree's checkpoint. A key file
    // found then is a stale one (a ledger.db deleted and created again) and is replaced.
    PEDIGREE_ASSIGN(latest, storage.LatestCheckpoint());
    PEDIGREE_ASSIGN(stored_size, storage.Size());
    const bool creating = *stored_size == 0 && !*latest;
    std::error_code ec;
    const bool have_key = !creating && std::filesystem::exists(key_path, ec);
    if (creating) std::filesystem::remove(key_path, ec);
    if (have_key) {
      PEDIGREE_ASSIGN(key, ReadMacKey(key_path));
      config.registry_mac_key = std::move(*key);
    }
    PEDIGREE_ASSIGN(attached, ProvenanceState::Attach(connection(), config));
    PEDIGREE_ASSIGN(applied, (*attached)->AppliedSize());
    PEDIGREE_ASSIGN(size, storage.Size());
    // Both are written in one transaction, so they can only differ if the file was
    // edited or the tables were dropped behind our back.
    if (*applied != *size && *applied != 0) {
      return Fail("node.state_mismatch", "derived tables reflect " + std::to_string(*applied) +
                                             " entries but the log holds " + std::to_string(*size));
    }
    if (have_key) {
      // The registry decides whose signatures count: refuse to run on one edited behind
      // the log's back.
      PEDIGREE_TRY((*attached)->VerifyRegistry());
    } else {
      // First open since the registry seal exists (or a new ledger): seal the registry, but
      // only once a replay of the log's registry events has reproduced it row for row.
      PEDIGREE_ASSIGN(has_registry, (*attached)->HasRegistry());
      if (*has_registry) {
        if (postgres) {
          // Ledgers on PostgreSQL are sealed from their creation: a missing key is a lost
          // or removed one, and the registry cannot be trusted without it.
          return Fail("state.tampered", "the registry seal key " + key_path +
                                            " is missing for a registry on PostgreSQL");
        }
        DerivedAuditOptions registry;
        registry.tables = RegistryTables();
        registry.registry_only = true;
        registry.idempotency = false;
        PEDIGREE_ASSIGN(audit, AuditDerivedState(storage, db_path, log_key, registry));
        if (!audit->ok()) {
          return Fail("state.tampered",
                      "refusing to seal a registry that differs from the log's registry events: " +
                          audit->problem->message());
        }
      }
      PEDIGREE_ASSIGN(key, CreateMacKey(key_path));
      config.registry_mac_key = std::move(*key);
      attached = ProvenanceState::Attach(connection(), config);
      if (!attached) return std::unexpected(attached.error());
      log::sql::Connection conn = connection();
      PEDIGREE_ASSIGN(tx, log::sql::Transaction::Begin(conn));
      PEDIGREE_TRY((*attached)->SealRegistry());
      PEDIGREE_TRY(tx->Commit());
    }
    state = std::move(*attached);
    ProvenanceState* rules = state.get();
    return log::EntryValidator(
        [rules](uint64_t index, std::string_view entry, const JsonValue* payload) {
          return rules->Apply(index, entry, payload);
        });
  };
  return options;
}

}  // namespace pedigree::provenance
