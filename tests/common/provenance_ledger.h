// Ledger::Create options for a test ledger that runs the provenance model, as a node does.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>

#include "pedigree/ledger/bytes.h"
#include "pedigree/ledger/ledger.h"
#include "pedigree/ledger/provenance.h"
#include "pedigree/ledger/sqlite_storage.h"

namespace pedigree::testing {

// Records `authority`'s public key as the consortium authority and attaches the provenance
// rules, keeping the attached state in `state` and reading the node's clock (unix seconds)
// from `now`. `now` and `state` must outlive every ledger created or opened with the result.
inline ledger::LedgerOptions ProvenanceLedgerOptions(
    const ledger::PrivateKey& authority, const int64_t& now,
    std::unique_ptr<ledger::ProvenanceState>& state) {
  ledger::LedgerOptions options;
  options.initial_meta = {{"authority_key", ToBase64(authority.public_key().raw())}};
  options.attach = [authority_key = authority.public_key(), &now, &state](
                       ledger::LogStorage& storage,
                       const ledger::PublicKey& log_key) -> Result<ledger::EntryValidator> {
    auto& sqlite = dynamic_cast<ledger::SqliteStorage&>(storage);
    ledger::ProvenanceConfig config{authority_key, log_key, [&now] { return now; }};
    auto attached = ledger::ProvenanceState::Attach(sqlite.handle(), std::move(config));
    if (!attached) return std::unexpected(attached.error());
    state = std::move(*attached);
    return ledger::EntryValidator(
        [&state](uint64_t i, std::string_view e) { return state->Apply(i, e); });
  };
  return options;
}

}  // namespace pedigree::testing
