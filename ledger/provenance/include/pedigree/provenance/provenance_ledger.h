// The provenance model on a log::Ledger: the one place that attaches ProvenanceState to a
// ledger's SQLite connection and hands its rules to the ledger's sequencer.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "pedigree/log/keys.h"
#include "pedigree/log/ledger.h"
#include "pedigree/provenance/provenance.h"

namespace pedigree::provenance {

// The model a provenance ledger records when it is created (log::LedgerOptions::model).
inline constexpr const char* kModelName = "provenance/v1";
// The ledger metadata key holding the consortium authority's public key (raw, base64).
inline constexpr const char* kAuthorityKeyMeta = "authority_key";
// The file in the ledger directory holding the registry seal's secret key (hex, mode 0600),
// outside the database (docs/threat-model.md, "An insider with the database").
inline constexpr const char* kRegistryMacKeyFile = "registry-mac.key";

// Options for log::Ledger::Create and Open that run the provenance model. Create records the
// model and, when given, `authority` as the consortium authority key. On Create and Open the
// model is attached to the ledger's SQLite connection with the authority key read back from
// the ledger's metadata, the log key as the node key that signs alerts, and `now` as the
// node's clock (unix seconds), which is also the log's sequencing clock, and `bounds` for
// the skew allowed between an event's claimed time and its sequencing time; every entry
// then passes ProvenanceState::Apply inside its
// commit. The attached state is put in `state`, which must outlive the ledger (its sequencer
// calls into it). Opening fails with node.not_supply_chain when the ledger records no model
// or another one, node.storage when its storage is not SQLite, and node.state_mismatch when
// the derived tables reflect some entries but not as many as the log holds. The registry
// rows are sealed with a MAC under the key in kRegistryMacKeyFile: Open refuses with
// state.tampered when a row, or the authority key, does not match its MAC; a ledger without
// the key file (created before the seal) is sealed on its first open, after a replay of
// its registry events has reproduced the registry (state.tampered otherwise).
//
// On PostgreSQL (`storage`, a connection string, becomes LedgerOptions::storage) the
// derived tables live in that database, written on the storage's own connection inside
// each append's transaction, and the registry seal's key file is kept in `dir`, the
// ledger directory (required then: node.storage otherwise).
[[nodiscard]] log::LedgerOptions ProvenanceLedgerOptions(
    std::unique_ptr<ProvenanceState>& state, std::function<int64_t()> now,
    std::optional<log::PublicKey> authority = std::nullopt, TimeBounds bounds = {},
    std::string storage = {}, std::string dir = {});

}  // namespace pedigree::provenance
