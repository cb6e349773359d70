#include "pedigree/usecases/token_grants.h"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "pedigree/usecases/auth.h"
#include "pedigree/usecases/supply_node.h"

namespace pedigree::services {
namespace {

std::string JoinRoles(const std::set<std::string>& roles) {
  std::string out;
  for (const auto& r : roles) out += (out.empty() ? "" : ",") + r;
  return out.empty() ? "none" : out;
}

}  // namespace

std::set<std::string> GrantedRoles(const std::string& org,
                                   const std::vector<std::string>& registry_roles,
                                   const std::string& operator_org) {
  std::set<std::string> granted(registry_roles.begin(), registry_roles.end());
  // Admin follows the registration: an operator organisation the registry does not know
  // (or no longer lists) administers nothing.
  if (!granted.empty() && !operator_org.empty() && org == operator_org) {
    granted.insert(std::string(kAdminRole));
  }
  return granted;
}

Status CheckTokenGrant(const std::string& org, const std::set<std::string>& roles,
                       const std::vector<std::string>& registry_roles,
                       const std::string& operator_org) {
  if (!IsRegistryOrgId(org)) {
    return Fail(Error("token.invalid_org", "organisation id '" + org +
                                               "' is not a registry id (1-63 characters of "
                                               "a-z, 0-9, '.', '-', not starting with '.')")
                    .at_field("org"));
  }
  if (roles.empty()) {
    return Fail(Error("token.no_roles", "a token needs at least one role").at_field("roles"));
  }
  for (const auto& role : roles) {
    if (!IsKnownRole(role)) {
      return Fail(Error("token.unknown_role", "unknown role '" + role + "'").at_field("roles"));
    }
  }
  if (registry_roles.empty()) {
    return Fail(
        Error("token.unknown_org", "organisation '" + org + "' is not registered on this ledger")
            .at_field("org"));
  }
  const std::set<std::string> granted = GrantedRoles(org, registry_roles, operator_org);
  for (const auto& role : roles) {
    if (granted.contains(role)) continue;
    std::string why = "organisation '" + org + "' does not hold role '" + role +
                      "'; its registered roles are " + JoinRoles(granted);
    if (role == kAdminRole) {
      why += "; admin is node-local and only the operator organisation (" +
             (operator_org.empty() ? std::string("none configured") : operator_org) +
             ") may hold it";
    }
    return Fail(Error("token.role_not_registered", why).at_field("roles"));
  }
  return Ok();
}

GrantedRolesFn RegistryGrants(SupplyNode& node, std::string operator_org) {
  struct Cache {
    std::mutex mutex;
    uint64_t ledger_size = 0;
    std::map<std::string, std::set<std::string>> by_org;
  };
  auto cache = std::make_shared<Cache>();
  return [&node, cache, operator_org = std::move(operator_org)](
             const std::string& org) -> Result<std::set<std::string>> {
    // Read the size before the registry: a registry read that races an append is then
    // filed under the older size and read again on the next request.
    const uint64_t size = node.ledger().size();
    {
      std::lock_guard lock(cache->mutex);
      if (cache->ledger_size != size) {
        cache->by_org.clear();
        cache->ledger_size = size;
      }
      if (auto it = cache->by_org.find(org); it != cache->by_org.end()) return it->second;
    }
    auto roles = node.Read([&](provenance::ProvenanceView& view) { return view.OrgRoles(org); });
    if (!roles) return std::unexpected(roles.error());
    std::set<std::string> granted = GrantedRoles(org, *roles, operator_org);
    std::lock_guard lock(cache->mutex);
    if (cache->ledger_size == size) cache->by_org[org] = granted;
    return granted;
  };
}

}  // namespace pedigree::services
