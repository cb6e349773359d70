// The clinical-trial part of `pedigree demo`: a synthetic study registered, its protocol
// sealed, subjects enrolled, site data submitted, corrected, locked and sealed, then
// verified, disclosed, checked for outcome switching and partly redacted, and IP kits
// received, quarantined, released and dispensed. Records stay in DIR/sponsor-store.sqlite.
#pragma once

#include <iosfwd>
#include <string>

#include "pedigree/log/keys.h"
#include "pedigree/usecases/supply_node.h"

namespace pedigree::services {

[[nodiscard]] Status RunTrialDemo(SupplyNode& node, const log::PrivateKey& authority,
                                  const std::string& dir, std::ostream& out);

}  // namespace pedigree::services
