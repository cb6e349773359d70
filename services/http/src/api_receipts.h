// The participant's receipt check (docs/consent.md, "Checking a receipt in the browser").
// Private to services/http; defined in api_trials.cpp beside the receipt route.
#pragma once

#include "pedigree/base/error.h"
#include "pedigree/http/http_server.h"
#include "pedigree/usecases/supply_node.h"

namespace pedigree::services {

class WitnessClient;

// Adds POST /v1/receipts/verify: public, it runs the offline receipt verifier
// (reports::VerifyReceipt, as `pedigree trial verify-receipt`) against this node's trust — its
// log key, the registry's authority key and, with `witnesses`, their policy — on the expensive
// pool. Called by AddApiRoutes; `node` and `witnesses` (may be null) must outlive the server.
[[nodiscard]] Status AddReceiptRoutes(Router& router, SupplyNode& node,
                                      const WitnessClient* witnesses);

}  // namespace pedigree::services
