// The end-to-end supply-chain scenario behind `pedigree demo` and the README's main
// command: a consortium with 2 manufacturers, 2 wholesalers and 3 pharmacies, 5 products,
// 10 batches and 10,000 packs, including a recall, a temperature excursion, a cloned
// serial and a diverted pack. See sample_data/README.md.
#pragma once

#include <iosfwd>
#include <memory>
#include <string>

#include "pedigree/base/error.h"
#include "pedigree/log/keys.h"
#include "pedigree/usecases/supply_node.h"

namespace pedigree::services {

// The batch sizes the scenario runs with: at least 4 cases per batch (one for each pharmacy
// and one that stays with the wholesaler), each with room for the packs it dispenses and two
// that stay active for the refusals; at most 10,000 packs per batch (100,000 in all).
inline constexpr size_t kMinPacksPerBatch = 20;
inline constexpr size_t kMaxPacksPerBatch = 10000;

struct DemoOptions {
  std::string dir = "demo";
  size_t packs_per_batch = 1000;  // 10 batches; kMinPacksPerBatch..kMaxPacksPerBatch
  size_t dispenses_per_pharmacy = 40;
};

// Runs the scenario on a fresh ledger in `options.dir` (which must not hold one) and
// narrates it to `out`; the ledger stays for reports. Refuses packs_per_batch outside
// kMinPacksPerBatch..kMaxPacksPerBatch (cli.usage); fails on the first step that does not
// behave as the scenario expects.
[[nodiscard]] Status RunDemo(const DemoOptions& options, std::ostream& out);

// The pieces RunDemo is made of, for `pedigree demo --network`, which serves the node over
// HTTP to witnesses and a monitor while the scenario runs on it.
struct DemoLedger {
  log::PrivateKey authority;         // the consortium authority, saved in dir/authority-key.pem
  std::unique_ptr<SupplyNode> node;  // a fresh ledger in dir/ledger
};
// Creates the authority key and the ledger in `options.dir` as RunDemo does (same checks).
[[nodiscard]] Result<DemoLedger> CreateDemoLedger(const DemoOptions& options, std::ostream& out);
// What the scenario leaves for later steps: a pack with a full history (commissioned,
// shipped, dispensed, undone; active again) and the organisation that made it.
struct DemoOutcome {
  std::string pack_code;  // GS1 element string "(01)GTIN(21)SERIAL"
  std::string pack_maker;
};
// Runs the scenario on `ledger` and narrates it to `out`.
[[nodiscard]] Result<DemoOutcome> RunScenario(DemoLedger& ledger, const DemoOptions& options,
                                              std::ostream& out);

}  // namespace pedigree::services
