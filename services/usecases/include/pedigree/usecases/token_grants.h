// Which roles an organisation's API tokens may carry on this node: the roles the
// consortium authority registered for it (org.register, docs/events.md), plus the
// node-local role `admin` for the node's operator organisation only. Checked when a
// token is issued and again on every request, so a token never outlives the registry.
// See docs/api.md ("Authentication") and docs/threat-model.md.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "pedigree/base/error.h"

namespace pedigree::services {

class SupplyNode;

// The role no registry grants: it administers this node, not the consortium.
inline constexpr std::string_view kAdminRole = "admin";

// The roles `org` may hold given its registry roles (empty = not registered): those
// roles, plus admin when `org` is the non-empty `operator_org` and is registered.
[[nodiscard]] std::set<std::string> GrantedRoles(const std::string& org,
                                                 const std::vector<std::string>& registry_roles,
                                                 const std::string& operator_org);

// Whether a token for `org` with `roles` may be issued. Errors: token.invalid_org (not a
// registry id, see IsRegistryOrgId), token.no_roles, token.unknown_role,
// token.unknown_org (not registered), token.role_not_registered (names the roles the
// organisation holds).
[[nodiscard]] Status CheckTokenGrant(const std::string& org, const std::set<std::string>& roles,
                                     const std::vector<std::string>& registry_roles,
                                     const std::string& operator_org);

// The roles an organisation's tokens may carry now, by organisation.
using GrantedRolesFn = std::function<Result<std::set<std::string>>(const std::string& org)>;

// GrantedRoles over `node`'s registry, read through SupplyNode::Read and cached per
// organisation until the ledger grows (a registry change is a ledger entry), so a request
// normally costs one mutex and a map lookup. Thread-safe; `node` must outlive the result.
[[nodiscard]] GrantedRolesFn RegistryGrants(SupplyNode& node, std::string operator_org);

}  // namespace pedigree::services
