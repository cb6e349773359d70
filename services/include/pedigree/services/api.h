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

}  // namespace pedigree::services
