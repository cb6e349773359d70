// The organisation scopes of the API's routes (docs/api.md, "Access rules"): for each kind of
// object a route names, a ScopeCheck that lets the request through when the caller's
// organisation may see the object and otherwise answers exactly as for an unknown object
// (404 with the object's not_found code, naming what the request named). The router runs
// them before the handler (Access::Scoped). Private to services/.
#pragma once

#include "pedigree/http/http_server.h"
#include "pedigree/usecases/supply_node.h"

namespace pedigree::services::api {

bool IsRegulator(const Principal& p);

// Where the object's identifier is in the request.
enum class NamedBy {
  kPath,       // Path parameters: {gtin}/{serial}, {sscc}, {kit}.
  kQueryCode,  // The `code` query parameter, in any scanner form.
};

// Regulators, and the organisations that had custody of or a part in the pack: an event of
// its history (its own, its batch's, or a container's holding it) signed by them or
// addressed to them ("to"). Recorded scans (verify) and alert handling do not count.
// Not found: pack.not_found.
[[nodiscard]] ScopeCheck PackScope(SupplyNode& node, NamedBy named_by);

// The same rule on a case or pallet's own history. Not found: container.not_found.
[[nodiscard]] ScopeCheck ContainerScope(SupplyNode& node, NamedBy named_by);

// Regulators and the manufacturer of the batch's product ({gtin}/{lot}). Not found:
// batch.not_found.
[[nodiscard]] ScopeCheck BatchScope(SupplyNode& node);

// Regulators, and the organisations an entry ({index}) names as its signer (org) or as a
// counterparty (to, from). Not found: entry.not_found.
[[nodiscard]] ScopeCheck EntryScope(SupplyNode& node);

// Who of a trial ({id}) may use a route.
enum class TrialParties {
  kSponsor,       // Its sponsor (and regulators, where the route's roles admit them).
  kSponsorSites,  // Its sponsor and its sites (and regulators, where admitted).
  // Its sponsor and the organisations it granted access (trial.grant, valid or not: the
  // handler refuses and records a read without a valid grant), and regulators.
  kSponsorGrantees,
};
// Everyone else sees no such trial: trial.not_found.
[[nodiscard]] ScopeCheck TrialScope(SupplyNode& node, TrialParties parties);

// The same for a trial named by the JSON body's `trialId` (kit commands). A body without
// one passes, for the handler to refuse.
[[nodiscard]] ScopeCheck TrialInBodyScope(SupplyNode& node, TrialParties parties);

// A kit ({kit} or `code`) is visible to those who may read its trial. Not found:
// kit.not_found.
[[nodiscard]] ScopeCheck KitScope(SupplyNode& node, NamedBy named_by);

// Whether `org` signed, or was named as counterparty in, the entry at `index` (kinds
// verify and alert.* excepted when `custody_only`).
[[nodiscard]] Result<bool> NamesOrg(SupplyNode& node, uint64_t index, const std::string& org,
                                    bool custody_only);

}  // namespace pedigree::services::api
