// The pedigree HTTP API under /v1 (and the GS1 Lightweight Verification path), as
// routes over a SupplyNode. Every endpoint, with an example: docs/api.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pedigree/base/canonical_json.h"
#include "pedigree/base/error.h"
#include "pedigree/http/http_server.h"
#include "pedigree/log/ledger.h"
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
  // The image endpoints (POST /v1/scan, POST /v1/verify): decoder threads (0 = one per
  // hardware thread), images that may wait for one (0 = 4 per thread; more are refused
  // 503 image.busy at once), and how long a request waits for its decode (then 503).
  size_t image_decoders = 0;
  size_t image_queue = 0;
  std::chrono::milliseconds image_time_limit{10'000};
  // The witness client of a node with a witness policy; null = none, and GET
  // /v1/log/checkpoint answers the newest checkpoint. With one, it answers the newest
  // witnessed checkpoint (503 checkpoint.not_witnessed before the first), or with fail-open
  // the newest one and a Pedigree-Witnessed header. Must outlive the server.
  WitnessClient* witness_client = nullptr;
};

// Adds every supply-chain, clinical-trial, report and log route to `router`. `node` must
// outlive the server.
[[nodiscard]] Status AddApiRoutes(Router& router, SupplyNode& node, ApiOptions options = {});

// Adds the web app's files (docs/web.md): GET / (the app's page) and GET /app/{file}, all
// public, with a strict Content-Security-Policy. Its sign-in is the server's session
// routes (ServerConfig::sessions). Error: server.config when the build embedded no page.
[[nodiscard]] Status AddWebAppRoutes(Router& router);

// Adds the clinical-trial and kit routes (docs/api.md, "Clinical trials"). `node` and
// `store` (may be null) must outlive the server; uploads may be up to `max_dataset_bytes`.
[[nodiscard]] Status AddTrialRoutes(Router& router, SupplyNode& node, SponsorStore* store,
                                    size_t max_dataset_bytes = 256u << 20);

// Adds the image routes (POST /v1/scan; POST /v1/verify with an image body: docs/api.md,
// "Images"), decoding on a pool of options.image_decoders threads; called by AddApiRoutes.
// `node` must outlive the server.
[[nodiscard]] Status AddImageRoutes(Router& router, SupplyNode& node, const ApiOptions& options);

// Adds the report routes (GET /v1/reports/pack, /v1/reports/batch/{gtin}/{lot},
// /v1/reports/audit, /v1/bundles/pack) with their per-organisation access rules; called
// by AddApiRoutes. Read-only, except that a pack report signs a checkpoint when none
// covers the pack's newest event. `node` must outlive the server.
[[nodiscard]] Status AddReportRoutes(Router& router, SupplyNode& node);

// Adds the EPCIS 2.0 routes (docs/epcis.md): GET /v1/epcis/events?epc=CODE, a pack's, case's
// or pallet's history as an EPCIS 2.0 JSON-LD document, with the pack report's access rules
// (containers: the container report's); the query interface (GET /v1/epcis/events with the
// EPCIS query parameters, /v1/epcis/{epcs,eventTypes,bizSteps,…}/{x}/events, named queries);
// capture (POST /v1/epcis/events, asynchronous POST /v1/epcis/capture jobs and their status).
// Named queries, page-token keys and capture jobs live in memory. Called by AddApiRoutes.
[[nodiscard]] Status AddEpcisRoutes(Router& router, SupplyNode& node);

// The EPCISDocument of the history of the pack, case or pallet named by `code` (any scanner
// form): the entries its pack or container report selects, mapped by
// scanner::epcis::ExportDocument; `creation_time` is the creationDate. Errors as
// GatherPackEvidence / GatherContainerEvidence.
[[nodiscard]] Result<JsonValue> ExportEpcisHistory(log::Ledger& ledger, std::string_view code,
                                                   int64_t creation_time);

}  // namespace pedigree::services
