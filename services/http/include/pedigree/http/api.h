// The pedigree HTTP API under /v1 (and the GS1 Lightweight Verification path), as
// routes over a SupplyNode. Every endpoint, with an example: docs/api.md.
#pragma once

#include <cstddef>

#include "pedigree/base/error.h"
#include "pedigree/http/http_server.h"
#include "pedigree/usecases/supply_node.h"
#include "pedigree/usecases/trial_store.h"

namespace pedigree::services {

class WitnessClient;

struct ApiOptions {
  // The GLN this node answers GS1 Lightweight Verification requests as (responderGLN).
  std::string responder_gln;
  // The sponsor's off-ledger store of trial records; null = this node holds none, and the
  // endpoints that need it answer 409 trial.no_store. Must outlive the server.
  SponsorStore* sponsor_store = nullptr;
  // Body limit of the dataset upload routes (trial submissions and verification).
  size_t max_dataset_bytes = 256u << 20;
  // The witness client of a node with a witness policy; null = none, and GET
  // /v1/log/checkpoint answers the newest checkpoint. With one, it answers the newest
  // witnessed checkpoint (503 checkpoint.not_witnessed before the first), or with fail-open
  // the newest one and a Pedigree-Witnessed header. Must outlive the server.
  WitnessClient* witness_client = nullptr;
};

// Adds every supply-chain, clinical-trial, report and log route to `router`. `node` must
// outlive the server.
[[nodiscard]] Status AddApiRoutes(Router& router, SupplyNode& node, ApiOptions options = {});

// Adds the clinical-trial and kit routes (docs/api.md, "Clinical trials"). `node` and
// `store` (may be null) must outlive the server; uploads may be up to `max_dataset_bytes`.
[[nodiscard]] Status AddTrialRoutes(Router& router, SupplyNode& node, SponsorStore* store,
                                    size_t max_dataset_bytes = 256u << 20);

// Adds the report routes (GET /v1/reports/pack, /v1/reports/batch/{gtin}/{lot},
// /v1/reports/audit, /v1/bundles/pack) with their per-organisation access rules; called
// by AddApiRoutes. Read-only, except that a pack report signs a checkpoint when none
// covers the pack's newest event. `node` must outlive the server.
[[nodiscard]] Status AddReportRoutes(Router& router, SupplyNode& node);

}  // namespace pedigree::services
