#include "pedigree/provenance/provenance_ledger.h"

#include "pedigree/base/bytes.h"
#include "pedigree/log/sqlite_storage.h"

namespace pedigree::provenance {

log::LedgerOptions ProvenanceLedgerOptions(std::unique_ptr<ProvenanceState>& state,
                                           std::function<int64_t()> now,
                                           std::optional<log::PublicKey> authority,
                                           TimeBounds bounds) {
  log::LedgerOptions options;
  options.clock = now;
  options.model = kModelName;
  if (authority) options.initial_meta = {{kAuthorityKeyMeta, ToBase64(authority->raw())}};
  options.attach = [&state, now = std::move(now), bounds](
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
    // The derived tables live in the ledger's own file, written in the append's transaction.
    auto* sqlite = dynamic_cast<log::SqliteStorage*>(&storage);
    if (!sqlite) return Fail("node.storage", "the provenance model needs SQLite storage");
    PEDIGREE_ASSIGN(attached, ProvenanceState::Attach(sqlite->handle(),
                                                      {*authority_key, log_key, now, bounds}));
    PEDIGREE_ASSIGN(applied, (*attached)->AppliedSize());
    PEDIGREE_ASSIGN(size, storage.Size());
    // Both are written in one transaction, so they can only differ if the file was
    // edited or the tables were dropped behind our back.
    if (*applied != *size && *applied != 0) {
      return Fail("node.state_mismatch", "derived tables reflect " + std::to_string(*applied) +
                                             " entries but the log holds " + std::to_string(*size));
    }
    state = std::move(*attached);
    ProvenanceState* rules = state.get();
    return log::EntryValidator(
        [rules](uint64_t index, std::string_view entry) { return rules->Apply(index, entry); });
  };
  return options;
}

}  // namespace pedigree::provenance
