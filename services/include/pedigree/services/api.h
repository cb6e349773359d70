// The pedigree HTTP API under /v1 (and the GS1 Lightweight Verification path), as
// routes over a SupplyNode. Every endpoint, with an example: docs/api.md.
#pragma once

#include "pedigree/ledger/error.h"
#include "pedigree/services/http_server.h"
#include "pedigree/services/supply_node.h"

namespace pedigree::services {

struct ApiOptions {
  // The GLN this node answers GS1 Lightweight Verification requests as (responderGLN).
  std::string responder_gln;
};

// Adds every supply-chain and log route to `router`. `node` must outlive the server.
[[nodiscard]] Status AddApiRoutes(Router& router, SupplyNode& node, ApiOptions options = {});

// Adds the report routes (GET /v1/reports/pack, /v1/reports/batch/{gtin}/{lot},
// /v1/reports/audit, /v1/bundles/pack) with their per-organisation access rules; called
// by AddApiRoutes. Read-only, except that a pack report signs a checkpoint when none
// covers the pack's newest event. `node` must outlive the server.
[[nodiscard]] Status AddReportRoutes(Router& router, SupplyNode& node);

}  // namespace pedigree::services
