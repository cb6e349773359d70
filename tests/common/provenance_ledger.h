// Ledger::Create options for a test ledger that runs the provenance model, as a node does.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>

#include "pedigree/base/bytes.h"
#include "pedigree/log/ledger.h"
#include "pedigree/provenance/provenance.h"
#include "pedigree/log/sqlite_storage.h"

namespace pedigree::testing {

// Records `authority`'s public key as the consortium authority and attaches the provenance
// rules, keeping the attached state in `state` and reading the node's clock (unix seconds)
// from `now`. `now` and `state` must outlive every ledger created or opened with the result.
inline log::LedgerOptions ProvenanceLedgerOptions(
    const log::PrivateKey& authority, const int64_t& now,
    std::unique_ptr<provenance::ProvenanceState>& state) {
  log::LedgerOptions options;
  options.initial_meta = {{"authority_key", ToBase64(authority.public_key().raw())}};
  options.attach = [authority_key = authority.public_key(), &now, &state](
                       log::LogStorage& storage,
                       const log::PublicKey& log_key) -> Result<log::EntryValidator> {
    auto& sqlite = dynamic_cast<log::SqliteStorage&>(storage);
    provenance::ProvenanceConfig config{authority_key, log_key, [&now] { return now; }};
    auto attached = provenance::ProvenanceState::Attach(sqlite.handle(), std::move(config));
    if (!attached) return std::unexpected(attached.error());
    state = std::move(*attached);
    return log::EntryValidator(
        [&state](uint64_t i, std::string_view e) { return state->Apply(i, e); });
  };
  return options;
}

}  // namespace pedigree::testing
